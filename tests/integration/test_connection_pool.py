"""Pooled connections: replaced when the server ended them, pinged only after a rest
(idp/store/engine.py), and autocommit only for a request's single statement (idp/store/db.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from idp.app import database_uri
from idp.store import engine as pool_rules
from idp.store.db import autocommit_single_statement, db
from tests.conftest import PG_ADMIN


@pytest.fixture
def engine() -> Iterator[Engine]:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}")
    uri = database_uri(PG_ADMIN)
    built = create_engine(uri, **{**pool_rules.engine_options(uri), "pool_size": 1})
    yield built
    built.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_that_died_while_resting_is_replaced_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    _terminate(first)
    monkeypatch.setattr(pool_rules, "IDLE_PING_SECONDS", 0.0)
    assert _backend_pid(engine) != first


def _last_statement_at(pid: int) -> object:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        found = admin.execute(
            "SELECT query_start FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    assert found is not None
    return found[0]


def test_a_busy_connection_is_handed_out_without_a_round_trip(engine: Engine) -> None:
    pid = _backend_pid(engine)
    before = _last_statement_at(pid)
    with engine.connect() as connection:  # checked in a moment ago: no ping
        assert _last_statement_at(pid) == before
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid


def test_a_busy_connection_the_server_ended_is_replaced_at_checkout(engine: Engine) -> None:
    first = _backend_pid(engine)
    _terminate(first)
    time.sleep(0.2)  # until the server's goodbye is on the socket
    assert _backend_pid(engine) != first  # found by the socket's state, not by a failed query


def test_a_connection_that_breaks_in_use_resets_the_pool(engine: Engine) -> None:
    with engine.connect() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(first)
        with pytest.raises(OperationalError) as failed:
            connection.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
    assert _backend_pid(engine) != first


def _autocommits() -> bool:
    """Whether the session's current DBAPI connection commits each statement by itself."""
    dbapi = db.session.connection().connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return dbapi.isolation_level is None
    return bool(dbapi.autocommit)


def test_autocommit_applies_only_to_a_transaction_not_yet_begun(ctx: Flask) -> None:
    db.session.execute(text("SELECT 1"))
    autocommit_single_statement()  # too late: a statement already ran in this transaction
    assert not _autocommits()
    db.session.rollback()

    autocommit_single_statement()
    assert _autocommits()
    db.session.commit()
    # The pool restored the connection: the next transaction is an ordinary one.
    assert not _autocommits()
