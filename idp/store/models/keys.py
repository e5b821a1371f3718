"""Signing keys of the ring; private halves are stored encrypted like personal data.

A key is active (``retired_at`` unset), retired (still published until what it signed expires)
or withdrawn (``withdrawn_at``: compromised, gone from the JWKS, its tokens refused).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
