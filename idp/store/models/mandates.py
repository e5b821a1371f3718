"""Mandates (委托): an enterprise's legal representative lets another person act for it.

A mandate names Person rows, never numbers or names: the agent was identified by number and name
when it was granted (``idp.oauth.delegation``), and their personal data stays where it already is,
encrypted on the person row. ``public_id`` is what tokens carry in their ``mandate`` claim, so a
relying service never learns how many mandates exist.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.store.db import db, utcnow
from idp.store.models.subjects import Enterprise, Person


class Mandate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: secrets.token_hex(16)
    )
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    #: Space-separated scopes the agent may use for the enterprise, ``openid`` and
    #: ``enterprise`` included.
    scopes: Mapped[str] = mapped_column(String(500))
    #: Space-separated client ids the mandate covers; None: every service.
    client_ids: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_until: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)

    enterprise: Mapped[Enterprise] = relationship()
    agent: Mapped[Person] = relationship(foreign_keys=[agent_id])
    granted_by: Mapped[Person] = relationship(foreign_keys=[granted_by_id])

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def client_set(self) -> frozenset[str] | None:
        """The services covered, or None for all of them."""
        return frozenset(self.client_ids.split()) if self.client_ids is not None else None

    def is_live(self, now: datetime) -> bool:
        return self.withdrawn_at is None and self.valid_until > now

    def covers(self, client_id: str, scopes: frozenset[str], now: datetime) -> bool:
        """Live for this client and every one of ``scopes``."""
        clients = self.client_set
        return (
            self.is_live(now)
            and (clients is None or client_id in clients)
            and scopes <= self.scope_set
        )
