"""Pushed authorization requests (RFC 9126): what a client sent to ``POST /par``, waiting for
the browser to bring its ``request_uri`` to ``/authorize``.

Only a digest of the ``request_uri``'s random part is the key, so a copy of the table opens no
sign-in; the row is deleted by the one ``/authorize`` that uses it (``idp.oauth.rfc9126``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db


class PushedRequest(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "pushed_authorization_requests"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    #: The authorization request's parameters as the client pushed them, already checked.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Epoch seconds, as on authorization codes.
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
