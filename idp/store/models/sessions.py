"""Server-side login sessions (``idp.sessions.table``) and the back-channel logout queue."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db


class SessionRow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "login_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id"), nullable=True, index=True
    )
    auth_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer)
    last_seen: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    device: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class LogoutDelivery(db.Model):  # type: ignore[name-defined,misc]
    """A logout token waiting to be POSTed to a client's ``backchannel_logout_uri``."""

    __tablename__ = "logout_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(String(500))
    token: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a worker may next try it; a worker claims a row by moving this forward.
    next_attempt_at: Mapped[int] = mapped_column(Integer, index=True)
    delivered_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    given_up_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer)
