"""Pooled PostgreSQL connections are pinged only after a rest (idp/store/engine.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from idp.app import database_uri
from idp.store import engine as pool_rules
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


def test_a_busy_connection_is_not_pinged_and_a_failure_resets_the_pool(engine: Engine) -> None:
    first = _backend_pid(engine)
    _terminate(first)
    # Checked in a moment ago: no ping, so the dead connection is only found by the query.
    with pytest.raises(OperationalError):
        _backend_pid(engine)
    assert _backend_pid(engine) != first
