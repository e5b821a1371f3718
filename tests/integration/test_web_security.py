"""The web layer's rules for browsers: every form post is checked for its CSRF token and its
origin (``idp.web.csrf``), on plain HTTP and behind a TLS-terminating proxy alike, and every page
carries the security headers of ``idp.web.headers``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.app import create_app
from idp.config import Settings
from idp.store.db import db
from tests.conftest import Citizen, RegisteredClient, make_client, make_enterprise
from tests.support.browser import Authorization, Browser, csrf_of

EXPIRED = "页面已过期"  # the CSRF error page's title, zh-CN ("The form has expired")
PROXIED_ISSUER = "https://idp.example"
#: What nginx adds in front of ``idp serve`` (docs/operations.md).
FORWARDED = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "idp.example",
    "HTTP_X_FORWARDED_FOR": "203.0.113.7",
}


def _login_page(
    browser: Browser, rp: RegisteredClient, scope: str = "openid profile"
) -> TestResponse:
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri, scope=scope))
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    return page


def _post_login(
    browser: Browser, page: TestResponse, citizen: Citizen, headers: dict[str, str]
) -> TestResponse:
    """The login form, with a valid token, sent with exactly ``headers`` naming its origin."""
    html = page.get_data(as_text=True)
    usual = browser.http.environ_base.pop("HTTP_ORIGIN", None)
    action = html.split('action="', 1)[1].split('"', 1)[0]
    fields = {"csrf_token": csrf_of(html), "username": citizen.number}
    try:
        return browser.http.post(
            action, data={**fields, "password": citizen.password}, headers=headers
        )
    finally:
        if usual is not None:
            browser.http.environ_base["HTTP_ORIGIN"] = usual


def _refused(response: TestResponse) -> bool:
    return response.status_code == 400 and EXPIRED in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # an opaque origin: a sandboxed frame, a data: URL
        {"Origin": "http://localhost:8080"},  # another port is another origin
        {"Origin": "https://localhost"},  # and another scheme
        {"Referer": "https://evil.example/page"},  # no Origin: the Referer must be ours
        {},  # neither: refused, not assumed
    ],
)
def test_a_post_from_another_origin_is_refused_despite_a_valid_token(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, headers: dict[str, str]
) -> None:
    response = _post_login(browser, _login_page(browser, rp), citizen, headers)
    assert _refused(response), response.status_code
    assert "person_id" not in str(browser.http.get_cookie("yihao_session"))


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://localhost"}, {"Referer": "http://localhost/interaction/x"}],
)
def test_a_post_from_our_own_page_is_accepted(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, headers: dict[str, str]
) -> None:
    response = _post_login(browser, _login_page(browser, rp), citizen, headers)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/authorize/resume/")


def test_the_logout_confirmation_is_checked_the_same_way(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    _post_login(browser, _login_page(browser, rp), citizen, {"Origin": "http://localhost"})
    page = browser.http.get("/logout")
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.get_data(as_text=True)), "confirm": "1"}
    refused = browser.http.post("/logout", data=form, headers={"Origin": "https://evil.example"})
    assert _refused(refused)
    assert browser.http.get("/account").status_code == 200  # still signed in
    done = browser.http.post("/logout", data=form, headers={"Origin": "http://localhost"})
    assert done.status_code == 200 and EXPIRED not in done.get_data(as_text=True)
    assert browser.http.get("/account").headers["Location"].endswith("/signed-out")


@pytest.fixture(scope="module")
def proxied_app(app: Flask, settings: Settings) -> Iterator[Flask]:
    """The production shape in-process: an https issuer behind one proxy (``IDP_PROXY_HOPS=1``)."""
    proxied = create_app(replace(settings, issuer=PROXIED_ISSUER, proxy_hops=1))
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


@pytest.fixture()
def proxied(proxied_app: Flask) -> Browser:
    browser = Browser(proxied_app.test_client())
    browser.http.environ_base.update(FORWARDED)
    return browser


def test_behind_a_tls_proxy_the_origin_is_enough(
    proxied_app: Flask, proxied: Browser, citizen: Citizen
) -> None:
    """Flask-WTF demanded a Referer on secure requests, and the pages asked browsers to send
    none: every form behind TLS answered 'The form has expired'."""
    rp = make_client(proxied_app, redirect_uris=["https://rp.example/cb"])
    page = _login_page(proxied, rp)
    assert _refused(_post_login(proxied, page, citizen, {"Origin": "http://idp.example"}))
    page = _login_page(proxied, rp)
    response = _post_login(proxied, page, citizen, {"Origin": PROXIED_ISSUER})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def _assert_secured_page(response: TestResponse) -> None:
    assert response.mimetype == "text/html", response.mimetype
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in policy
    assert directives["default-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # the issuer is http here
    assert 'name="referrer"' not in response.get_data(as_text=True)


def test_every_page_carries_the_security_headers(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    enterprise_id = make_enterprise(app, citizen)
    rp = make_client(app, scope="openid profile enterprise")
    login = _login_page(browser, rp, "openid profile enterprise")
    _assert_secured_page(login)
    enterprise = browser.follow(
        _post_login(browser, login, citizen, {"Origin": "http://localhost"})
    )
    assert "enterprise_id" in enterprise.get_data(as_text=True)
    _assert_secured_page(enterprise)
    chosen = browser.submit(enterprise, enterprise_id=str(enterprise_id), decision="allow")
    consent = browser.follow(chosen)
    assert 'name="decision"' in consent.get_data(as_text=True)
    _assert_secured_page(consent)
    pages = ["/account", "/logout", "/wallet", "/authorize", "/signed-out"]
    for path in pages:
        _assert_secured_page(browser.get(path))
    _assert_secured_page(browser.http.post("/account/logout"))  # the CSRF error page
    api = browser.get("/credentials/trust")  # JSON keeps its own caching, and is not sniffed
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Cache-Control"] == "public, max-age=300"
