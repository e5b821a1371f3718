"""How the provider holds its database connections.

SQLAlchemy's "pessimistic" disconnect handling, done without its cost: ``pool_pre_ping`` sends a
round trip on every checkout, about a fifth of a token request's time (docs/performance.md).
Instead every checkout first asks the kernel whether the idle connection's socket has anything to
read: an idle PostgreSQL connection has nothing to say, so readable means the server ended it
(``pg_terminate_backend``, a restart, an idle timeout: the server sends its FATAL message and
closes) and the pool replaces it before the request sees it, at the cost of one ``poll``. A
connection that died silently (a dropped network path) shows nothing, so one that comes back from
a rest of ``IDLE_PING_SECONDS`` or more is also pinged with ``SELECT 1``. A connection that breaks
while in use is a disconnect to SQLAlchemy (psycopg marks it ``broken``): it invalidates the whole
pool, so only the requests in flight fail, and those answer 503 (``idp.web.errors``).
``pool_recycle`` bounds a connection's age below the idle timeouts of firewalls and poolers; each
connection names its process (``application_name``) so an operator sees, and may end, a worker's
backends in ``pg_stat_activity``.
"""

from __future__ import annotations

import os
import select
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
#: ``application_name`` of every connection of a process: this prefix, a dash, the process id.
APPLICATION_NAME = "idp"


def engine_options(uri: str) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for a database URI."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_size": 10,
        "max_overflow": 10,
        "pool_recycle": RECYCLE_SECONDS,
        "connect_args": {"application_name": application_name()},
    }


def application_name() -> str:
    """What this process's connections are called in ``pg_stat_activity``."""
    return f"{APPLICATION_NAME}-{os.getpid()}"


@event.listens_for(Pool, "checkin")
def _rest(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_after_rest(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.pop(_IDLE_SINCE, None)
    if _closed_by_server(dbapi_connection):
        raise DisconnectionError("the server ended this pooled connection")
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


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket is readable: its server's goodbye (or EOF) is waiting.
    SQLite connections have no socket and are never closed by anyone else."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False
    try:
        waiting = select.poll()
        waiting.register(fileno(), select.POLLIN)
        return bool(waiting.poll(0))
    except Exception:  # psycopg refuses fileno() once the connection is closed
        return True


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
