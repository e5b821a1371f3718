"""Operators' roles, the record of what operators did, and the security events auditors read.

An operator is a person (they sign in like anyone, with a second factor) who holds one or more
roles; a machine caller is a client whose client-credentials token carries admin scopes. Neither
record ever holds a full identity number: targets are masked numbers, client ids or public ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class OperatorRole(db.Model):  # type: ignore[name-defined,misc]
    """One role (``idp.admin.roles.Role``) held by one person."""

    __tablename__ = "operator_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: who granted it, as an admin action names its actor ("cli", a client id, a public id)
    granted_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("person_id", "role"),)


class AdminAction(db.Model):  # type: ignore[name-defined,misc]
    """One change an operator made, with the state before and after for an edit."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: "person" (an operator's session), "client" (an admin-scoped token) or "cli" (the shell)
    actor_kind: Mapped[str] = mapped_column(String(16))
    #: the operator's masked number, the client id, or the shell user
    actor: Mapped[str] = mapped_column(String(200))
    #: e.g. "client.register", "person.reset_factors", "certificate.revoke"
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: "client", "person", "enterprise", "certificate", "key", "registry_import", ...
    target_type: Mapped[str] = mapped_column(String(32))
    #: a client id, masked number, certificate identifier, key id; never a full identity number
    target: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SecurityEventRow(db.Model):  # type: ignore[name-defined,misc]
    """Every ``idp.auth.events.security_event``, kept for auditors (the log line is for the
    log pipeline, this for the admin API's audit views)."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), nullable=True
    )
    address_masked: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_security_events_person_at", "person_id", "at"),)
