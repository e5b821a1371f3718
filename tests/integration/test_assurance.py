"""Levels of assurance through the protocol: acr, amr and auth_time in ID tokens from a code and
from a refresh, the second factor after the password, stepping up, discovery, client minimums."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from werkzeug.test import TestResponse

from idp.auth import rfc6238
from idp.cli import main
from idp.config import new_secret
from idp.oauth.assurance import PASSKEY, PASSWORD, TWO_FACTOR
from idp.oauth.authorization.step_up import MAX_FAILURES
from idp.oauth.registration import ClientSpec, RegistrationError, register_client
from idp.services import services
from idp.store.audit import releases_of
from idp.store.db import db
from idp.store.models import Person
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration.test_enterprise import choose, finish, to_enterprise_page
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import ORIGIN, Authorization, Browser, csrf_of, location_params
from tests.support.oidc import id_token_claims, redeem, refresh

PWD = ["pwd"]
PWD_OTP = ["pwd", "otp", "mfa"]


def _enrol(app: Flask, citizen: Citizen) -> pyotp.TOTP:
    return _enrol_with_codes(app, citizen)[0]


def _enrol_with_codes(app: Flask, citizen: Citizen) -> tuple[pyotp.TOTP, list[str]]:
    """Turn TOTP on for ``citizen`` (as the account page does); the current step is then spent."""
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        enrolment = rfc6238.start_enrolment(services().cipher, person)
        assert enrolment is not None
        totp = pyotp.TOTP(enrolment.secret)
        code = totp.at(time.time(), counter_offset=-1)
        codes = rfc6238.confirm_enrolment(services().cipher, person, code)
        assert codes is not None
        return totp, codes


def _next_code(totp: pyotp.TOTP) -> str:
    """A code of a step later than any used so far (the next one is within the window)."""
    return totp.at(time.time(), counter_offset=1)


def _page(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _back_to_the_service(browser: Browser, page: TestResponse) -> TestResponse:
    """The step-up page's own form (the passkey sign-in form may come first)."""
    html = _page(page)
    found = re.search(r'<form method="post" action="(/interaction/[^"/]+)"', html)
    assert found, html
    return browser.http.post(found.group(1), data={"csrf_token": csrf_of(html)})


def _password(browser: Browser, page: TestResponse, citizen: Citizen) -> TestResponse:
    assert 'name="password"' in _page(page)
    return browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))


def _consent_if_asked(browser: Browser, page: TestResponse) -> TestResponse:
    if page.status_code == 200 and 'name="decision"' in _page(page):
        return browser.follow(browser.submit(page, decision="allow"))
    return page


def _tokens(
    browser: Browser, rp: RegisteredClient, request: Authorization, page: TestResponse
) -> dict[str, Any]:
    page = _consent_if_asked(browser, page)
    params = location_params(page)
    assert "code" in params, params
    response = redeem(browser, rp, params["code"], request.verifier)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _authorization(rp: RegisteredClient, **extra: str) -> Authorization:
    return Authorization(rp.client_id, rp.redirect_uri, extra=extra)


def _assert_signed_in_with(claims: dict[str, Any], acr: str, amr: list[str]) -> None:
    assert claims["acr"] == acr and claims["amr"] == amr
    assert abs(claims["auth_time"] - time.time()) < 60


def test_a_password_sign_in_says_so_in_the_id_token_and_on_refresh(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = _authorization(rp)
    tokens = _tokens(browser, rp, request, _password(browser, browser.authorize(request), citizen))
    first = id_token_claims(browser, tokens["id_token"])
    _assert_signed_in_with(first, PASSWORD.acr, PWD)
    time.sleep(1.1)  # so that a refresh's iat differs from the sign-in
    again = refresh(browser, rp, tokens["refresh_token"]).get_json()
    later = id_token_claims(browser, again["id_token"])
    # OIDC Core 12.2: the same sign-in (auth_time, acr, amr) and subject, a new iat, no nonce.
    for claim in ("auth_time", "acr", "amr", "sid", "sub", "iss", "aud"):
        assert later[claim] == first[claim], claim
    assert later["iat"] > first["iat"] and "nonce" not in later
    assert "name" not in later  # the claims were released at sign-in; UserInfo serves them
    third = refresh(browser, rp, again["refresh_token"]).get_json()
    assert id_token_claims(browser, third["id_token"])["auth_time"] == first["auth_time"]


def _asked_for_a_code(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> tuple[pyotp.TOTP, Authorization, TestResponse]:
    """An enrolled citizen's request, after the right password: the code page."""
    totp = _enrol(app, citizen)
    request = _authorization(rp)
    return totp, request, _password(browser, browser.authorize(request), citizen)


def test_a_refresh_releases_nothing_again_not_even_an_enterprises_name(
    app: Flask, browser: Browser
) -> None:
    person = make_citizen(app)
    enterprise_id = make_enterprise(app, person)
    rp = make_client(app, scope="openid profile enterprise")
    request, page = to_enterprise_page(browser, rp, person)
    tokens = finish(browser, rp, request, choose(browser, page, enterprise_id))
    first = id_token_claims(browser, tokens["id_token"])
    with app.app_context():
        released = len(releases_of(person.person_id))
    again = id_token_claims(
        browser, refresh(browser, rp, tokens["refresh_token"]).get_json()["id_token"]
    )
    assert again["sub"] == first["sub"] and again["act"] == {
        "sub": first["act"]["sub"],
        "entity_type": "person",
    }
    assert again["entity_type"] == "enterprise" and "uscc" not in again and "name" not in again
    with app.app_context():
        assert len(releases_of(person.person_id)) == released


def test_password_and_totp_sign_in(
    app: Flask,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="idp.security")
    totp, request, asked = _asked_for_a_code(app, browser, rp, citizen)
    # The right password alone signs nobody in: the page asks for a code.
    assert asked.status_code == 200 and 'name="code"' in _page(asked)
    assert browser.get("/account").status_code == 302
    wrong = browser.submit(asked, code="12345")
    assert wrong.status_code == 400 and 'aria-invalid="true"' in _page(wrong)
    tokens = _tokens(
        browser, rp, request, browser.follow(browser.submit(asked, code=_next_code(totp)))
    )
    claims = id_token_claims(browser, tokens["id_token"])
    _assert_signed_in_with(claims, TWO_FACTOR.acr, PWD_OTP)
    again = refresh(browser, rp, tokens["refresh_token"]).get_json()
    refreshed = id_token_claims(browser, again["id_token"])
    assert (refreshed["acr"], refreshed["amr"]) == (TWO_FACTOR.acr, PWD_OTP)
    assert refreshed["auth_time"] == claims["auth_time"]
    assert browser.get("/account").status_code == 200
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.security"]
    totp_events = [(e["event"], e.get("reason")) for e in events if e.get("method") == "totp"]
    assert totp_events == [("sign_in_failed", "wrong"), ("signed_in", None)]
    # The account's sign-in history names the method in words, not as the log's "totp".
    history = browser.get("/account").get_data(as_text=True)
    assert "身份验证器应用" in history and ">totp<" not in history


def test_a_recovery_code_does_for_a_lost_phone(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    _, codes = _enrol_with_codes(app, citizen)
    request = _authorization(rp)
    asked = _password(browser, browser.authorize(request), citizen)
    tokens = _tokens(browser, rp, request, browser.follow(browser.submit(asked, code=codes[0])))
    assert id_token_claims(browser, tokens["id_token"])["amr"] == PWD_OTP


def test_too_many_wrong_codes_end_the_interaction(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    totp, _, asked = _asked_for_a_code(app, browser, rp, citizen)
    wrong = next(
        c for c in ("000000", "111111", "222222") if c not in {totp.now(), _next_code(totp)}
    )
    for _ in range(MAX_FAILURES - 1):
        assert browser.submit(asked, code=wrong).status_code == 400
    ended = browser.submit(asked, code=wrong)
    assert ended.status_code == 400 and 'name="code"' not in _page(ended)
    # Even the right code is now too late: the interaction is gone, nobody is signed in.
    late = browser.submit(asked, code=_next_code(totp))
    assert late.status_code == 400 and 'name="code"' not in _page(late)
    assert browser.get("/account").status_code == 302


def test_acr_values_for_two_factors_step_a_password_session_up(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    first = _authorization(rp)
    _tokens(browser, rp, first, _password(browser, browser.authorize(first), citizen))
    totp = _enrol(app, citizen)  # turned on after this session signed in with a password
    plain = _authorization(rp)
    assert "code" in location_params(_consent_if_asked(browser, browser.authorize(plain)))

    request = _authorization(rp, acr_values=TWO_FACTOR.acr)
    asked = browser.authorize(request)
    assert asked.status_code == 200 and 'name="code"' in _page(asked)
    tokens = _tokens(
        browser, rp, request, browser.follow(browser.submit(asked, code=_next_code(totp)))
    )
    _assert_signed_in_with(id_token_claims(browser, tokens["id_token"]), TWO_FACTOR.acr, PWD_OTP)
    # A two-factor session meets a password request, and the two-factor one, without asking.
    for acr in (PASSWORD.acr, f"{PASSKEY.acr} {TWO_FACTOR.acr}"):
        again = _authorization(rp, acr_values=acr)
        assert "code" in location_params(_consent_if_asked(browser, browser.authorize(again)))


def test_a_level_the_account_cannot_reach_is_explained_then_reported(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = _authorization(rp, acr_values=TWO_FACTOR.acr)
    page = _password(browser, browser.authorize(request), citizen)  # no second factor enrolled
    assert page.status_code == 200 and "分两步登录" in _page(page)  # zh-CN is the default
    back = browser.follow(_back_to_the_service(browser, page))
    params = location_params(back)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == request.state and "code" not in params
    passkey = browser.authorize(_authorization(rp, acr_values=PASSKEY.acr))
    assert passkey.status_code == 200 and "要求您使用通行密钥登录" in _page(passkey)


def test_a_passkey_from_the_step_up_page_meets_a_passkey_request(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = _authorization(rp)
    first = _tokens(browser, rp, request, _password(browser, browser.authorize(request), citizen))
    authenticator = SoftAuthenticator()
    account = _page(browser.get("/account"))
    csrf = {"X-CSRFToken": csrf_of(account)}
    options = browser.http.post("/account/passkeys/options", json={}, headers=csrf).get_json()
    credential = authenticator.create(options, ORIGIN)
    added = browser.http.post(
        "/account/passkeys", json={"name": "手机", "credential": credential}, headers=csrf
    )
    assert added.status_code == 200, _page(added)

    request = _authorization(rp, acr_values=PASSKEY.acr)
    page = browser.authorize(request)
    found = re.search(r'data-options="(/interaction/[^/"]+/passkey/options)"', _page(page))
    assert found, "no passkey sign-in on the step-up page"
    csrf = {"X-CSRFToken": csrf_of(_page(page))}
    options = browser.http.post(found.group(1), json={}, headers=csrf).get_json()
    answered = browser.http.post(
        found.group(1).removesuffix("/options"),
        json={"credential": authenticator.get(options, ORIGIN)},
        headers=csrf,
    )
    assert answered.status_code == 200, _page(answered)
    tokens = _tokens(
        browser, rp, request, browser.follow(browser.get(answered.get_json()["redirect"]))
    )
    claims = id_token_claims(browser, tokens["id_token"])
    _assert_signed_in_with(claims, PASSKEY.acr, ["hwk", "mfa"])
    assert claims["sid"] != id_token_claims(browser, first["id_token"])["sid"]


def test_prompt_none_below_the_level_is_unmet(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = _authorization(rp)
    _tokens(browser, rp, request, _password(browser, browser.authorize(request), citizen))
    quiet = browser.authorize(_authorization(rp, acr_values=TWO_FACTOR.acr, prompt="none"))
    assert location_params(quiet)["error"] == "unmet_authentication_requirements"
    # Unknown values ask for nothing: the ID token's acr says what was met.
    other = _authorization(rp, acr_values="urn:example:gold", prompt="none")
    assert "code" in location_params(browser.authorize(other))


def test_a_client_minimum_applies_to_every_request(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = _authorization(rp)
    _tokens(browser, rp, request, _password(browser, browser.authorize(request), citizen))
    strict = make_client(app, minimum_acr=TWO_FACTOR.acr)
    # Asking for less changes nothing: the session is a password one, below the minimum.
    quiet = _authorization(strict, acr_values=PASSWORD.acr, prompt="none")
    assert location_params(browser.authorize(quiet))["error"] == "unmet_authentication_requirements"
    asked = browser.authorize(_authorization(strict))
    assert asked.status_code == 200 and "分两步登录" in _page(asked)  # no TOTP to step up with
    totp = _enrol(app, citizen)
    request = _authorization(strict)
    tokens = _tokens(
        browser,
        strict,
        request,
        browser.follow(browser.submit(browser.authorize(request), code=_next_code(totp))),
    )
    assert id_token_claims(browser, tokens["id_token"])["acr"] == TWO_FACTOR.acr


def test_registration_knows_the_levels(ctx: Flask) -> None:
    spec = ClientSpec(name="x", redirect_uris=["https://x.example/cb"], scope="openid")
    with pytest.raises(RegistrationError, match="minimum acr"):
        register_client(replace(spec, minimum_acr="gold"))


def test_discovery_lists_the_levels(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["acr_values_supported"] == [PASSWORD.acr, TWO_FACTOR.acr, PASSKEY.acr]


def test_the_cli_registers_a_minimum(tmp_path: Path) -> None:
    runner = CliRunner(
        env={
            "IDP_INSTANCE_DIR": str(tmp_path),
            "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "IDP_SECRET_KEY": new_secret(),
            "IDP_DATA_KEY": new_secret(),
            "IDP_INDEX_KEY": new_secret(),
        }
    )
    assert runner.invoke(main, ["db", "upgrade", "--json"]).exit_code == 0
    base = ["client", "add", "--name", "x", "--redirect-uri", "https://x.example/cb", "--json"]
    added = runner.invoke(main, [*base, "--minimum-acr", TWO_FACTOR.acr])
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["client_id"]
    assert runner.invoke(main, [*base, "--minimum-acr", "urn:example:gold"]).exit_code == 2
