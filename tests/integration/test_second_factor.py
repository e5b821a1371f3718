"""TOTP (RFC 6238) and recovery codes: enrolment, the drift window, replay, single use, removal."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import closing
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, text

from idp.auth import recovery_codes, rfc6238
from idp.services import services
from idp.store.db import db, utcnow
from idp.store.migrate import downgrade, upgrade
from idp.store.models import Person
from idp.web.second_factor import MAX_FAILURES
from tests.conftest import Citizen, RegisteredClient, _postgres_database, make_citizen
from tests.support.browser import Authorization, Browser, csrf_of
from tests.support.oidc import tokens_for


def _person(citizen: Citizen) -> Person:
    person = db.session.get(Person, citizen.person_id)
    assert person is not None
    return person


def _clear_of_a_step_boundary() -> None:
    """Codes made here and checked a moment later fall in the same 30-second step."""
    if time.time() % rfc6238.INTERVAL > rfc6238.INTERVAL - 2:
        time.sleep(2.1)


def _code(totp: pyotp.TOTP, steps: int = 0) -> str:
    return totp.at(time.time(), counter_offset=steps)


def _wrong(totp: pyotp.TOTP) -> str:
    """Six digits that are no code of the window around now."""
    near = {_code(totp, step) for step in range(-2, 3)}
    return next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near
    )


def _enrolled(citizen: Citizen) -> tuple[pyotp.TOTP, list[str]]:
    """Turn TOTP on for the citizen; the factor's code of the current step is then spent."""
    enrolment = rfc6238.start_enrolment(services().cipher, _person(citizen))
    assert enrolment is not None
    totp = pyotp.TOTP(enrolment.secret)
    _clear_of_a_step_boundary()
    codes = rfc6238.confirm_enrolment(services().cipher, _person(citizen), _code(totp, -1))
    assert codes is not None
    return totp, codes


def test_enrolment_counts_only_after_a_first_valid_code(ctx: Flask, citizen: Citizen) -> None:
    cipher = services().cipher
    enrolment = rfc6238.start_enrolment(cipher, _person(citizen))
    assert enrolment is not None
    parts = urlsplit(enrolment.uri)
    query = parse_qs(parts.query)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert query["secret"] == [enrolment.secret] and query["issuer"] == ["一号通行"]
    assert citizen.number not in unescape(enrolment.uri)  # the label is the masked number
    assert len(enrolment.secret) == 32  # 160 bits (RFC 4226 4 R6)
    stored = db.session.execute(
        text("SELECT secret_cipher FROM totp_factors WHERE person_id = :p"),
        {"p": citizen.person_id},
    ).scalar_one()
    assert enrolment.secret.encode() not in bytes(stored)

    totp = pyotp.TOTP(enrolment.secret)
    assert not rfc6238.is_enrolled(citizen.person_id)
    assert not rfc6238.verify(cipher, citizen.person_id, totp.now())  # not on yet
    assert rfc6238.confirm_enrolment(cipher, _person(citizen), _wrong(totp)) is None
    assert not rfc6238.is_enrolled(citizen.person_id)
    _clear_of_a_step_boundary()
    codes = rfc6238.confirm_enrolment(cipher, _person(citizen), totp.now())
    assert codes is not None and len(codes) == recovery_codes.COUNT == len(set(codes))
    assert rfc6238.is_enrolled(citizen.person_id)
    # A confirmed factor is not replaced by another enrolment: it must be removed first.
    assert rfc6238.start_enrolment(cipher, _person(citizen)) is None
    assert rfc6238.pending_enrolment(cipher, _person(citizen)) is None


def test_one_step_of_drift_either_way_and_no_more(ctx: Flask, citizen: Citizen) -> None:
    totp, _ = _enrolled(citizen)  # the previous step's code was spent confirming
    cipher = services().cipher
    _clear_of_a_step_boundary()
    assert not rfc6238.verify(cipher, citizen.person_id, _code(totp, -2))
    assert not rfc6238.verify(cipher, citizen.person_id, _code(totp, 2))
    assert rfc6238.verify(cipher, citizen.person_id, _code(totp, 1))


def test_a_code_is_accepted_once_and_an_older_one_never_after(ctx: Flask, citizen: Citizen) -> None:
    totp, _ = _enrolled(citizen)
    cipher = services().cipher
    _clear_of_a_step_boundary()
    now = _code(totp)
    assert rfc6238.verify(cipher, citizen.person_id, now)
    assert not rfc6238.verify(cipher, citizen.person_id, now)  # replayed
    assert not rfc6238.verify(cipher, citizen.person_id, _code(totp, -1))  # older than the last
    assert rfc6238.verify(cipher, citizen.person_id, _code(totp, 1))


def test_codes_of_another_person_or_malformed_ones_fail(ctx: Flask, app: Flask) -> None:
    alice, bob = make_citizen(app), make_citizen(app)
    totp, codes = _enrolled(alice)
    _enrolled(bob)
    cipher = services().cipher
    assert not rfc6238.verify(cipher, bob.person_id, _code(totp))
    assert not recovery_codes.redeem(cipher, bob.person_id, codes[0])
    for bad in ("", "12345", "1234567", "12345a", "１２３４５６", "x" * 10_000):
        assert not rfc6238.check_second_factor(cipher, alice.person_id, bad)


def test_each_recovery_code_works_once(ctx: Flask, citizen: Citizen) -> None:
    _, codes = _enrolled(citizen)
    cipher = services().cipher
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert recovery_codes.remaining(citizen.person_id) == 10
    # Typed as read off paper: capitals and spaces do not matter.
    assert rfc6238.check_second_factor(
        cipher, citizen.person_id, codes[0].upper().replace("-", " ")
    )
    assert not rfc6238.check_second_factor(cipher, citizen.person_id, codes[0])
    assert recovery_codes.remaining(citizen.person_id) == 9
    assert rfc6238.check_second_factor(cipher, citizen.person_id, codes[1])
    stored = db.session.execute(
        text("SELECT digest FROM recovery_codes WHERE person_id = :p"), {"p": citizen.person_id}
    ).scalars()
    assert not {codes[2].replace("-", ""), codes[2]} & set(stored)


def test_removal_deletes_the_secret_and_the_codes(
    ctx: Flask, citizen: Citizen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="idp.security")
    totp, codes = _enrolled(citizen)
    rfc6238.remove(citizen.person_id)
    cipher = services().cipher
    assert not rfc6238.is_enrolled(citizen.person_id)
    assert recovery_codes.remaining(citizen.person_id) == 0
    assert not rfc6238.check_second_factor(cipher, citizen.person_id, codes[3])
    assert not rfc6238.verify(cipher, citizen.person_id, _code(totp, 1))
    events = [r.getMessage() for r in caplog.records if r.name == "idp.security"]
    assert any('"event": "factor_added"' in e and '"factor": "totp"' in e for e in events)
    assert any('"event": "factor_removed"' in e for e in events)
    assert not any(citizen.number in e for e in events)


# --------------------------------------------------------------------------- the account page


SECRET = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<')


def _signed_in(browser: Browser, rp: RegisteredClient, citizen: Citizen) -> str:
    tokens_for(browser, rp, citizen)
    page = browser.get("/account")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _post(browser: Browser, page: str, url: str, **fields: str) -> tuple[int, str]:
    answer = browser.http.post(url, data={"csrf_token": csrf_of(page), **fields})
    return answer.status_code, answer.get_data(as_text=True)


def test_the_account_page_turns_totp_on_and_off(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    account = _signed_in(browser, rp, citizen)
    assert "/account/second-factor/totp/start" in account
    status, enrol = _post(browser, account, "/account/second-factor/totp/start")
    assert status == 200 and "<svg" in enrol  # the QR code, inline
    found = SECRET.search(enrol)
    assert found
    totp = pyotp.TOTP(found.group(1).replace(" ", ""))

    status, again = _post(browser, enrol, "/account/second-factor/totp/confirm", code="12")
    assert status == 400 and found.group(1) in again  # the same secret, shown again
    _clear_of_a_step_boundary()
    status, shown = _post(browser, again, "/account/second-factor/totp/confirm", code=totp.now())
    assert status == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", shown)
    assert len(codes) == 10

    account = browser.get("/account").get_data(as_text=True)
    assert "/account/second-factor/totp/remove" in account
    assert "/account/second-factor/totp/start" not in account
    status, confirm = _post(browser, account, "/account/second-factor/totp/remove")
    assert status == 200 and 'name="code"' in confirm
    status, _ = _post(
        browser, confirm, "/account/second-factor/totp/remove", confirm="yes", code="x"
    )
    assert status == 400
    answer = browser.http.post(
        "/account/second-factor/totp/remove",
        data={"csrf_token": csrf_of(confirm), "confirm": "yes", "code": codes[0]},
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("totp=off")
    with app.app_context():
        assert not rfc6238.is_enrolled(citizen.person_id)


def test_wrong_codes_on_the_account_page_sign_the_session_out(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    account = _signed_in(browser, rp, citizen)
    with app.app_context():
        totp, _ = _enrolled(citizen)
    status, confirm = _post(browser, account, "/account/second-factor/totp/remove")
    for _ in range(MAX_FAILURES - 1):
        status, _page = _post(
            browser, confirm, "/account/second-factor/totp/remove", confirm="yes", code=_wrong(totp)
        )
        assert status == 400
    answer = browser.http.post(
        "/account/second-factor/totp/remove",
        data={"csrf_token": csrf_of(confirm), "confirm": "yes", "code": _wrong(totp)},
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/signed-out")
    assert browser.get("/account").status_code == 302
    with app.app_context():
        assert rfc6238.is_enrolled(citizen.person_id)


def test_the_pages_need_a_signed_in_session(browser: Browser, rp: RegisteredClient) -> None:
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri)).get_data(as_text=True)
    for url in ("start", "confirm", "remove"):
        answer = browser.http.post(
            f"/account/second-factor/totp/{url}", data={"csrf_token": csrf_of(page)}
        )
        assert answer.status_code == 302


def test_the_migration_goes_down_and_up_again(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a database of its own (each kind): 0013 removes what it added and adds it back, and
    codes made before it are password sign-ins."""
    with closing(_own_database(database_url, tmp_path_factory)) as fresh:
        url = next(fresh)
        upgrade(url, "0009")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO persons (public_id, document_type, number_index, number_cipher,"
                    " number_masked, name_cipher, password_hash, failed_logins, created_at)"
                    " VALUES ('p', 'resident', 'i', :b, 'm', :b, 'h', 0, :t)"
                ),
                {"b": b"x", "t": utcnow()},
            )
            connection.execute(
                text(
                    "INSERT INTO authorization_codes (code_digest, grant_id, client_id, person_id,"
                    " redirect_uri, scope, auth_time, code_challenge, code_challenge_method,"
                    " expires_at) SELECT 'd', 'g', 'c', id, 'u', 'openid', 1, 'x', 'S256', 1"
                    " FROM persons"
                )
            )
        upgrade(url)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT acr, amr FROM authorization_codes")).one()
            assert tuple(row) == ("urn:yihao:acr:password", "pwd")
        downgrade(url, "0009")
        assert not {"totp_factors", "recovery_codes"} & set(inspect(engine).get_table_names())
        columns = {c["name"] for c in inspect(engine).get_columns("authorization_codes")}
        assert not {"acr", "amr"} & columns
        upgrade(url)
        assert {"totp_factors", "recovery_codes"} <= set(inspect(engine).get_table_names())
        engine.dispose()


def _own_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('migration') / 'm.db'}"
    else:
        yield from _postgres_database()
