"""How the provider holds its database connections.

PostgreSQL connections are pooled and checked for liveness only when they come back from a rest
of ``IDLE_PING_SECONDS`` or more, instead of SQLAlchemy's ``pool_pre_ping`` on every checkout:
that ping is a round trip per request, about a fifth of a token request's time
(docs/performance.md). A connection that is in use all the time is known to be alive; one that
breaks while busy (a database restart) makes SQLAlchemy invalidate the whole pool, so only the
requests in flight at that moment fail. ``pool_recycle`` bounds a connection's age below the idle
timeouts of firewalls and poolers.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection

from idp.observability import metrics

#: A pooled connection idle at least this long is pinged before use.
IDLE_PING_SECONDS = 10.0
RECYCLE_SECONDS = 1800
_IDLE_SINCE = "yihao_idle_since"


def engine_options(uri: str) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for a database URI."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 10, "max_overflow": 10, "pool_recycle": RECYCLE_SECONDS}


@event.listens_for(Pool, "checkin")
def _rest(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_after_rest(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.pop(_IDLE_SINCE, None)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:  # any failure here means this connection is unusable
        # The pool discards the connection and retries the checkout with a fresh one.
        raise DisconnectionError("pooled connection failed its liveness check") from exc


# After the liveness check: a connection that fails it is replaced and only the one handed out
# is counted.
@event.listens_for(Pool, "checkout")
def _count_checkout(_dbapi: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
    metrics.pool_checked_out(1)


@event.listens_for(Pool, "checkin")
def _count_checkin(_dbapi: Any, _record: ConnectionPoolEntry) -> None:
    metrics.pool_checked_out(-1)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
