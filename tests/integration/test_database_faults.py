"""PostgreSQL ending the provider's connections (``pg_terminate_backend``, as an operator, a
failover or a restart does): idle ones are replaced before use (idp/store/engine.py), a request
whose connection dies under it answers 503 with ``Retry-After`` (idp/web/errors.py), never 500,
and the provider recovers by itself. PostgreSQL only: SQLite has no connections to end."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import DBAPIError

from idp.store import engine as pool_rules
from idp.store.crypto import token_digest
from idp.store.db import connection_lost, db
from idp.store.models import Token
from tests.conftest import PG_ADMIN, RegisteredClient, make_client
from tests.integration.test_metrics import scrape
from tests.support.metrics import moved
from tests.support.oidc import client_auth

#: How long a terminated backend may take to leave ``pg_stat_activity``.
GONE_TIMEOUT = 5.0
#: The concurrent run: threads x requests each, and the pause between two rounds of terminations.
THREADS = 4
REQUESTS_EACH = 75
TERMINATE_EVERY = 0.05

T = TypeVar("T")


@pytest.fixture()
def pg_app(app: Flask, database_url: str) -> Flask:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to end connections")
    return app


@pytest.fixture()
def machine(pg_app: Flask) -> RegisteredClient:
    return make_client(pg_app, grant_types=["client_credentials"], scope="")


def _database(app: Flask) -> str:
    with app.app_context():
        return str(db.engine.url.database)


def _terminate(app: Flask, pid: int | None = None) -> list[int]:
    """End this process's backends on the app's database (or just ``pid``) from a connection of
    its own, and wait until they are gone, so their goodbye is on the socket; their pids."""
    query = (
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = %s AND datname = %s AND pid <> pg_backend_pid()"
    )
    params: tuple[Any, ...] = (pool_rules.application_name(), _database(app))
    if pid is not None:
        query, params = query + " AND pid = %s", (*params, pid)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        ended = [int(row[0]) for row in admin.execute(query, params)]
        deadline = time.monotonic() + GONE_TIMEOUT
        while ended and time.monotonic() < deadline:
            left = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (ended,)
            ).fetchone()
            if left is not None and left[0] == 0:
                break
            time.sleep(0.01)
    return ended


def _grant(app: Flask, rp: RegisteredClient) -> Any:
    return app.test_client().post(
        "/token", data={"grant_type": "client_credentials"}, auth=client_auth(rp)
    )


@contextmanager
def _ending_connection_before(app: Flask, prefix: str) -> Iterator[None]:
    """While the block runs, the connection about to send the first statement starting with
    ``prefix`` is ended: that statement goes out on a connection the server has just closed."""
    ended: list[int] = []

    def end_it(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not ended and statement.lstrip().upper().startswith(prefix):
            ended.extend(_terminate(app, conn.connection.dbapi_connection.info.backend_pid))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", end_it)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", end_it)
    assert ended, f"no statement starting with {prefix} was sent"


def test_idle_connections_the_server_ended_are_replaced_before_use(
    pg_app: Flask, machine: RegisteredClient
) -> None:
    # Fill the pool with several connections, all idle now and only just checked in.
    _concurrently(lambda: _grant(pg_app, machine).status_code, threads=THREADS, each=3)
    assert _terminate(pg_app), "the app holds no connections to end"
    answers = [_grant(pg_app, machine) for _ in range(THREADS * 2)]
    assert [a.status_code for a in answers] == [200] * len(answers), answers[0].get_json()


@pytest.mark.parametrize(
    ("path", "statement"),
    [("/token", "INSERT INTO TOKENS"), ("/introspect", "SELECT")],
)
def test_a_connection_ended_during_a_request_is_a_503_with_retry_after(
    pg_app: Flask,
    machine: RegisteredClient,
    path: str,
    statement: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = _grant(pg_app, machine).get_json()["access_token"]
    data = {"grant_type": "client_credentials"} if path == "/token" else {"token": token}
    before = scrape(pg_app)
    with _ending_connection_before(pg_app, statement):
        answer = pg_app.test_client().post(path, data=data, auth=client_auth(machine))
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json()["error"] == "temporarily_unavailable"
    endpoint = "oidc.token" if path == "/token" else "oidc.introspect"
    assert moved(before, scrape(pg_app), "idp_db_connections_lost_total", endpoint=endpoint) == 1
    lines = [r.getMessage() for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lines) == 1 and endpoint in lines[0] and machine.client_id not in lines[0]
    # Recovered by itself: the same request on the next connection.
    again = pg_app.test_client().post(path, data=data, auth=client_auth(machine))
    assert again.status_code == 200, again.get_data(as_text=True)


def test_repeated_terminations_under_load_give_200_or_503_and_no_half_written_tokens(
    pg_app: Flask, machine: RegisteredClient
) -> None:
    stop = threading.Event()
    rounds = [0]

    def terminator() -> None:
        while not stop.is_set():
            rounds[0] += bool(_terminate(pg_app))
            time.sleep(TERMINATE_EVERY)

    ending = threading.Thread(target=terminator)
    ending.start()
    try:
        answers = _concurrently(lambda: _answer(pg_app, machine), THREADS, REQUESTS_EACH)
    finally:
        stop.set()
        ending.join()
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert rounds[0] > 5, "the connections were hardly ever ended"
    assert _grant(pg_app, machine).status_code == 200  # serving at the end, without a restart
    issued = [token for status, token in answers if status == 200]
    with pg_app.app_context():
        found = Counter(
            db.session.scalars(
                select(Token.access_digest).where(
                    Token.access_digest.in_([token_digest(t) for t in issued])
                )
            )
        )
        stored = db.session.scalar(
            select(func.count()).select_from(Token).where(Token.client_id == machine.client_id)
        )
    # Every token a client was given exists exactly once; a 503 may have stored one nobody holds.
    assert len(issued) == len(set(issued)) and set(found.values()) == {1}
    assert len(found) == len(issued)
    assert stored is not None and len(issued) + 1 <= stored <= len(answers) + 1


def _answer(app: Flask, rp: RegisteredClient) -> tuple[int, str | None]:
    answer = _grant(app, rp)
    body = answer.get_json(silent=True) or {}
    if answer.status_code == 503:
        assert answer.headers["Retry-After"] == "1"
    return answer.status_code, body.get("access_token")


def _concurrently(call: Callable[[], T], threads: int, each: int) -> list[T]:
    """``call`` ``each`` times in ``threads`` threads; what a thread raised fails the test."""
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(each):
                result = call()
                with lock:
                    results.append(result)
        except BaseException as exc:  # re-raised below, in the test's own thread
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    return results


def test_a_read_that_opened_the_transaction_is_run_again_on_a_fresh_connection(
    pg_app: Flask, machine: RegisteredClient
) -> None:
    with pg_app.app_context(), _ending_connection_before(pg_app, "SELECT"):
        found = db.session.scalars(select(Token.client_id).where(Token.client_id == "none"))
        assert found.all() == []


def test_a_read_after_a_write_of_its_transaction_is_not_run_again(
    pg_app: Flask, machine: RegisteredClient
) -> None:
    with pg_app.app_context(), _ending_connection_before(pg_app, "SELECT"):
        # The UPDATE's transaction is gone with its connection: the read must not go on without it.
        db.session.execute(update(Token).where(Token.client_id == "none").values(revoked=True))
        with pytest.raises(DBAPIError) as failed:
            db.session.scalars(select(Token.client_id).where(Token.client_id == "none")).all()
        assert connection_lost(failed.value)
        db.session.rollback()
