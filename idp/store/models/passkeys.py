"""Passkeys: WebAuthn public-key credentials a person registered (``idp.auth.webauthn``).

Only public material is kept: the credential id the authenticator chose, its COSE public key, the
signature counter and what the account page shows. Nothing here opens an account without the
private key, which never leaves the authenticator.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class Passkey(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    #: WebAuthn Level 3 5.1 ``rawId``: at most 1023 bytes (6.1), unique across the provider.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    #: The credential public key as a COSE_Key (WebAuthn 6.5.1), as the authenticator sent it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: WebAuthn 6.1.1: 0 when the authenticator keeps no counter (most synced passkeys).
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    #: ``AuthenticatorTransport`` values, space-separated ("internal hybrid"), hints for sign-in.
    transports: Mapped[str] = mapped_column(String(100), default="")
    aaguid: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
