"""One-time codes that prove a citizen holds the registry's mobile number or a counter's
activation code (``idp.auth.one_time_codes``), and the development SMS outbox.

A code is stored only as a keyed digest, bound to its purpose, channel and subject, so a copy of
the table opens no account. Its rows also count SMS sends per number and per address (against SMS
bombing) until ``idp db purge`` deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class OneTimeCode(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "one_time_codes"
    __table_args__ = (
        Index("ix_one_time_codes_subject", "subject_index", "purpose", "channel"),
        Index("ix_one_time_codes_address", "address_index", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "register" or "reset": a code made for one is refused by the other.
    purpose: Mapped[str] = mapped_column(String(16))
    #: "sms" (sent to the registry mobile) or "counter" (an activation code a clerk printed).
    channel: Mapped[str] = mapped_column(String(16))
    #: The person index of the identity number (``persons.number_index``'s HMAC).
    subject_index: Mapped[str] = mapped_column(String(64))
    #: HMAC of the requesting address, for SMS sends (the per-address limit); NULL otherwise.
    address_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SmsOutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """Development and testing only: the text an SMS gateway would have sent (production refuses
    to start without a gateway). The number is kept masked plus a keyed index, to find it."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile_index: Mapped[str] = mapped_column(String(64), index=True)
    mobile_masked: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
