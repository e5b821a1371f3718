"""Throttling password sign-in (idp.throttle): the counters on both backends, the rules, and what
the login page answers, for registered and unknown numbers alike."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect

from idp.app import create_app, database_uri
from idp.config import Settings
from idp.services import services
from idp.store.db import db
from idp.store.migrate import downgrade, upgrade
from idp.store.models import SignInEntry, ThrottleCounter
from idp.store.purge import purge_expired
from idp.throttle.counters import Counters
from idp.throttle.keys import address_digest
from idp.throttle.policy import ADDRESS_WINDOW_MS, Attempt, LoginThrottle, Refusal, now_ms
from tests.conftest import RegisteredClient, _postgres_database, make_citizen
from tests.support.browser import Authorization, Browser
from tests.support.identities import new_id_number
from tests.support.redis_prefix import REDIS_URL, redis_prefix

WRONG = "not the password"


@pytest.fixture(scope="module", params=["database", "redis"])
def throttled_app(
    request: pytest.FixtureRequest, app: Flask, settings: Settings
) -> Iterator[Flask]:
    """The provider on each counter backend; Redis keys under a prefix of this run, removed
    after."""
    if request.param == "database":
        yield app
        return
    with redis_prefix() as prefix:
        yield create_app(replace(settings, redis_url=REDIS_URL, session_key_prefix=prefix))


def _counters(app: Flask) -> Counters:
    counters: Counters = app.extensions["yihao"].throttle.counters
    return counters


def _key() -> str:
    return f"test:{secrets.token_hex(8)}"


# --- the counters -------------------------------------------------------------------------------


def test_concurrent_additions_all_count(throttled_app: Flask) -> None:
    counters, key, now = _counters(throttled_app), _key(), now_ms()

    def add(_: int) -> int:
        with throttled_app.app_context():
            try:
                return counters.add(key, 1, 60_000, now, sliding=True).count
            finally:
                db.session.remove()

    with ThreadPoolExecutor(10) as pool:
        seen = sorted(pool.map(add, range(50)))
    assert seen == list(range(1, 51))  # each addition saw its own count: none was lost
    with throttled_app.app_context():
        assert counters.peek([key], now)[key].count == 50


def test_a_fixed_window_keeps_its_end_and_a_sliding_one_moves(throttled_app: Flask) -> None:
    counters, fixed, sliding, now = _counters(throttled_app), _key(), _key(), now_ms()
    with throttled_app.app_context():
        first = counters.add(fixed, 1, 10_000, now, sliding=False)
        later = counters.add(fixed, 1, 10_000, now + 5000, sliding=False)
        assert (later.count, later.expires_ms) == (2, first.expires_ms)
        counters.add(sliding, 1, 10_000, now, sliding=True)
        moved = counters.add(sliding, 1, 10_000, now + 5000, sliding=True)
        assert moved.expires_ms - (now + 5000) == pytest.approx(10_000, abs=50)
        assert moved.last_ms == now + 5000


def test_an_expired_counter_starts_again_and_never_goes_below_zero(throttled_app: Flask) -> None:
    counters, key, now = _counters(throttled_app), _key(), now_ms()
    with throttled_app.app_context():
        counters.add(key, 3, 1000, now - 5000, sliding=True)  # expired 4 s ago
        assert counters.peek([key], now) == {}
        assert counters.add(key, 1, 60_000, now, sliding=True).count == 1
        assert counters.add(key, -5, 60_000, now, sliding=False).count == 0
        counters.reset([key])
        assert counters.peek([key], now) == {}


# --- the rules ----------------------------------------------------------------------------------


def _throttle(app: Flask) -> LoginThrottle:
    found: LoginThrottle = app.extensions["yihao"].throttle
    return found


def _address() -> str:
    return secrets.token_hex(16)  # stands for an address digest


def test_free_failures_then_a_growing_delay_for_that_address_only(throttled_app: Flask) -> None:
    throttle, account, guesser = _throttle(throttled_app), _address(), _address()
    free = throttle.policy.free_failures
    with throttled_app.app_context():
        for _ in range(free):
            attempt = throttle.admit(account, guesser, recognised=False)
            assert isinstance(attempt, Attempt)
            throttle.failed(attempt)
        refused = throttle.admit(account, guesser, recognised=False)
        assert isinstance(refused, Refusal) and refused.retry_after == 1
        # The owner, elsewhere, is not held up by the guesser's failures.
        owner = throttle.admit(account, _address(), recognised=False)
        assert isinstance(owner, Attempt)
        throttle.succeeded(owner)
        # The owner's success forgets the account's count, not the guesser's own.
        assert isinstance(throttle.admit(account, guesser, recognised=False), Refusal)
        assert throttle.counters.peek([f"account:{account}"], now_ms()) == {}


def test_a_failure_recorded_meanwhile_refuses_nobody_below_the_free_count(
    throttled_app: Flask,
) -> None:
    throttle, account, address = _throttle(throttled_app), _address(), _address()
    with throttled_app.app_context():
        # Another worker's failure, stamped after this request read the clock.
        throttle.counters.add(f"account:{account}", 1, 60_000, now_ms() + 500, sliding=True)
        assert isinstance(throttle.admit(account, address, recognised=False), Attempt)


def test_many_addresses_slow_the_account_but_not_where_its_owner_signed_in(
    throttled_app: Flask,
) -> None:
    throttle, account = _throttle(throttled_app), _address()
    with throttled_app.app_context():
        for _ in range(throttle.policy.account_free_failures):
            attempt = throttle.admit(account, _address(), recognised=False)
            assert isinstance(attempt, Attempt)
            throttle.failed(attempt)
        assert isinstance(throttle.admit(account, _address(), recognised=False), Refusal)
        assert isinstance(throttle.admit(account, _address(), recognised=True), Attempt)


def test_an_address_gets_a_bounded_number_of_unsuccessful_attempts(throttled_app: Flask) -> None:
    throttle, flooder = _throttle(throttled_app), _address()
    with throttled_app.app_context():
        for _ in range(throttle.policy.address_limit):
            attempt = throttle.admit(_address(), flooder, recognised=False)
            assert isinstance(attempt, Attempt)
            throttle.failed(attempt)
        refused = throttle.admit(_address(), flooder, recognised=False)
        assert isinstance(refused, Refusal)
        assert 1 <= refused.retry_after <= ADDRESS_WINDOW_MS // 1000


def test_an_address_over_its_cap_is_remembered_until_its_window_ends(
    throttled_app: Flask,
) -> None:
    throttle, flooder = _throttle(throttled_app), _address()
    with throttled_app.app_context():
        for _ in range(throttle.policy.address_limit):
            attempt = throttle.admit(_address(), flooder, recognised=False)
            assert isinstance(attempt, Attempt)
            throttle.failed(attempt)
        first = throttle.address_refusal(flooder)
        assert first is not None and not first.repeated
        # Later refusals in the window come from the process's memory, not the counter.
        throttle.counters.reset([f"address:{flooder}"])
        again = throttle.address_refusal(flooder)
        assert again is not None and again.repeated
        assert throttle.address_refusal(_address()) is None


def test_support_forgets_a_numbers_failures_from_every_address(throttled_app: Flask) -> None:
    throttle, account = _throttle(throttled_app), _address()
    addresses = [_address(), _address()]
    with throttled_app.app_context():
        for address in addresses:
            for _ in range(throttle.policy.free_failures):
                attempt = throttle.admit(account, address, recognised=False)
                assert isinstance(attempt, Attempt)
                throttle.failed(attempt)
            assert isinstance(throttle.admit(account, address, recognised=False), Refusal)
        other = _address()  # another number's failures stay
        attempt = throttle.admit(other, addresses[0], recognised=False)
        assert isinstance(attempt, Attempt)
        throttle.failed(attempt)
        throttle.forget_failures(account)
        for address in addresses:
            assert isinstance(throttle.admit(account, address, recognised=False), Attempt)
        assert throttle.counters.peek([f"account:{other}"], now_ms())[f"account:{other}"].count == 1


def test_successes_give_their_attempt_back(throttled_app: Flask) -> None:
    throttle, shared = _throttle(throttled_app), _address()
    with throttled_app.app_context():
        for _ in range(throttle.policy.address_limit * 2):
            attempt = throttle.admit(_address(), shared, recognised=False)
            assert isinstance(attempt, Attempt)
            throttle.succeeded(attempt)


# --- the login page -----------------------------------------------------------------------------


def _browser(app: Flask, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def _random_address() -> str:
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def _attempt(browser: Browser, rp: RegisteredClient, number: str, password: str) -> tuple[int, str]:
    """Status and page of one sign-in, with what differs by design taken out: the number typed
    (echoed into the form), the CSRF token and the interaction id."""
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    answer = browser.submit(page, username=number, password=password)
    body = answer.get_data(as_text=True).replace(number, "NUMBER")
    body = re.sub(r'value="[^"]{40,}"', "", body)
    body = re.sub(r"[/?]interaction[/=][^\"]+", "", body)
    if answer.status_code == 429:
        assert int(answer.headers["Retry-After"]) >= 1
    return answer.status_code, body


def test_known_and_unknown_numbers_get_the_same_answers_in_every_state(
    throttled_app: Flask, rp: RegisteredClient
) -> None:
    known, unknown, address = make_citizen(throttled_app).number, new_id_number(), _random_address()
    free = _throttle(throttled_app).policy.free_failures
    answers = {
        number: [
            _attempt(_browser(throttled_app, address), rp, number, WRONG) for _ in range(free + 1)
        ]
        for number in (known, unknown)
    }
    assert answers[known] == answers[unknown]
    assert [status for status, _ in answers[known]] == [401] * free + [429]


def test_the_owner_signs_in_from_another_address_and_sees_the_attempts(
    throttled_app: Flask, rp: RegisteredClient
) -> None:
    citizen = make_citizen(throttled_app)
    guesser = _browser(throttled_app, "198.51.100.7")
    free = _throttle(throttled_app).policy.free_failures
    for _ in range(free + 1):
        status, _ = _attempt(guesser, rp, citizen.number, WRONG)
    assert status == 429
    owner = _browser(throttled_app, "203.0.113.9")
    params = owner.sign_in_and_consent(
        Authorization(rp.client_id, rp.redirect_uri), citizen.number, citizen.password
    )
    assert "code" in params
    page = owner.get("/account").get_data(as_text=True)
    history = page[page.index('id="sign-in-history-heading"') :]
    assert history.count("198.51.*.*") == free  # the refusal is not listed, only checked guesses
    assert history.count("203.0.*.*") == 1
    assert citizen.number not in page


def test_purge_removes_expired_counters_and_old_history(
    throttled_app: Flask, rp: RegisteredClient
) -> None:
    citizen = make_citizen(throttled_app)
    _attempt(_browser(throttled_app, _random_address()), rp, citizen.number, WRONG)
    with throttled_app.app_context():
        old = db.session.query(SignInEntry).filter_by(person_id=citizen.person_id).one()
        db.session.add(ThrottleCounter(key=_key(), count=1, last_ms=0, expires_ms=1))
        db.session.commit()
        counts = purge_expired(3600, now=old.at.timestamp() + 91 * 86400, history_days=90)
        assert counts["throttle_counters"] >= 1 and counts["sign_in_history"] >= 1
        assert db.session.query(SignInEntry).filter_by(person_id=citizen.person_id).count() == 0


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_goes_down_and_up_again(kind: str, tmp_path: Path) -> None:
    urls = iter([f"sqlite:///{tmp_path / 'm.db'}"]) if kind == "sqlite" else _postgres_database()
    for url in urls:
        uri = database_uri(url)
        upgrade(uri)
        downgrade(uri, "0009")
        columns = {c["name"] for c in inspect(create_engine(uri)).get_columns("persons")}
        assert {"failed_logins", "locked_until"} <= columns
        upgrade(uri)
        engine = create_engine(uri)
        assert {"throttle_counters", "sign_in_history"} <= set(inspect(engine).get_table_names())
        engine.dispose()


def test_an_address_over_its_limit_is_refused_before_the_application(
    throttled_app: Flask,
) -> None:
    flooder = _random_address()
    browser = _browser(throttled_app, flooder)
    with throttled_app.app_context():
        throttle = _throttle(throttled_app)
        digest = address_digest(services().cipher, flooder)
        for _ in range(throttle.policy.address_limit):
            throttle.admit(_address(), digest, recognised=False)
    # No session, no CSRF token, no form: refused all the same, so nothing behind was reached.
    answer = browser.http.post("/interaction/whatever")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    assert _browser(throttled_app, _random_address()).http.post("/interaction/x").status_code != 429
