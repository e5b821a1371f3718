"""Passkeys end to end in Chromium, with the DevTools virtual authenticator standing in for a
phone's screen lock (CTAP2, internal transport, resident keys, user verification), on plain HTTP
and behind nginx terminating TLS (``named_provider``: the issuer on ``localhost``, since WebAuthn
refuses an IP address as RP ID).

A citizen signs in with their password, adds a passkey on the account page and signs out; then a
service's sign-in is completed with the passkey only (no number typed), and the passkey removed.
The same assertion posted again is refused, and a disabled person's passkey signs no one in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.e2e.conftest import HTTP_TIMEOUT, REDIRECT_URI, Provider, run_idp
from tests.e2e.pages import CALLBACK_BODY, Watch, phone_context
from tests.support.browser import Authorization
from tests.support.identities import new_id_number

pytestmark = pytest.mark.e2e

STEP_TIMEOUT_MS = 15_000
PASSKEY_NAME = "我的测试手机"
#: Chromium's virtual authenticator as a phone's platform authenticator with its screen lock.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@dataclass
class Tab:
    page: Page
    watch: Watch
    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials


@pytest.fixture
def tab(chromium: Browser, named_provider: Provider) -> Iterator[Tab]:
    context = phone_context(chromium, REDIRECT_URI, STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        yield Tab(page, Watch(page), cdp, added["authenticatorId"])
    finally:
        context.close()


def _is_callback(url: str) -> bool:
    return url.startswith(REDIRECT_URI + "?")


def _start_sign_in(page: Page, provider: Provider) -> None:
    request = Authorization(provider.client_id, provider.redirect_uri, scope=provider.scope)
    page.goto(f"{provider.issuer}/authorize?{request.query()}")
    expect(page.locator("#passkey-sign-in-button")).to_be_visible()


def _sign_in_with_password(
    page: Page, provider: Provider, number: str, consent: bool = True
) -> None:
    _start_sign_in(page, provider)
    page.locator("#username").fill(number)
    page.locator("#password").fill(provider.citizen_password)
    page.locator("form button[type=submit]").first.click()
    if consent:
        allow = page.locator('button[name="decision"][value="allow"]')
        expect(allow).to_be_visible()
        allow.click()
    _reached_service(page)


def _reached_service(page: Page) -> None:
    page.wait_for_url(lambda url: url.startswith(REDIRECT_URI + "?"))
    expect(page.get_by_text(CALLBACK_BODY)).to_be_visible()
    assert "code=" in page.url


def _add_passkey(tab: Tab, provider: Provider) -> None:
    tab.page.goto(f"{provider.issuer}/account")
    tab.page.locator("#passkey-name").fill(PASSKEY_NAME)
    tab.page.locator("#passkey-add button[type=submit]").click()
    tab.page.wait_for_url(lambda url: url.endswith("/account?passkey=added"))
    expect(tab.page.locator(".passkey-list .item__title")).to_have_text([PASSKEY_NAME])
    (credential,) = tab.credentials()
    assert credential["isResidentCredential"] is True


def _sign_out(page: Page, provider: Provider) -> None:
    page.goto(f"{provider.issuer}/account")
    page.locator("form.signout button").click()
    page.wait_for_url(lambda url: url.endswith("/signed-out"))


def _new_person(provider: Provider) -> str:
    number = new_id_number()
    run_idp(
        provider.env,
        *("person", "add", "--id-number", number, "--name", "钱七", "--password-stdin"),
        stdin=provider.citizen_password + "\n",
    )
    return number


def test_add_a_passkey_then_sign_in_with_it_alone_and_remove_it(
    tab: Tab, named_provider: Provider
) -> None:
    provider, page = named_provider, tab.page
    number = _new_person(provider)
    _sign_in_with_password(page, provider, number)
    _add_passkey(tab, provider)
    _sign_out(page, provider)

    _start_sign_in(page, provider)
    with (
        page.expect_request(lambda r: r.url.endswith("/passkey") and r.method == "POST") as sent,
        # Standing consent: straight back to the service. (Playwright's route does not catch
        # this navigation, which the script starts, so Chromium refuses port 9 and the request
        # itself is what is checked.)
        page.expect_request(lambda r: _is_callback(r.url)) as callback,
        page.expect_event("framenavigated", lambda f: f.url.startswith("chrome-error://")),
    ):
        page.locator("#passkey-sign-in-button").click()
    assert "code=" in callback.value.url
    assert tab.credentials()[0]["signCount"] >= 1

    # The same assertion, posted again for a new sign-in with a valid token, is refused.
    _sign_out(page, provider)
    _start_sign_in(page, provider)
    replayed = _replay(page, provider, sent.value.post_data or "")
    # Past the CSRF token and the origin rule, refused by the verification (another challenge).
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid", replayed.text
    page.goto(f"{provider.issuer}/account")
    page.wait_for_url(lambda url: url.endswith("/signed-out"))

    _sign_in_with_password(page, provider, number, consent=False)
    page.goto(f"{provider.issuer}/account")
    page.locator(".passkey-list button[type=submit]").click()
    page.wait_for_url(lambda url: url.endswith("/account?passkey=removed"))
    expect(page.locator(".passkey-list")).to_have_count(0)
    assert not tab.watch.errors, tab.watch.errors


def _replay(page: Page, provider: Provider, body: str) -> requests.Response:
    """POST ``body`` to the passkey endpoint of the sign-in now on ``page``, as the page would
    (its cookie, its CSRF token, its origin)."""
    widget = page.locator("#passkey-sign-in")
    verify = widget.get_attribute("action") or ""
    csrf = widget.locator("input[name=csrf_token]").get_attribute("value") or ""
    # A fresh challenge is waiting, as after a click; the old assertion does not answer it.
    options = page.evaluate(
        """async ([url, csrf]) => (await fetch(url, {method: 'POST', headers: {
             'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: '{}'})).status""",
        [widget.get_attribute("data-options"), csrf],
    )
    assert options == 200
    cookies = {c["name"]: c["value"] for c in page.context.cookies() if "value" in c}
    http = provider.http()
    return http.post(
        provider.issuer + verify,
        data=body,
        cookies=cookies,
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": csrf,
            "Origin": provider.issuer,
        },
        timeout=HTTP_TIMEOUT,
    )


def test_a_disabled_persons_passkey_does_not_sign_in(tab: Tab, named_provider: Provider) -> None:
    provider, page = named_provider, tab.page
    number = _new_person(provider)
    _sign_in_with_password(page, provider, number)
    _add_passkey(tab, provider)
    run_idp(provider.env, "person", "disable", "--id-number", number)

    _start_sign_in(page, provider)
    with page.expect_response(lambda r: r.url.endswith("/passkey")) as answered:
        page.locator("#passkey-sign-in-button").click()
    assert answered.value.status == 403
    assert json.loads(answered.value.text())["error"] == "disabled"
    expect(page.locator("#passkey-sign-in-status")).not_to_be_empty()
    expect(page.locator("#username")).to_be_visible()
    # The refusal itself is the one failed response the page saw.
    assert [e for e in tab.watch.errors if not e.endswith("/passkey")] == [], tab.watch.errors
