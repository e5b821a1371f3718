"""DPoP (RFC 9449): bound tokens at the token endpoint, UserInfo and introspection, and the
proofs refused, in the spirit of the FAPI 2.0 conformance suite's negative modules."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Browser
from tests.support.dpop import ProofKey, server_nonce
from tests.support.oidc import client_auth, introspect, login


@pytest.fixture()
def nonce(browser: Browser) -> str:
    """The server nonce (IDP_DPOP_NONCE is on by default, and so in tests)."""
    return server_nonce(browser.http)


def redeem_with(
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    proof: str | None,
    public: bool = False,
) -> TestResponse:
    request, params = login(browser, rp, citizen)
    data = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": rp.redirect_uri,
        "code_verifier": request.verifier,
    }
    headers = {"DPoP": proof} if proof is not None else {}
    if public:
        return browser.http.post(
            "/token", data={**data, "client_id": rp.client_id}, headers=headers
        )
    return browser.http.post("/token", data=data, headers=headers, auth=client_auth(rp))


def bound_tokens(browser: Browser, rp: RegisteredClient, citizen: Citizen, key: ProofKey) -> Any:
    response = redeem_with(browser, rp, citizen, key.proof())
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
    renewed = refresh(key.proof())
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["token_type"] == "DPoP"


def test_discovery_names_the_proof_algorithms(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert not {"none", "HS256"} & set(metadata["dpop_signing_alg_values_supported"])
