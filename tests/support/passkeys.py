"""Passkeys for tests: a signed-in browser adding one from the account page, as a person does."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import Citizen, RegisteredClient
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import ORIGIN, Browser, csrf_of
from tests.support.oidc import login


def post_json(browser: Browser, url: str, csrf: str, body: dict[str, Any] | None = None) -> Any:
    return browser.http.post(url, json=body or {}, headers={"X-CSRFToken": csrf})


def account_csrf(browser: Browser) -> str:
    page = browser.get("/account")
    assert page.status_code == 200
    return csrf_of(page.get_data(as_text=True))


def signed_in_browser(app: Flask, citizen: Citizen, rp: RegisteredClient) -> Browser:
    browser = Browser(app.test_client())
    login(browser, rp, citizen)
    return browser


def add_passkey(
    browser: Browser, authenticator: SoftAuthenticator, name: str = "我的手机", origin: str = ORIGIN
) -> TestResponse:
    csrf = account_csrf(browser)
    options = post_json(browser, "/account/passkeys/options", csrf)
    assert options.status_code == 200, options.get_data(as_text=True)
    credential = authenticator.create(options.get_json(), origin)
    response: TestResponse = post_json(
        browser, "/account/passkeys", csrf, {"name": name, "credential": credential}
    )
    return response
