"""Bad input never yields a 500 (RFC 6749 4.1.2.1 and 5.2: errors are reported, not crashed on),
and identity numbers never reach the logs."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.conftest import Citizen, RegisteredClient
from tests.support.browser import Authorization, Browser
from tests.support.oidc import client_auth, tokens_for

LONG = "x" * 10_000
JSON_ENDPOINTS = ("/token", "/par", "/userinfo", "/revoke", "/introspect", "/connect/register")
NOT_UTF8 = b"grant_type=\xff\xfe&code=\xc3\x28&token=\x80abc&client_id=\xed\xa0\x80"

PROTOCOL_PARAMS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "code_challenge",
    "code_challenge_method",
    "claims",
    "request",
    "response_mode",
]
TOKEN_PARAMS = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "token",
    "token_type_hint",
]

BAD_AUTHORIZATION = [
    "Basic !!!",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b":").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\x80").decode(),
    "Basic",
    "Bearer",
    "Bearer ",
    "Bearer a b c",
    "Bearer " + LONG,
    "Digest username=x",
    "\u00e9\u00e9",
    "",
]


def assert_handled(response: TestResponse, path: str) -> None:
    assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])
    if path.startswith(JSON_ENDPOINTS) and response.status_code >= 400:
        body: Any = response.get_json(silent=True)
        assert isinstance(body, dict) and "error" in body, (path, response.get_data()[:300])


def endpoints(rp: RegisteredClient) -> list[str]:
    return [
        "/authorize",
        "/authorize?client_id=" + rp.client_id,
        f"/authorize?client_id={rp.client_id}&redirect_uri={rp.redirect_uri}",
        "/token",
        "/userinfo",
        "/revoke",
        "/introspect",
        "/logout",
        "/interaction/" + LONG[:300],
        "/interaction/%ff%fe",
        "/interaction/..%2f..%2fetc",
        "/authorize/resume/" + LONG[:300],
        "/authorize/resume/%00",
        "/account/consents/999999/withdraw",
        "/connect/register",
        "/connect/register/" + rp.client_id,
        "/connect/register/%00",
        "/connect/register/" + LONG[:300],
    ]


def test_empty_and_odd_requests_are_handled(app: Flask, rp: RegisteredClient) -> None:
    # RFC 6749 4.1.2.1 and 5.2: missing parameters are reported as errors.
    http = app.test_client()
    for path in endpoints(rp):
        for method in ("GET", "POST", "PUT", "DELETE"):
            assert_handled(http.open(path, method=method), path)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", NOT_UTF8),
        ("application/x-www-form-urlencoded", b"%%%&&&===&grant_type"),
        ("application/x-www-form-urlencoded", b"\x00\x00\x00=\x00"),
        ("application/json", b'{"grant_type": "client_credentials", "token": "x"}'),
        ("application/json", b"[1, 2, {"),
        ("text/plain", b"grant_type=client_credentials"),
        ("multipart/form-data", b"--x\r\nnot really multipart"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("application/octet-stream", bytes(range(256))),
    ],
    ids=[
        "not-utf8",
        "broken-pairs",
        "nul",
        "json",
        "broken-json",
        "text",
        "multipart",
        "bad-multipart",
        "binary",
    ],
)
def test_wrong_bodies_are_handled(
    app: Flask, rp: RegisteredClient, content_type: str, body: bytes
) -> None:
    # RFC 6749 3.2 and 5.2: the token endpoint takes form bodies; anything else is an error.
    http = app.test_client()
    for path in endpoints(rp):
        for auth in (None, client_auth(rp)):
            response = http.post(path, data=body, content_type=content_type, auth=auth)
            assert_handled(response, path)


@pytest.mark.parametrize("header", BAD_AUTHORIZATION)
def test_bad_authorization_headers_are_handled(
    app: Flask, rp: RegisteredClient, header: str
) -> None:
    # RFC 6749 2.3.1 and RFC 6750 3: malformed credentials -> invalid_client / invalid_token.
    http = app.test_client()
    for path in ("/token", "/userinfo", "/revoke", "/introspect"):
        for method in ("GET", "POST"):
            response = http.open(
                path,
                method=method,
                headers={"Authorization": header},
                data={"grant_type": "client_credentials", "token": "x"},
            )
            assert_handled(response, path)
            if response.status_code != 405:
                assert response.status_code in (400, 401), (path, header, response.status_code)


def test_repeated_and_long_parameters_are_handled(
    app: Flask, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 3.1 and 3.2: parameters MUST NOT be repeated; long ones are plain errors.
    browser = Browser(app.test_client())
    base = Authorization(rp.client_id, rp.redirect_uri).query()
    for extra in (
        "&client_id=" + rp.client_id,
        "&state=again",
        "&redirect_uri=https://evil.example/cb",
        "&scope=openid",
        "&response_type=token",
        "&nonce=" + LONG,
        "&state=" + LONG,
        "&login_hint=" + LONG,
        "&max_age=" + "9" * 400,
        "&id_token_hint=" + LONG,
        "&code_challenge=" + LONG,
        "&scope=" + "openid%20" * 1000,
        "&ui_locales=" + LONG,
        "&prompt=" + LONG,
    ):
        response = browser.http.get("/authorize?" + base + extra)
        assert_handled(response, "/authorize")
        assert not response.headers.get("Location", "").startswith("https://evil.example")
        assert_handled(browser.follow(response), "/authorize")
    # Signed in, the same requests reach the later checks (max_age, id_token_hint, consent).
    tokens_for(browser, rp, citizen)
    for extra in ("&max_age=" + "9" * 400, "&id_token_hint=" + LONG, "&nonce=" + LONG):
        response = browser.http.get("/authorize?" + base.replace("nonce=", "x=") + extra)
        assert_handled(response, "/authorize")
    for data in (
        {"grant_type": "authorization_code", "code": LONG, "code_verifier": LONG},
        {"grant_type": "refresh_token", "refresh_token": LONG, "scope": LONG},
        {"grant_type": LONG},
        {"grant_type": "client_credentials", "scope": LONG},
        {"token": LONG, "token_type_hint": LONG},
        {
            "client_assertion_type": LONG,
            "client_assertion": LONG,
            "grant_type": "client_credentials",
        },
    ):
        for path in JSON_ENDPOINTS:
            assert_handled(browser.http.post(path, data=data, auth=client_auth(rp)), path)
            assert_handled(browser.http.post(path, data=data), path)
    repeated = "grant_type=refresh_token&grant_type=authorization_code&code=a&code=b"
    response = browser.http.post(
        "/token",
        data=repeated,
        content_type="application/x-www-form-urlencoded",
        auth=client_auth(rp),
    )
    assert_handled(response, "/token")
    assert response.status_code == 400


def test_interaction_forms_with_junk_are_handled(
    app: Flask, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.3: the login and consent steps reject junk without failing.
    browser = Browser(app.test_client())
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    for fields in (
        {"username": LONG, "password": LONG},
        {"username": "\x00" * 18, "password": ""},
        {"username": citizen.number.lower(), "password": "\ud7ff"},
        {},
    ):
        response = browser.submit(page, **fields)
        assert response.status_code in (400, 401), fields
    done = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    assert_handled(done, "/interaction")
    for fields in ({"decision": LONG}, {"decision": ""}, {"enterprise_id": LONG}):
        assert_handled(browser.submit(done, **fields), "/interaction")
    no_csrf = browser.http.post(page.request.path, data={"username": citizen.number})
    assert no_csrf.status_code == 400


# --- property tests -----------------------------------------------------------------------------

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.sampled_from(["code", "none", "S256", "plain", "openid profile", "-1", "0", "", "\x00"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    params=st.dictionaries(
        st.one_of(st.sampled_from(PROTOCOL_PARAMS), st.text(max_size=10)), values, max_size=8
    ),
    known_client=st.booleans(),
    known_redirect=st.booleans(),
)
def test_random_authorization_requests_never_fail(
    app: Flask,
    rp: RegisteredClient,
    params: dict[str, str],
    known_client: bool,
    known_redirect: bool,
) -> None:
    # RFC 6749 4.1.2.1: every malformed authorization request is answered, never crashed on.
    if known_client:
        params["client_id"] = rp.client_id
    if known_redirect:
        params["redirect_uri"] = rp.redirect_uri
    http: FlaskClient = app.test_client()
    response = http.get("/authorize?" + urlencode(params))
    assert_handled(response, "/authorize")
    location = response.headers.get("Location", "")
    if location.startswith("https://") or location.startswith("http://"):
        assert location.startswith(rp.redirect_uri + "?")  # only to the verified URI
    if location.startswith("/"):
        assert_handled(http.get(location), location)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    form=st.dictionaries(
        st.one_of(st.sampled_from(TOKEN_PARAMS), st.text(max_size=10)), values, max_size=8
    ),
    raw=st.one_of(st.none(), st.binary(max_size=300)),
    authenticate=st.booleans(),
)
def test_random_token_requests_never_fail(
    app: Flask,
    rp: RegisteredClient,
    form: dict[str, str],
    raw: bytes | None,
    authenticate: bool,
) -> None:
    # RFC 6749 5.2: the token endpoint answers every malformed request with a JSON error.
    http: FlaskClient = app.test_client()
    auth = client_auth(rp) if authenticate else None
    for path in ("/token", "/revoke", "/introspect"):
        if raw is None:
            response = http.post(path, data=form, auth=auth)
        else:
            response = http.post(
                path, data=raw, content_type="application/x-www-form-urlencoded", auth=auth
            )
        assert_handled(response, path)
        assert response.headers.get("Cache-Control") == "no-store"


# --- logs ---------------------------------------------------------------------------------------


def test_identity_numbers_never_reach_the_logs(
    app: Flask, rp: RegisteredClient, citizen: Citizen, caplog: pytest.LogCaptureFixture
) -> None:
    # PIPL 51 / GB/T 35273 6.3: logs must not hold identity numbers in full.
    caplog.set_level(logging.DEBUG)
    browser = Browser(app.test_client())
    page = browser.authorize(
        Authorization(rp.client_id, rp.redirect_uri, extra={"login_hint": citizen.number})
    )
    failed = browser.submit(page, username=citizen.number, password="wrong")
    assert failed.status_code == 401
    browser.submit(page, username=citizen.number + "X", password="wrong")  # malformed
    tokens = tokens_for(browser, rp, citizen, scope="openid profile")
    browser.http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    browser.http.post("/introspect", data={"token": tokens["access_token"]}, auth=client_auth(rp))
    browser.get("/account")
    assert caplog.records, "expected some log output at DEBUG"
    for record in caplog.records:
        text = record.getMessage() + " " + repr(record.args) + " " + str(record.exc_text or "")
        assert citizen.number not in text, record.name


@pytest.mark.parametrize("header", [None, "Bearer not-a-token"])
def test_userinfo_refusals_carry_a_bearer_challenge(browser: Browser, header: str | None) -> None:
    # RFC 6750 3 and 3.1: a refused bearer request answers 401 with WWW-Authenticate: Bearer,
    # naming invalid_token when a token was presented.
    headers = {"Authorization": header} if header else {}
    response = browser.http.get("/userinfo", headers=headers)
    assert response.status_code == 401
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.lower().startswith("bearer")  # RFC 7235 2.1: schemes are case-insensitive
    if header:
        assert 'error="invalid_token"' in challenge
        assert response.get_json()["error"] == "invalid_token"
