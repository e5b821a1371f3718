"""Rotating IDP_SECRET_KEY with the old key in IDP_SECRET_KEY_FALLBACKS signs nobody out: a form
opened, a session begun and a wallet sign-in started under the old key all still work on a node
with the new key, and fail there without the fallback (except the session, which is no signed
data: its cookie is a random id)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.app import create_app
from idp.config import Settings, new_secret
from idp.store.db import db
from tests.conftest import Citizen, RegisteredClient
from tests.support.browser import Authorization, Browser, csrf_of

EXPIRED = "页面已过期"  # the CSRF error page's title, zh-CN ("The form has expired")
WALLET_COOKIE = "yihao_wallet_pending"


def _node(settings: Settings, fallbacks: tuple[str, ...]) -> Iterator[Flask]:
    """Another node on the same database, after the rotation: a new IDP_SECRET_KEY."""
    node = create_app(replace(settings, secret_key=new_secret(), secret_key_fallbacks=fallbacks))
    yield node
    with node.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def rotated(settings: Settings) -> Iterator[Flask]:
    yield from _node(settings, (new_secret(), settings.secret_key))


@pytest.fixture(scope="module")
def replaced(settings: Settings) -> Iterator[Flask]:
    yield from _node(settings, ())


def _moved(old: Browser, node: Flask, *cookies: tuple[str, str]) -> Browser:
    """The same browser, now sent by the balancer to ``node``."""
    moved = Browser(node.test_client())
    for name, path in cookies:
        cookie = old.http.get_cookie(name, path=path)
        assert cookie is not None, name
        moved.http.set_cookie(name, cookie.value, path=path)
    return moved


def _login_page(browser: Browser, rp: RegisteredClient) -> TestResponse:
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    assert 'name="password"' in page.get_data(as_text=True)
    return page


def _post_login(browser: Browser, page: TestResponse, citizen: Citizen) -> TestResponse:
    html = page.get_data(as_text=True)
    action = html.split('action="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": csrf_of(html), "username": citizen.number, "password": citizen.password}
    return browser.http.post(action, data=form)


@pytest.mark.parametrize(("node", "accepted"), [("rotated", True), ("replaced", False)])
def test_a_form_opened_before_the_rotation(
    request: pytest.FixtureRequest,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    node: str,
    accepted: bool,
) -> None:
    page = _login_page(browser, rp)
    moved = _moved(browser, request.getfixturevalue(node), ("yihao_session", "/"))
    response = _post_login(moved, page, citizen)
    assert (response.status_code == 302) is accepted, response.status_code
    assert (EXPIRED in response.get_data(as_text=True)) is not accepted


@pytest.mark.parametrize(("node", "accepted"), [("rotated", True), ("replaced", False)])
def test_a_signed_in_session_stays_and_its_forms_need_the_fallback(
    request: pytest.FixtureRequest,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    node: str,
    accepted: bool,
) -> None:
    assert _post_login(browser, _login_page(browser, rp), citizen).status_code == 302
    page = browser.http.get("/logout")  # the confirmation form, made under the old key
    moved = _moved(browser, request.getfixturevalue(node), ("yihao_session", "/"))
    assert moved.http.get("/account").status_code == 200  # the session is no signed data
    form = {"csrf_token": csrf_of(page.get_data(as_text=True)), "confirm": "1"}
    done = moved.http.post("/logout", data=form)
    assert (EXPIRED not in done.get_data(as_text=True)) is accepted
    signed_out = moved.http.get("/account").status_code == 302
    assert signed_out is accepted


def _to_the_wallet_callback(browser: Browser, citizen: Citizen) -> str:
    """Open the wallet and sign in, stopping where the provider sends the browser back to the
    wallet's callback; returns that URL."""
    answer = browser.http.get("/wallet")
    for _step in range(10):
        html = answer.get_data(as_text=True)
        if answer.status_code in (302, 303):
            location = str(answer.headers["Location"])
            if "/wallet/callback" in location:
                return location
            answer = browser.http.get(location)
        elif 'name="password"' in html:
            answer = browser.submit(answer, username=citizen.number, password=citizen.password)
        elif 'name="decision"' in html:
            answer = browser.submit(answer, decision="allow")
        else:
            raise AssertionError(html[:300])
    raise AssertionError("no way back to the wallet")


@pytest.mark.parametrize(("node", "accepted"), [("rotated", True), ("replaced", False)])
def test_a_wallet_sign_in_started_before_the_rotation(
    request: pytest.FixtureRequest, browser: Browser, citizen: Citizen, node: str, accepted: bool
) -> None:
    callback = _to_the_wallet_callback(browser, citizen)
    assert "/wallet/callback" in callback
    moved = _moved(
        browser,
        request.getfixturevalue(node),
        ("yihao_session", "/"),
        (WALLET_COOKIE, "/wallet/callback"),
    )
    answer = moved.http.get(callback)
    # The pending cookie, signed under the old key, carries the state and the PKCE verifier.
    assert answer.status_code == (302 if accepted else 400), answer.status_code
