"""Throttling counters (``idp.throttle``, the database backend) and each person's sign-in history.

Times are whole milliseconds since the epoch rather than timestamps, so that one
``INSERT ... ON CONFLICT DO UPDATE`` can compare and add them the same way on SQLite and
PostgreSQL without date arithmetic of either dialect.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class ThrottleCounter(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "throttle_counters"

    #: "account:<number index>", "pair:<number index>:<address digest>", "address:<digest>".
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class SignInEntry(db.Model):  # type: ignore[name-defined,misc]
    """One sign-in, failed attempt or refusal attributed to a person, for their account page."""

    __tablename__ = "sign_in_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: "password", "passkey", ... (the ``method`` detail of the security event)
    method: Mapped[str] = mapped_column(String(24))
    #: the security event: signed_in, sign_in_failed, throttled
    result: Mapped[str] = mapped_column(String(24))
    address_masked: Mapped[str] = mapped_column(String(64))
    #: keyed digest of the address (``idp.throttle.keys``): "has this account signed in from here"
    address_digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_sign_in_history_person_at", "person_id", "at"),)
