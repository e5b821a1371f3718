"""Every release of personal data to a client, so the citizen can see who used what, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class Release(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), nullable=True)
    #: Set when an agent acted for the enterprise under a mandate, so the enterprise sees who.
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("mandates.id"), nullable=True)
    client_id: Mapped[str] = mapped_column(String(64))
    claims: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    released_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
