"""Signed request objects (JAR, RFC 9101) at /authorize: a client registered with a JWKS signs its
authorization request, and every rule of RFC 9101, OIDC Core 6 and FAPI 2.0 Message Signing 5.3.1
refuses a request object that breaks it, on a page (no redirect URI is verified yet), not a 500."""

from __future__ import annotations

import base64
import html
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from joserfc import jwe, jws
from joserfc.jwk import ECKey, OctKey, RSAKey
from werkzeug.test import TestResponse

from idp.oauth import rfc9101
from idp.oauth.server import query_client
from tests.conftest import Citizen, RegisteredClient
from tests.support.browser import Browser, location_params, pkce_pair
from tests.support.oidc import id_token_claims
from tests.support.private_key_jwt import assertion, jwt_client, new_key, with_assertion

ISSUER = "http://localhost"
REQUEST_TYPE = "oauth-authz-req+jwt"


class Signer:
    """A client with a registered key, and the request objects it signs."""

    def __init__(self, app: Flask, key: ECKey | None = None, **registration: object) -> None:
        self.key = key or new_key()
        self.rp = jwt_client(app, self.key, **registration)
        self.verifier, self.challenge = pkce_pair()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.rp.client_id,
            "aud": ISSUER,
            "client_id": self.rp.client_id,
            "response_type": "code",
            "redirect_uri": self.rp.redirect_uri,
            "scope": "openid profile",
            "state": "inner-" + secrets.token_hex(4),
            "nonce": secrets.token_hex(8),
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(12),
            **overrides,
        }
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], key: Any = None, **header: Any) -> str:
        signing_key = key or self.key
        protected = {"alg": "ES256", "typ": REQUEST_TYPE, "kid": signing_key.kid, **header}
        payload = json.dumps(claims).encode()
        return jws.serialize_compact(protected, payload, signing_key, algorithms=[protected["alg"]])

    def request_object(self, **overrides: Any) -> str:
        return self.sign(self.claims(**overrides))


def authorize(browser: Browser, client_id: str, request_object: str, **outer: str) -> TestResponse:
    """OIDC Core 6.1: the query still carries client_id, response_type and scope with openid."""
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid",
        "request": request_object,
        **outer,
    }
    return browser.http.get("/authorize?" + urlencode(query))


def refusal(response: TestResponse) -> str:
    """The text of an error page: a 400 page and no redirect anywhere."""
    assert response.status_code == 400, response.get_data(as_text=True)[:400]
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    return html.unescape(response.get_data(as_text=True))


def refused_request_object(response: TestResponse, why: str) -> None:
    text = refusal(response)
    assert "Invalid signed request" in text or "签名请求无效" in text
    assert why in text, text[:1500]


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture()
def signer(app: Flask) -> Signer:
    return Signer(app)


# --- the whole flow ----------------------------------------------------------------------------


def test_signed_request_object_signs_in_through_the_code_flow(
    app: Flask, browser: Browser, signer: Signer, citizen: Citizen
) -> None:
    # RFC 9101 6.3: only the request object's parameters count; the outer state is ignored.
    claims = signer.claims()
    started = authorize(browser, signer.rp.client_id, signer.sign(claims), state="outer")
    page = browser.follow(started)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    page = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    if 'name="decision"' in page.get_data(as_text=True):
        page = browser.follow(browser.submit(page, decision="allow"))
    assert page.status_code == 302, page.get_data(as_text=True)[:400]
    assert page.headers["Location"].startswith(signer.rp.redirect_uri + "?")
    params = location_params(page)
    assert params["state"] == claims["state"] and params["iss"] == ISSUER
    token = browser.http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": signer.rp.redirect_uri,
            "code_verifier": signer.verifier,
            **with_assertion(assertion(signer.rp.client_id, signer.key)),
        },
    )
    assert token.status_code == 200, token.get_json()
    id_token = id_token_claims(browser, token.get_json()["id_token"])
    assert id_token["nonce"] == claims["nonce"] and signer.rp.client_id in id_token["aud"]


def test_discovery_announces_signed_request_objects(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_object_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert metadata["request_uri_parameter_supported"] is False


# --- the signature -----------------------------------------------------------------------------


def test_alg_none_is_refused(browser: Browser, signer: Signer) -> None:
    # RFC 9101 10.2, FAPI 2.0: an unsigned request object proves nothing.
    unsigned = b64({"alg": "none", "typ": REQUEST_TYPE}) + "." + b64(signer.claims()) + "."
    response = authorize(browser, signer.rp.client_id, unsigned)
    refused_request_object(response, "alg must be one of RS256 ES256")


def test_hmac_is_refused_even_with_a_registered_symmetric_key(app: Flask, browser: Browser) -> None:
    # FAPI 2.0 Security Profile 5.4: asymmetric signatures only, whatever keys the client holds.
    key, mac = new_key(), OctKey.generate_key(256, parameters={"kid": "mac"})
    public = {**key.as_dict(private=False), "alg": "ES256", "use": "sig"}
    jwks = {"keys": [public, {**mac.as_dict(private=True), "alg": "HS256"}]}
    signer = Signer(app, key=key, jwks=jwks)
    token = signer.sign(signer.claims(), mac, alg="HS256")
    response = authorize(browser, signer.rp.client_id, token)
    refused_request_object(response, "alg must be one of RS256 ES256")


def test_a_key_the_client_did_not_register_is_refused(browser: Browser, signer: Signer) -> None:
    forged = signer.sign(signer.claims(), new_key())
    response = authorize(browser, signer.rp.client_id, forged)
    refused_request_object(response, "signature does not verify with the client's keys")


def test_a_client_without_keys_cannot_send_request_objects(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    signer = Signer(app)
    token = signer.sign(signer.claims(iss=rp.client_id, client_id=rp.client_id))
    response = authorize(browser, rp.client_id, token)
    refused_request_object(response, "registered no keys")


def test_a_wrong_typ_is_refused(browser: Browser, signer: Signer) -> None:
    # RFC 9101 4: the explicit type, when given, is oauth-authz-req+jwt (not an ID token's).
    response = authorize(browser, signer.rp.client_id, signer.sign(signer.claims(), typ="JWT"))
    refused_request_object(response, f"typ must be {REQUEST_TYPE}")


def test_an_encrypted_request_object_is_refused(browser: Browser, signer: Signer) -> None:
    key = RSAKey.generate_key(2048)
    payload = signer.request_object()
    encrypted = jwe.encrypt_compact({"alg": "RSA-OAEP", "enc": "A256GCM"}, payload, key)
    assert encrypted.count(".") == 4
    response = authorize(browser, signer.rp.client_id, encrypted)
    refused_request_object(response, "encrypted request objects (JWE) are not supported")


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "ey.ey.ey", "\u00e9.\u00e9.\u00e9"])
def test_garbage_is_a_clear_error(browser: Browser, signer: Signer, garbage: str) -> None:
    response = authorize(browser, signer.rp.client_id, garbage)
    refused_request_object(response, "not a signed JWT (compact JWS)")


# --- the claims --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"iss": "someone-else"}, "iss must be the client_id"),
        ({"iss": None}, "iss must be the client_id"),
        ({"aud": "https://other.example"}, "aud must be the issuer"),
        ({"aud": ["https://other.example"]}, "aud must be the issuer"),
        ({"aud": None}, "aud must be the issuer"),
        ({"client_id": "another-client"}, "client_id must be the request's client_id"),
        ({"client_id": None}, "client_id must be the request's client_id"),
        ({"request_uri": "https://rp.example/ro"}, "must not contain request or request_uri"),
        ({"request": "x.y.z"}, "must not contain request or request_uri"),
        ({"jti": None}, "must carry a jti"),
        ({"prompt": True}, "is not a parameter value"),
    ],
    ids=[
        "iss",
        "no-iss",
        "aud",
        "aud-list",
        "no-aud",
        "client_id",
        "no-client_id",
        "nested-request_uri",
        "nested-request",
        "no-jti",
        "boolean-parameter",
    ],
)
def test_claims_that_break_a_rule_are_refused(
    browser: Browser, signer: Signer, overrides: dict[str, Any], why: str
) -> None:
    # RFC 9101 4 (iss, aud, no nesting), 5 and 6.3 (client_id), 10.8 (jti).
    response = authorize(browser, signer.rp.client_id, signer.request_object(**overrides))
    refused_request_object(response, why)


def test_aud_may_be_a_list_holding_the_issuer(browser: Browser, signer: Signer) -> None:
    token = signer.request_object(aud=["https://other.example", ISSUER])
    response = authorize(browser, signer.rp.client_id, token)
    assert response.status_code == 302 and response.headers["Location"].startswith("/interaction/")


def test_the_outer_client_id_must_match(app: Flask, browser: Browser, signer: Signer) -> None:
    # RFC 9101 6.3: a request object of one client sent under another's client_id.
    other = Signer(app, key=signer.key)
    response = authorize(browser, other.rp.client_id, signer.request_object())
    refused_request_object(response, "iss must be the client_id")
    token = other.request_object(client_id=signer.rp.client_id)
    response = authorize(browser, other.rp.client_id, token)
    refused_request_object(response, "client_id must be the request's client_id")


def test_a_lone_surrogate_is_refused_not_a_500(browser: Browser, signer: Signer) -> None:
    claims = json.dumps(signer.claims()).replace('"state": "inner-', '"state": "\\ud800')
    protected = {"alg": "ES256", "typ": REQUEST_TYPE, "kid": signer.key.kid}
    token = jws.serialize_compact(protected, claims.encode(), signer.key, algorithms=["ES256"])
    response = authorize(browser, signer.rp.client_id, token)
    refused_request_object(response, "is not a parameter value")


# --- time and replay ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "why"),
    [
        ({"nbf": -120, "exp": -60}, "has expired"),
        ({"nbf": 0, "exp": 3700}, "exp is more than 3600 s after nbf"),
        ({"nbf": 120, "exp": 300}, "nbf is in the future"),
        ({"nbf": -3605, "exp": -5}, "nbf is more than 3600 s in the past"),
        ({"exp": None}, "must carry exp and nbf"),
        ({"nbf": None}, "must carry exp and nbf"),
        ({"exp": "soon"}, "must carry exp and nbf"),
    ],
    ids=["expired", "too-long", "not-yet", "too-old", "no-exp", "no-nbf", "text-exp"],
)
def test_request_objects_are_short_lived(
    browser: Browser, signer: Signer, times: dict[str, Any], why: str
) -> None:
    # FAPI 2.0 Message Signing 5.3.1: nbf within the last hour, exp at most an hour after it.
    # The numbers are seconds from now, read here (not when the tests are collected).
    now = int(time.time())
    claims = {k: now + v if isinstance(v, int) else v for k, v in times.items()}
    response = authorize(browser, signer.rp.client_id, signer.request_object(**claims))
    refused_request_object(response, why)


def test_a_request_object_is_used_once(browser: Browser, signer: Signer) -> None:
    # RFC 9101 10.8: a captured request object cannot start a second authorization.
    token = signer.request_object()
    first = authorize(browser, signer.rp.client_id, token)
    assert first.status_code == 302 and first.headers["Location"].startswith("/interaction/")
    again = authorize(browser, signer.rp.client_id, token)
    refused_request_object(again, "jti was already used")


def test_the_same_jti_of_another_client_is_its_own(
    app: Flask, browser: Browser, signer: Signer
) -> None:
    jti = secrets.token_urlsafe(8)
    other = Signer(app)
    for each in (signer, other):
        response = authorize(browser, each.rp.client_id, each.request_object(jti=jti))
        assert response.status_code == 302, response.get_data(as_text=True)[:400]


# --- request_uri -------------------------------------------------------------------------------


def test_an_external_request_uri_is_not_supported(browser: Browser, signer: Signer) -> None:
    # OIDC Core 6.2: request_uri by URL is not fetched (request_uri_parameter_supported false).
    query = {
        "client_id": signer.rp.client_id,
        "response_type": "code",
        "scope": "openid",
        "request_uri": "https://rp.example/request.jwt",
    }
    response = browser.http.get("/authorize?" + urlencode(query))
    assert "supported only as the reference of a pushed request" in refusal(response)


def test_request_and_request_uri_together_are_refused(browser: Browser, signer: Signer) -> None:
    token = signer.request_object()
    response = authorize(
        browser, signer.rp.client_id, token, request_uri="urn:ietf:params:oauth:request_uri:x"
    )
    assert "request and request_uri cannot both be sent" in refusal(response)


def test_the_unpacked_parameters_are_the_request_objects_own(app: Flask, signer: Signer) -> None:
    # RFC 9101 6.3 and 4: the outer ones are dropped, JWT claims are no parameters, a number
    # stands for its digits and an object (OIDC Core 5.5 ``claims``) for its JSON.
    claims = signer.claims(max_age=300, claims={"userinfo": {"name": None}})
    outer = {"client_id": signer.rp.client_id, "state": "outer", "request": signer.sign(claims)}
    with app.test_request_context("/authorize"):
        client = query_client(signer.rp.client_id)
        assert client is not None
        unpacked = rfc9101.unpack(client, outer)
    expected = {k: v for k, v in claims.items() if k not in ("iss", "aud", "nbf", "exp", "jti")}
    assert unpacked == {**expected, "max_age": "300", "claims": '{"userinfo":{"name":null}}'}


def _with_surrogate_name(claims: dict[str, Any]) -> bytes:
    return (json.dumps(claims)[:-1] + ', "\\ud800": "x"}').encode()


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (lambda claims: b"[1, 2]", "payload is not a JSON object"),
        (_with_surrogate_name, "member name that is not text"),
    ],
    ids=["array", "surrogate-name"],
)
def test_a_payload_that_is_no_parameter_set_is_refused(
    browser: Browser, signer: Signer, payload: Any, why: str
) -> None:
    protected = {"alg": "ES256", "typ": REQUEST_TYPE, "kid": signer.key.kid}
    body = payload(signer.claims())
    token = jws.serialize_compact(protected, body, signer.key, algorithms=["ES256"])
    response = authorize(browser, signer.rp.client_id, token)
    refused_request_object(response, why)
