"""Found by a fuzz run: JSON bodies nested a thousand deep made ``get_json`` raise
``RecursionError`` (a 500), and an over-long ``state`` came back in a ``Location`` header over
64 KB. Every JSON body is read by ``idp.web.json_body`` (bounded size and depth) and every
echoed parameter is bounded by ``idp.web.reflected``."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from flask import Flask

from idp.web.json_body import MAX_JSON_BYTES, MAX_JSON_DEPTH, nesting_depth
from idp.web.reflected import MAX_ECHOED, MAX_PARAMETER
from tests.conftest import Citizen, RegisteredClient
from tests.integration import test_credentials
from tests.support.browser import Authorization, Browser
from tests.support.oidc import tokens_for

#: The credential API's own fixtures: a client allowed the credentials scope, an operator token.
wallet_rp = test_credentials.wallet_rp
_admin_token = test_credentials._admin_token
DEEP = 1000
FORM = "application/x-www-form-urlencoded"
BAD_BODIES = {
    "deep array": "[" * DEEP + "]" * DEEP,
    "deep object": '{"a":' * DEEP + "1" + "}" * DEEP,
    "deep inside a real body": json.dumps({"identifier": "x", "holder_key": {}})[:-1]
    + ', "x": '
    + "[" * DEEP
    + "]" * DEEP
    + "}",
    "over-size": json.dumps({"identifier": "x" * MAX_JSON_BYTES}),
    "not JSON": "{identifier: x}",
    "not an object": '["identifier"]',
    "not UTF-8": b'{"identifier": "\xff\xfe"}',
}


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside strings do not count
        (b'{"a": "\\"[[[["}', 1),  # nor after an escaped quote
        (b"[" * 50, 50),  # unclosed: an upper bound is enough
        (b"", 0),
    ],
)
def test_nesting_depth_skips_strings(raw: bytes, depth: int) -> None:
    assert nesting_depth(raw) == depth


def _post_each(browser: Browser, path: str, token: str) -> None:
    for name, body in BAD_BODIES.items():
        response = browser.http.post(
            path,
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (name, response.get_data(as_text=True)[:300])
        answer = response.get_json()
        assert answer["error"] == "invalid_request", (name, answer)  # RFC 6749 5.2 shape
        assert answer["error_description"], name
        assert response.headers["Cache-Control"] == "no-store"
    just_deep_enough = {"identifier": "none"}
    for _ in range(MAX_JSON_DEPTH - 1):
        just_deep_enough = {"identifier": "none", "x": just_deep_enough}  # type: ignore[dict-item]
    within = browser.http.post(
        path, json=just_deep_enough, headers={"Authorization": f"Bearer {token}"}
    )
    assert within.status_code == 404, within.get_json()  # parsed: no such certificate


def test_bad_bodies_to_the_issuance_api_are_400(
    browser: Browser, citizen: Citizen, wallet_rp: RegisteredClient
) -> None:
    token = tokens_for(browser, wallet_rp, citizen, scope="openid credentials")["access_token"]
    _post_each(browser, "/credentials/issue", token)


def test_bad_bodies_to_the_revocation_api_are_400(app: Flask, browser: Browser) -> None:
    _post_each(browser, "/credentials/revoke", _admin_token(browser, app))


def _authorize(browser: Browser, rp: RegisteredClient, method: str, **params: str) -> str:
    request = Authorization(rp.client_id, rp.redirect_uri, extra=params)
    if "state" in params:
        request.state = params["state"]
    if method == "GET":
        response = browser.http.get("/authorize?" + request.query())
    else:
        response = browser.http.post("/authorize", data=request.query(), content_type=FORM)
    assert response.status_code in (302, 400), response.status_code
    return response.headers.get("Location") or response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_over_long_state_is_told_to_the_person_not_redirected(
    browser: Browser, rp: RegisteredClient, method: str
) -> None:
    page = _authorize(browser, rp, method, state="s" * 70_000)
    assert page.startswith("<!doctype html>") and "(state)" in page
    assert "s" * 100 not in page
    fits = _authorize(browser, rp, method, state="s" * MAX_ECHOED)
    assert fits.startswith("/interaction/"), fits[:200]
    over = _authorize(browser, rp, method, state="s" * (MAX_ECHOED + 1))
    assert over.startswith("<!doctype html>")
    assert _authorize(browser, rp, method, nonce="n" * (MAX_ECHOED + 1)).startswith("<!doctype")
    hint = _authorize(browser, rp, method, login_hint="1" * (MAX_PARAMETER + 1))
    assert hint.startswith("<!doctype") and "(login_hint)" in hint


def test_an_over_long_logout_state_is_refused(browser: Browser, rp: RegisteredClient) -> None:
    query = urlencode({"client_id": rp.client_id, "state": "s" * (MAX_ECHOED + 1)})
    response = browser.http.get("/logout?" + query)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "(state)" in response.get_data(as_text=True)
