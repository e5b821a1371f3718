"""The authenticator app in a real browser (Chromium), on plain HTTP and behind nginx terminating
TLS: turning it on from the account page (the QR code drawn inline under the strict CSP, codes
computed with pyotp from the key shown), signing in with password + code, and a service asking
``acr_values`` for two factors making a password-only session step up. The ID tokens say how.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from idp.oauth.assurance import PASSWORD, TWO_FACTOR
from tests.e2e.conftest import REDIRECT_URI, Provider, run_idp
from tests.e2e.pages import Watch, fill_code, fill_password, later_code, turn_on_totp
from tests.support.browser import Authorization
from tests.support.identities import new_id_number

pytestmark = pytest.mark.e2e

STEP_TIMEOUT_MS = 15_000
CALLBACK_BODY = "callback reached"


@dataclass
class Tab:
    page: Page
    watch: Watch
    number: str  # a citizen of this test's own, so no other test meets their second factor


@pytest.fixture
def tab(chromium: Browser, shaped_provider: Provider) -> Iterator[Tab]:
    number = new_id_number()
    run_idp(
        shaped_provider.env,
        *("person", "add", "--id-number", number, "--name", "赵六", "--password-stdin"),
        stdin=shaped_provider.citizen_password + "\n",
    )
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.route(lambda url: url.startswith(REDIRECT_URI + "?"), _answer_callback)
    try:
        page = context.new_page()
        yield Tab(page, Watch(page), number)
    finally:
        context.close()


def _answer_callback(route: Route) -> None:
    route.fulfill(status=200, content_type="text/plain", body=CALLBACK_BODY)


def _start(tab: Tab, provider: Provider, **extra: str) -> Authorization:
    request = Authorization(provider.client_id, provider.redirect_uri, provider.scope, extra)
    tab.page.goto(f"{provider.issuer}/authorize?{request.query()}")
    return request


def _id_token(tab: Tab, provider: Provider, request: Authorization) -> dict[str, Any]:
    """Allow if asked, reach the callback, redeem the code; the ID token's claims.

    The signature is checked by the integration tests; here the point is what the browser did.
    """
    allow = tab.page.locator('button[name="decision"][value="allow"]')
    callback = tab.page.get_by_text(CALLBACK_BODY)
    expect(allow.or_(callback)).to_be_visible()
    if allow.is_visible():
        allow.click()
    expect(callback).to_be_visible()
    code = parse_qs(urlsplit(tab.page.url).query)["code"][0]
    response = provider.http().post(
        provider.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": request.verifier,
        },
        auth=(provider.client_id, provider.client_secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    payload = response.json()["id_token"].split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _password_session(tab: Tab, provider: Provider) -> dict[str, Any]:
    """Sign in with the password only; the ID token's claims."""
    first = _start(tab, provider)
    fill_password(tab.page, tab.number, provider.citizen_password)
    claims = _id_token(tab, provider, first)
    assert claims["acr"] == PASSWORD.acr and claims["amr"] == ["pwd"]
    return claims


def test_turn_on_totp_then_sign_in_with_password_and_code(
    tab: Tab, shaped_provider: Provider
) -> None:
    provider = shaped_provider
    _password_session(tab, provider)
    totp = turn_on_totp(tab.page, provider.issuer)

    tab.page.locator("form.signout button").click()
    expect(tab.page).to_have_url(provider.issuer + "/signed-out")
    request = _start(tab, provider)
    fill_password(tab.page, tab.number, provider.citizen_password)
    fill_code(tab.page, later_code(totp))
    claims = _id_token(tab, provider, request)
    assert claims["acr"] == TWO_FACTOR.acr and claims["amr"] == ["pwd", "otp", "mfa"]
    assert not tab.watch.errors, tab.watch.errors


def test_acr_values_for_two_factors_step_a_password_session_up(
    tab: Tab, shaped_provider: Provider
) -> None:
    provider = shaped_provider
    before = _password_session(tab, provider)
    totp = turn_on_totp(tab.page, provider.issuer)  # the session stays a password session

    request = _start(tab, provider, acr_values=TWO_FACTOR.acr)
    fill_code(tab.page, later_code(totp))  # no password again: only the factor that was missing
    after = _id_token(tab, provider, request)
    assert after["acr"] == TWO_FACTOR.acr and after["amr"] == ["pwd", "otp", "mfa"]
    assert after["sid"] != before["sid"] and after["sub"] == before["sub"]
    assert not tab.watch.errors, tab.watch.errors
