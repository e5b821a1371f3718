"""The one Flask-SQLAlchemy handle every model and query goes through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CursorResult, Delete, MetaData, Result, Update, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

# Deterministic constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every stored timestamp is naive UTC everywhere."""
    return datetime.now(UTC).replace(tzinfo=None)


def claim(
    statement: Update | Delete, params: dict[str, Any] | None = None, commit: bool = True
) -> bool:
    """Run a conditional UPDATE (or DELETE); True when it changed exactly one row.

    This is the one atomic "first one wins" primitive (single-use codes, refresh rotation): the
    database, not the application, decides which of two racing requests gets the row. With
    ``commit=False`` the claim commits with what the caller writes next (a refresh token is spent
    in the transaction that stores its successor); until then the row stays locked, so a racing
    request waits and then loses.
    """
    result = cast(CursorResult[Any], db.session.execute(statement, params))
    if commit:
        db.session.commit()
    return result.rowcount == 1


def autocommit_single_statement() -> None:
    """Let the session's next statement run as its own transaction, when nothing came before it.

    For requests whose whole database work is one statement (a client-credentials token's INSERT,
    an introspection's SELECT): the driver's BEGIN and the COMMIT or ROLLBACK after it are two
    extra round trips, about a sixth of such a request (docs/performance.md). Never use it before
    statements that must commit together. The pool restores the isolation level on check-in.
    """
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def connection_lost(exc: BaseException) -> bool:
    """Whether a statement failed because its connection died (``pg_terminate_backend``, a
    database restart), not because of what it asked: SQLAlchemy's dialect said "disconnect" and
    has already invalidated the connection and the pool, so the next checkout connects afresh."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@event.listens_for(Session, "do_orm_execute")
def _retry_opening_read(state: ORMExecuteState) -> Result[Any] | None:
    """Run a read once more on a fresh connection when its connection died and it opened the
    session's transaction, with nothing pending to flush.

    Then nothing of this transaction existed yet: rolling back loses no write, and the read on a
    new connection sees what it would have seen a moment later. Anything else is not retried:
    a write, or a read after one, may have taken effect (an autocommitted INSERT whose answer
    was lost) or belongs to a transaction that is gone with its connection, so that request
    answers 503 (``idp.web.errors``). Core statements on ``db.engine`` pass by this hook.
    """
    session = state.session
    pending = session.new or session.dirty or session.deleted
    if not state.is_select or session.in_transaction() or pending:
        return None
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        if not connection_lost(exc):
            raise
        session.rollback()
        return state.invoke_statement()
