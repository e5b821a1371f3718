"""One-time values: the ``jti`` of client assertions, request objects and DPoP proofs seen
recently (``idp.store.replay.spend_once``), and issuance nonces handed out (``c_nonce:``,
``idp.credentials.openid4vci``); a shared table so every node agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db


class SeenValue(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "seen_values"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
