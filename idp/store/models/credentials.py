"""Issued e-certificates (电子证照), the keys that sign them, and the status lists that revoke them.

A ``Certificate`` is one version of one registry record in certificate form, named by its
GB/T 36904 identifier and carrying the GB/T 36903 core metadata. Every QR credential issued for it
(any purpose profile, any holder key) points at the certificate's one bit in a status list, so
revoking the certificate revokes all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class IssuerKey(db.Model):  # type: ignore[name-defined,misc]
    """A signing key (P-256) and its X.509 certificate under the root.

    ``purpose`` says which profile the certificate has: ``issuer`` signs credentials and status
    lists, ``trust_list`` signs the trust list (idp.keys.issuer.PURPOSES).
    """

    __tablename__ = "credential_issuer_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), server_default="issuer", index=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)  # hex of SHA-256(cert DER)[:8]
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)


class KeyRequest(db.Model):  # type: ignore[name-defined,misc]
    """A key waiting for the offline root to certify it (`idp certs request` / `install`).

    At most one per purpose: a new request replaces the pending one, whose certificate, if the
    root signs it after all, no longer matches anything and is refused at install.
    """

    __tablename__ = "credential_key_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), unique=True)
    private_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustListVersion(db.Model):  # type: ignore[name-defined,misc]
    """Every distinct trust list content, numbered: the sequence verifiers require to grow.

    The sequence is the primary key, so two nodes publishing a change at once cannot both take
    the next number; the loser re-reads and signs the winner's number for the same content.
    """

    __tablename__ = "trust_list_versions"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the canonical content
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusList(db.Model):  # type: ignore[name-defined,misc]
    """One Token Status List (1 bit per entry); a new list is opened when one fills up."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: At most one live certificate per record version. Revoked ones stay (the record of who revoked
#: what), and after a holder's own revocation (a lost phone) the next request makes a fresh one.
_LIVE = text("revoked_at IS NULL")


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index", name="uq_certificates_status_entry"),
        Index(
            "uq_certificates_live_record_version",
            "record_id",
            "version",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the GB/T 36904 serial
    credential_type: Mapped[int] = mapped_column("type", Integer)  # CredentialType
    record_id: Mapped[int] = mapped_column(ForeignKey("registry_records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the record version it was made from
    identifier: Mapped[str] = mapped_column(String(96), unique=True)
    holder_index: Mapped[str] = mapped_column(String(64), index=True)
    holder_masked: Mapped[str] = mapped_column(String(40))
    holder_code_type: Mapped[str] = mapped_column(String(16))  # resident_id | uscc
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(nullable=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Who revoked it (``idp.credentials.status.Revoker``): operator, client, holder or system,
    #: and which one (the operator's login, the client_id, the person's public id).
    revoked_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    revoked_by_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
