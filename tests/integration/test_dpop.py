"""DPoP (RFC 9449): bound tokens at the token endpoint, UserInfo and introspection, and the
proofs refused, in the spirit of the FAPI 2.0 conformance suite's negative modules."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.app import create_app
from idp.config import Settings
from idp.oauth.rfc9449 import NONCE_WINDOW_SECONDS, nonce_of
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Browser
from tests.support.dpop import ProofKey, server_nonce
from tests.support.oidc import client_auth, introspect, login


@pytest.fixture()
def nonce(browser: Browser) -> str:
    """The server nonce (IDP_DPOP_NONCE is on by default, and so in tests)."""
    return server_nonce(browser.http)


def code_form(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, scope: str = "openid profile"
) -> dict[str, str]:
    """A fresh code's redemption form, for sending (and resending) to /token."""
    request, params = login(browser, rp, citizen, scope=scope)
    return {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": rp.redirect_uri,
        "code_verifier": request.verifier,
    }


def post_token(
    browser: Browser,
    rp: RegisteredClient,
    data: dict[str, str],
    proof: str | None,
    public: bool = False,
) -> TestResponse:
    headers = {"DPoP": proof} if proof is not None else {}
    if public:
        return browser.http.post(
            "/token", data={**data, "client_id": rp.client_id}, headers=headers
        )
    return browser.http.post("/token", data=data, headers=headers, auth=client_auth(rp))


def redeem_with(
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    proof: str | None,
    public: bool = False,
) -> TestResponse:
    return post_token(browser, rp, code_form(browser, rp, citizen), proof, public)


def bound_tokens(
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    key: ProofKey,
    scope: str = "openid profile",
) -> Any:
    response = post_token(browser, rp, code_form(browser, rp, citizen, scope), key.proof())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def call_userinfo(browser: Browser, scheme: str, token: str, proof: str | None) -> TestResponse:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return browser.http.get("/userinfo", headers=headers)


def test_a_proof_binds_the_token(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    body = bound_tokens(browser, rp, citizen, key)
    assert body["token_type"] == "DPoP"  # RFC 9449 5
    found = introspect(browser, rp, body["access_token"])
    assert found["token_type"] == "DPoP"
    assert found["cnf"] == {"jkt": key.thumbprint}  # RFC 9449 6.2


def test_without_a_proof_the_token_is_a_bearer_token(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    body = redeem_with(browser, rp, citizen, None).get_json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in introspect(browser, rp, body["access_token"])


def test_userinfo_takes_the_token_with_a_proof_by_its_key(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    token = bound_tokens(browser, rp, citizen, key)["access_token"]
    ok = call_userinfo(browser, "DPoP", token, key.proof("GET", "/userinfo", token))
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.get_json()["sub"]
    # RFC 9449 7.1: no proof, or the Bearer scheme, is refused with a DPoP challenge.
    for refused in (
        call_userinfo(browser, "DPoP", token, None),
        call_userinfo(browser, "Bearer", token, None),
        call_userinfo(browser, "Bearer", token, key.proof("GET", "/userinfo", token)),
    ):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("DPoP")
    other = ProofKey(nonce)
    assert (
        call_userinfo(browser, "DPoP", token, other.proof("GET", "/userinfo", token)).status_code
        == 401
    )


@pytest.mark.parametrize(
    "breaks",
    [
        {"htm": "GET"},
        {"path": "/userinfo"},
        {"htu": "http://localhost/token?x=1"},
        {"iat": int(time.time()) - 600},
        {"iat": int(time.time()) + 600},
        {"jti": None},
        {"header": {"typ": "JWT"}},
        {"header": {"alg": "none"}},
        {"header": {"alg": "HS256"}},
        {"header": {"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}},
    ],
    ids=[
        "htm",
        "htu-path",
        "htu-query",
        "stale-iat",
        "future-iat",
        "no-jti",
        "typ",
        "none",
        "HS256",
        "jwk",
    ],
)
def test_a_broken_proof_is_refused_at_the_token_endpoint(
    nonce: str,
    app: Flask,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    breaks: dict[str, Any],
) -> None:
    response = redeem_with(browser, rp, citizen, _broken(ProofKey(nonce), breaks))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"


def _broken(key: ProofKey, breaks: dict[str, Any]) -> str:
    if breaks.get("header", {}).get("alg") == "none":

        def part(value: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        header = {"typ": "dpop+jwt", "alg": "none", "jwk": key.key.as_dict(private=False)}
        claims = {
            "jti": "x",
            "htm": "POST",
            "htu": "http://localhost/token",
            "iat": int(time.time()),
        }
        return f"{part(header)}.{part(claims)}."
    return key.proof(**breaks)


def test_a_private_key_in_the_jwk_is_refused(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    proof = key.proof(header={"jwk": key.key.as_dict(private=True)})
    assert redeem_with(browser, rp, citizen, proof).get_json()["error"] == "invalid_dpop_proof"


def test_a_replayed_proof_is_refused(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    proof = key.proof()
    assert redeem_with(browser, rp, citizen, proof).status_code == 200
    again = redeem_with(browser, rp, citizen, proof)
    assert (again.status_code, again.get_json()["error"]) == (400, "invalid_dpop_proof")


def test_userinfo_refuses_a_missing_or_wrong_ath(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    token = bound_tokens(browser, rp, citizen, key)["access_token"]
    without = key.proof("GET", "/userinfo")
    wrong = key.proof("GET", "/userinfo", token + "x")
    for proof in (without, wrong):
        assert call_userinfo(browser, "DPoP", token, proof).status_code == 401


def test_a_public_clients_refresh_token_needs_the_same_key(
    nonce: str, app: Flask, browser: Browser, citizen: Citizen
) -> None:
    public = make_client(
        app, auth_method="none", grant_types=["authorization_code", "refresh_token"]
    )
    key = ProofKey(nonce)
    first = redeem_with(browser, public, citizen, key.proof(), public=True)
    assert first.status_code == 200, first.get_json()
    refresh_token = first.get_json()["refresh_token"]

    def refresh(proof: str | None) -> TestResponse:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": public.client_id,
        }
        return browser.http.post("/token", data=data, headers={"DPoP": proof} if proof else {})

    # RFC 9449 5: refused without a proof and with another key, without spending the token.
    assert refresh(None).get_json()["error"] == "invalid_grant"
    assert refresh(ProofKey(nonce).proof()).get_json()["error"] == "invalid_grant"
    # RFC 9449 8: asked for the nonce, the client retries with the same refresh token.
    assert refresh(key.proof(nonce=None)).get_json()["error"] == "use_dpop_nonce"
    renewed = refresh(key.proof())
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["token_type"] == "DPoP"


def test_discovery_names_the_proof_algorithms(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert not {"none", "HS256"} & set(metadata["dpop_signing_alg_values_supported"])


def _challenge(response: TestResponse) -> str:
    assert response.status_code == 401, response.get_data(as_text=True)
    challenge: str = response.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP "), challenge
    return challenge


def test_userinfo_refuses_a_proof_for_another_request_or_spent(
    nonce: str, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    key = ProofKey(nonce)
    token = bound_tokens(browser, rp, citizen, key)["access_token"]
    for proof in (
        key.proof("POST", "/userinfo", token),  # RFC 9449 4.3 (8): htm
        key.proof("GET", "/token", token),  # RFC 9449 4.3 (9): htu
        key.proof("GET", "/userinfo", token, htu="http://evil.example/userinfo"),
    ):
        assert 'error="invalid_dpop_proof"' in _challenge(
            call_userinfo(browser, "DPoP", token, proof)
        )
    proof = key.proof("GET", "/userinfo", token)
    assert call_userinfo(browser, "DPoP", token, proof).status_code == 200
    # RFC 9449 11.1: the same proof (same jti) a second time is a replay.
    assert 'error="invalid_dpop_proof"' in _challenge(call_userinfo(browser, "DPoP", token, proof))


def _credentials_client(app: Flask) -> RegisteredClient:
    return make_client(app, scope="openid credentials", allowed_reserved=frozenset({"credentials"}))


def _call_credentials(
    browser: Browser, method: str, path: str, scheme: str, token: str, proof: str | None
) -> TestResponse:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return browser.http.open(path, method=method, headers=headers)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/credentials"), ("POST", "/credentials/nonce")]
)
def test_the_credentials_api_takes_a_bound_token_only_with_its_proof(
    nonce: str, app: Flask, browser: Browser, citizen: Citizen, method: str, path: str
) -> None:
    rp, key = _credentials_client(app), ProofKey(nonce)
    token = bound_tokens(browser, rp, citizen, key, scope="openid credentials")["access_token"]

    def call(scheme: str, proof: str | None) -> TestResponse:
        return _call_credentials(browser, method, path, scheme, token, proof)

    ok = call("DPoP", key.proof(method, path, token))
    assert ok.status_code == 200, ok.get_json()
    assert ok.headers["DPoP-Nonce"]  # RFC 9449 9: the nonce for the next proof
    # RFC 9449 7.1: no proof, the Bearer scheme, another key, another request's proof, no ath.
    other = "GET" if method == "POST" else "POST"
    for refused in (
        call("DPoP", None),
        call("Bearer", None),
        call("Bearer", key.proof(method, path, token)),
        call("DPoP", ProofKey(nonce).proof(method, path, token)),
        call("DPoP", key.proof(other, path, token)),
        call("DPoP", key.proof(method, "/userinfo", token)),
        call("DPoP", key.proof(method, path)),
    ):
        _challenge(refused)


def _window() -> int:
    """This nonce window, waiting out its last seconds so the test does not straddle two."""
    if time.time() % NONCE_WINDOW_SECONDS > NONCE_WINDOW_SECONDS - 3:
        time.sleep(3)
    return int(time.time() // NONCE_WINDOW_SECONDS)


def test_the_token_endpoint_asks_for_its_nonce_without_spending_the_code(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    _window()
    key = ProofKey()
    form = code_form(browser, rp, citizen)
    for missing_or_wrong in (None, "made-up", "A" * 43, "非ASCII", 7):
        asked = post_token(browser, rp, form, key.proof(nonce=missing_or_wrong))
        # RFC 9449 8: 400 use_dpop_nonce, with the nonce to use in DPoP-Nonce.
        assert (asked.status_code, asked.get_json()["error"]) == (400, "use_dpop_nonce")
        assert asked.headers["Cache-Control"] == "no-store"
    key.nonce = asked.headers["DPoP-Nonce"]
    done = post_token(browser, rp, form, key.proof())  # the same code, retried
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["token_type"] == "DPoP"
    assert done.headers["DPoP-Nonce"] == key.nonce  # RFC 9449 8.2: a fresh one with each answer


def test_a_nonce_of_the_previous_window_is_taken_an_older_one_not(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    window = _window()
    with app.app_context():
        previous, older = nonce_of(window - 1), nonce_of(window - 2)
    form = code_form(browser, rp, citizen)
    stale = post_token(browser, rp, form, ProofKey(older).proof())
    assert stale.get_json()["error"] == "use_dpop_nonce"
    with app.app_context():
        assert stale.headers["DPoP-Nonce"] == nonce_of(window)
    taken = post_token(browser, rp, form, ProofKey(previous).proof())
    assert taken.status_code == 200, taken.get_json()


def test_resources_ask_for_the_nonce_in_their_challenge(
    nonce: str, app: Flask, browser: Browser, citizen: Citizen
) -> None:
    rp, key = _credentials_client(app), ProofKey(nonce)
    token = bound_tokens(browser, rp, citizen, key, scope="openid credentials")["access_token"]
    window = _window()
    with app.app_context():
        older = nonce_of(window - 2)
    for path in ("/userinfo", "/credentials"):
        for stale in (None, older):
            key.nonce = stale
            refused = _call_credentials(
                browser, "GET", path, "DPoP", token, key.proof("GET", path, token)
            )
            # RFC 9449 9: 401 with error="use_dpop_nonce" in the DPoP challenge.
            assert 'error="use_dpop_nonce"' in _challenge(refused)
            key.nonce = refused.headers["DPoP-Nonce"]
            retried = _call_credentials(
                browser, "GET", path, "DPoP", token, key.proof("GET", path, token)
            )
            assert retried.status_code == 200, retried.get_json()


def test_every_node_takes_every_nodes_nonce(
    settings: Settings, app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    """Another process with the same settings, no state shared but the database: its nonce is
    good here, so a load balancer may send a client's next request anywhere."""
    other = Browser(create_app(settings).test_client())
    key = ProofKey(server_nonce(other.http))
    assert bound_tokens(browser, rp, citizen, key)["token_type"] == "DPoP"


def test_bearer_requests_get_no_nonce(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    response = redeem_with(browser, rp, citizen, None)
    assert response.status_code == 200
    assert "DPoP-Nonce" not in response.headers
    token = response.get_json()["access_token"]
    assert "DPoP-Nonce" not in call_userinfo(browser, "Bearer", token, None).headers


def test_without_nonces_a_proof_needs_none(
    settings: Settings, app: Flask, rp: RegisteredClient, citizen: Citizen
) -> None:
    """IDP_DPOP_NONCE=0: the proof stands on iat and its one-time jti; no DPoP-Nonce is sent."""
    browser = Browser(create_app(replace(settings, dpop_nonce=False)).test_client())
    key = ProofKey()
    response = redeem_with(browser, rp, citizen, key.proof())
    assert response.status_code == 200, response.get_json()
    assert "DPoP-Nonce" not in response.headers
    token = response.get_json()["access_token"]
    assert (
        call_userinfo(browser, "DPoP", token, key.proof("GET", "/userinfo", token)).status_code
        == 200
    )
