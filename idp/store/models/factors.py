"""Second factors: a person's TOTP secret (RFC 6238) and their one-time recovery codes.

The secret is AES-256-GCM ciphertext (``totp_factors.secret``, ``idp.store.crypto``): whoever reads
it can make codes. ``last_step`` is the highest time step a code was accepted for, moved forward by
one conditional UPDATE, so a code is good once on every node. Recovery codes are stored only as
keyed digests (``recovery_codes.digest``), like tokens: a database dump hands out none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class TotpFactor(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: One authenticator per person: an enrolment in progress replaces the unconfirmed one.
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set by the first valid code; until then the factor is an enrolment and protects nothing.
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
