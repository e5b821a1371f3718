"""Pushed Authorization Requests (RFC 9126) and the ``fapi2`` client profile (FAPI 2.0 Security
Profile): the request pushed, checked like /authorize checks it, its request_uri used once by its
own client; a fapi2 client held to private_key_jwt, PAR, DPoP and 60-second codes."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import update
from werkzeug.test import TestResponse

from idp.admin.clients import issue_initial_access_token
from idp.admin.roles import CLI
from idp.app import create_app
from idp.config import Settings
from idp.oauth.registration import ClientSpec, RegistrationError, register_client
from idp.oauth.rfc9126 import REQUEST_URI_PREFIX
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import AuthorizationCode
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.integration.test_jar import Signer, authorize, refusal
from tests.support.browser import Authorization, Browser, location_params
from tests.support.dpop import ProofKey, server_nonce
from tests.support.oidc import client_auth, redeem
from tests.support.private_key_jwt import assertion, jwt_client, new_key, with_assertion

PAR_ENDPOINT = "http://localhost/par"


def request_params(rp: RegisteredClient, **extra: str) -> tuple[Authorization, dict[str, str]]:
    """An authorization request's parameters as a client would push them, with its verifier."""
    request = Authorization(rp.client_id, rp.redirect_uri, extra=extra)
    return request, dict(parse_qsl(request.query()))


def push(
    http: FlaskClient, rp: RegisteredClient, params: dict[str, str], **post: Any
) -> TestResponse:
    post.setdefault("auth", client_auth(rp))
    return http.post("/par", data=params, **post)


def pushed_uri(http: FlaskClient, rp: RegisteredClient, params: dict[str, str]) -> str:
    response = push(http, rp, params)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["request_uri"])


def authorize_with(browser: Browser, client_id: str, request_uri: str) -> TestResponse:
    query = urlencode({"client_id": client_id, "request_uri": request_uri})
    return browser.http.get("/authorize?" + query)


def refused_page(response: TestResponse) -> bool:
    """The person's error page for an unusable request_uri: no redirect to the client."""
    return response.status_code == 400 and "此登录请求已失效" in response.get_data(as_text=True)


def oauth_error(response: TestResponse) -> tuple[int, str]:
    return response.status_code, response.get_json()["error"]


# --- the endpoint and the code flow ------------------------------------------------------------


def test_discovery_advertises_the_par_endpoint(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["pushed_authorization_request_endpoint"] == PAR_ENDPOINT
    assert metadata["require_pushed_authorization_requests"] is False


def test_a_pushed_request_goes_through_the_code_flow(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request, params = request_params(rp)
    response = push(browser.http, rp, params)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)  # RFC 9126 2.2
    assert body["expires_in"] == 60
    assert response.headers["Cache-Control"] == "no-store"
    # RFC 9126 4: the pushed parameters count, not what else the query says.
    start = browser.http.get(
        "/authorize?"
        + urlencode(
            {"client_id": rp.client_id, "request_uri": body["request_uri"], "state": "forged"}
        )
    )
    answer = browser.complete(browser.follow(start), citizen.number, citizen.password)
    assert answer["state"] == request.state
    tokens = redeem(browser, rp, answer["code"], request.verifier)
    assert tokens.status_code == 200, tokens.get_json()


def test_par_needs_the_clients_authentication(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    _request, params = request_params(rp)
    without = push(browser.http, rp, params, auth=None)
    assert oauth_error(without) == (401, "invalid_client")
    wrong = push(browser.http, rp, params, auth=(rp.client_id, "not-the-secret"))
    assert oauth_error(wrong) == (401, "invalid_client")
    assert "request_uri" not in wrong.get_json()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),  # RFC 7636, S256 required of all
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"redirect_uri": "https://elsewhere.example/cb"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"request_uri": REQUEST_URI_PREFIX + "x"}, "invalid_request"),  # RFC 9126 2.1
        ({"client_id": "someone-else"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
    ],
    ids=[
        "no-pkce",
        "plain-pkce",
        "unregistered-redirect",
        "response-type",
        "request-uri",
        "other-client",
        "max-age",
    ],
)
def test_par_refuses_what_authorize_refuses_as_json(
    browser: Browser, rp: RegisteredClient, changes: dict[str, str | None], error: str
) -> None:
    # RFC 9126 2.1 and 2.3: checked as /authorize checks a request, answered to the client.
    _request, params = request_params(rp)
    params = {k: v for k, v in {**params, **changes}.items() if v is not None}
    response = push(browser.http, rp, params)
    assert oauth_error(response) == (400, error)
    assert "Location" not in response.headers


def test_par_refuses_repeated_and_overlong_parameters(
    browser: Browser, rp: RegisteredClient
) -> None:
    _request, params = request_params(rp)
    repeated = urlencode(params) + "&scope=openid+phone"  # RFC 6749 3.1
    response = browser.http.post(
        "/par",
        data=repeated,
        content_type="application/x-www-form-urlencoded",
        auth=client_auth(rp),
    )
    assert oauth_error(response) == (400, "invalid_request")
    overlong = push(browser.http, rp, {**params, "state": "s" * 3000})  # as /authorize bounds it
    assert oauth_error(overlong) == (400, "invalid_request")


def test_prompt_none_is_left_to_authorize(browser: Browser, rp: RegisteredClient) -> None:
    # Nobody is signed in at /par; /authorize answers login_required when the request comes.
    _request, params = request_params(rp, prompt="none")
    uri = pushed_uri(browser.http, rp, params)
    answer = location_params(authorize_with(browser, rp.client_id, uri))
    assert answer["error"] == "login_required"


# --- request_uri: once, its own client's, not expired ------------------------------------------


def test_a_request_uri_serves_once(browser: Browser, rp: RegisteredClient) -> None:
    _request, params = request_params(rp)
    uri = pushed_uri(browser.http, rp, params)
    first = authorize_with(browser, rp.client_id, uri)
    assert first.status_code == 302 and "/interaction/" in first.headers["Location"]
    assert refused_page(authorize_with(browser, rp.client_id, uri))


def test_of_racing_uses_of_a_request_uri_one_wins(app: Flask, rp: RegisteredClient) -> None:
    _request, params = request_params(rp)
    uri = pushed_uri(app.test_client(), rp, params)
    statuses: list[int] = []
    gate = threading.Barrier(4)

    def use() -> None:
        browser = Browser(app.test_client())
        gate.wait()
        statuses.append(authorize_with(browser, rp.client_id, uri).status_code)

    racers = [threading.Thread(target=use) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(statuses) == [302, 400, 400, 400]


def test_another_clients_request_uri_is_refused_and_not_spent(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    other = make_client(app)
    _request, params = request_params(rp)
    uri = pushed_uri(browser.http, rp, params)
    assert refused_page(authorize_with(browser, other.client_id, uri))  # RFC 9126 4
    assert authorize_with(browser, rp.client_id, uri).status_code == 302


def test_an_unknown_request_uri_is_refused(browser: Browser, rp: RegisteredClient) -> None:
    # A URL is no pushed request's reference (request_uri_not_supported, tests/.../test_jar.py).
    for uri in (REQUEST_URI_PREFIX + "made-up", REQUEST_URI_PREFIX + "\x00", REQUEST_URI_PREFIX):
        assert refused_page(authorize_with(browser, rp.client_id, uri))


def test_an_expired_request_uri_is_refused(
    app: Flask, settings: Settings, rp: RegisteredClient
) -> None:
    brief = create_app(replace(settings, par_ttl=1)).test_client()
    _request, params = request_params(rp)
    response = push(brief, rp, params)
    assert response.get_json()["expires_in"] == 1
    time.sleep(2.1)
    late = authorize_with(
        Browser(app.test_client()), rp.client_id, response.get_json()["request_uri"]
    )
    assert refused_page(late)


# --- clients that must push ----------------------------------------------------------------------


def test_a_client_that_must_push_cannot_skip_par(app: Flask, browser: Browser) -> None:
    must = make_client(app, require_pushed_authorization_requests=True)
    request, params = request_params(must)
    direct = browser.http.get("/authorize?" + urlencode(params))
    answer = location_params(direct)  # its redirect URI is verified: the error goes there
    assert direct.headers["Location"].startswith(must.redirect_uri)
    assert (answer["error"], answer["state"]) == ("invalid_request", request.state)
    uri = pushed_uri(browser.http, must, params)
    assert "/interaction/" in authorize_with(browser, must.client_id, uri).headers["Location"]


def test_dynamic_registration_takes_require_pushed_authorization_requests(
    app: Flask, browser: Browser
) -> None:
    with app.app_context():
        token = issue_initial_access_token(CLI)["initial_access_token"]
    metadata = {
        "client_name": "学位查询 Degree check",
        "redirect_uris": ["https://dcr-par.example/cb"],
        "require_pushed_authorization_requests": True,  # RFC 9126 6
    }
    answer = browser.http.post(
        "/connect/register", json=metadata, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()
    registered = answer.get_json()
    assert registered["require_pushed_authorization_requests"] is True
    made = RegisteredClient(
        registered["client_id"], registered["client_secret"], metadata["redirect_uris"][0]
    )
    _request, params = request_params(made)
    assert location_params(browser.http.get("/authorize?" + urlencode(params)))["error"] == (
        "invalid_request"
    )


def test_a_pushed_request_may_be_a_signed_request_object(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # FAPI 2.0 Message Signing 5.3.1: JAR (rfc9101) inside PAR; its parameters are the request.
    signer = Signer(app)
    claims = signer.claims()
    signed_in = with_assertion(assertion(signer.rp.client_id, signer.key, aud=PAR_ENDPOINT))
    form = {"client_id": signer.rp.client_id, "request": signer.sign(claims), **signed_in}
    response = push(browser.http, signer.rp, form, auth=None)
    assert response.status_code == 201, response.get_json()
    start = authorize_with(browser, signer.rp.client_id, response.get_json()["request_uri"])
    answer = browser.complete(browser.follow(start), citizen.number, citizen.password)
    assert answer["state"] == claims["state"] and answer["code"]
    forged = signer.sign(signer.claims(), key=new_key())
    bad = {"client_id": signer.rp.client_id, "request": forged}
    refused = push(
        browser.http,
        signer.rp,
        bad | with_assertion(assertion(signer.rp.client_id, signer.key, aud=PAR_ENDPOINT)),
        auth=None,
    )
    assert oauth_error(refused) == (400, "invalid_request_object")


# --- the fapi2 profile ---------------------------------------------------------------------------


def fapi2_client(app: Flask, key: ECKey) -> RegisteredClient:
    return jwt_client(app, key, profile="fapi2")


def signed(rp: RegisteredClient, key: ECKey, audience: str) -> dict[str, str]:
    return with_assertion(assertion(rp.client_id, key, aud=audience))


def fapi2_code(
    browser: Browser, rp: RegisteredClient, key: ECKey, citizen: Citizen
) -> tuple[Authorization, str]:
    """PAR with private_key_jwt (audience: the PAR endpoint), then the sign-in: the code."""
    request, params = request_params(rp)
    response = push(browser.http, rp, params | signed(rp, key, PAR_ENDPOINT), auth=None)
    assert response.status_code == 201, response.get_json()
    start = authorize_with(browser, rp.client_id, response.get_json()["request_uri"])
    answer = browser.complete(browser.follow(start), citizen.number, citizen.password)
    return request, answer["code"]


def fapi2_redeem(
    browser: Browser, rp: RegisteredClient, key: ECKey, code: str, verifier: str, proof: str | None
) -> TestResponse:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
        **signed(rp, key, "http://localhost/token"),
    }
    return browser.http.post("/token", data=data, headers={"DPoP": proof} if proof else {})


def test_a_fapi2_client_authenticates_with_private_key_jwt_only(app: Flask) -> None:
    base = {"name": "税务 Tax", "redirect_uris": ["https://tax.example/cb"], "scope": "openid"}
    for method in ("client_secret_basic", "client_secret_post", "none"):
        with app.app_context(), pytest.raises(RegistrationError, match="private_key_jwt"):
            register_client(ClientSpec(**base, auth_method=method, profile="fapi2"))  # type: ignore[arg-type]


def test_a_fapi2_client_signs_with_es256_only(app: Flask, browser: Browser) -> None:
    # FAPI 2.0 SP 5.4.1: PS256, ES256 or EdDSA; RS256, fine for other clients, is refused.
    key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    jwks = {"keys": [key.as_dict(private=False)]}
    verdicts = []
    for profile in ("", "fapi2"):
        rp = make_client(app, auth_method="private_key_jwt", jwks=jwks, profile=profile)
        _request, params = request_params(rp)
        rs256 = with_assertion(assertion(rp.client_id, key, alg="RS256", aud=PAR_ENDPOINT))
        answer = push(browser.http, rp, params | rs256, auth=None)
        verdicts.append((answer.status_code, answer.get_json().get("error")))
    assert verdicts == [(201, None), (400, "invalid_client")]
    base = {"name": "银行 Bank", "redirect_uris": ["https://bank.example/cb"], "scope": "openid"}
    with app.app_context():
        made, _ = register_client(
            ClientSpec(**base, auth_method="private_key_jwt", jwks=jwks, profile="fapi2")  # type: ignore[arg-type]
        )
        assert made.id_token_signed_response_alg == "ES256"  # whatever id_token_alg says


def test_a_fapi2_clients_request_objects_are_es256(app: Flask, browser: Browser) -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    texts = []
    for profile in ("", "fapi2"):
        signer = Signer(app, profile=profile)
        signed_rs256 = signer.sign(signer.claims(), key=rsa, alg="RS256")
        texts.append(refusal(authorize(browser, signer.rp.client_id, signed_rs256)))
    fapi2_only = "this client's request objects must be signed ES256"
    assert fapi2_only not in texts[0] and fapi2_only in texts[1]


def test_a_fapi2_client_goes_through_par_private_key_jwt_and_dpop(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    key = new_key()
    rp = fapi2_client(app, key)
    request, code = fapi2_code(browser, rp, key, citizen)
    dpop = ProofKey(server_nonce(browser.http))
    response = fapi2_redeem(browser, rp, key, code, request.verifier, dpop.proof())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "DPoP"


def test_a_fapi2_client_must_push(app: Flask, browser: Browser) -> None:
    rp = fapi2_client(app, new_key())
    _request, params = request_params(rp)
    answer = location_params(browser.http.get("/authorize?" + urlencode(params)))
    assert answer["error"] == "invalid_request"


def test_a_fapi2_clients_tokens_need_a_dpop_proof(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    key = new_key()
    rp = fapi2_client(app, key)
    request, code = fapi2_code(browser, rp, key, citizen)
    without = fapi2_redeem(browser, rp, key, code, request.verifier, None)
    assert oauth_error(without) == (400, "invalid_dpop_proof")
    # Refused before the code is looked at: with a proof, the same code still works.
    with_proof = fapi2_redeem(
        browser, rp, key, code, request.verifier, ProofKey(server_nonce(browser.http)).proof()
    )
    assert with_proof.status_code == 200, with_proof.get_json()
    own = {"grant_type": "client_credentials", **signed(rp, key, "http://localhost/token")}
    assert oauth_error(browser.http.post("/token", data=own)) == (400, "invalid_dpop_proof")


def _age_code(app: Flask, code: str, seconds: int) -> None:
    """Move a code's clock: as if it had been issued ``seconds`` earlier."""
    with app.app_context():
        db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.code_digest == token_digest(code))
            .values(expires_at=AuthorizationCode.expires_at - seconds)
        )
        db.session.commit()


def test_a_fapi2_code_lives_at_most_60_seconds(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # FAPI 2.0 SP 5.3.2.2, whatever IDP_CODE_TTL (300 here) says for other clients.
    key = new_key()
    fapi = fapi2_client(app, key)
    request, code = fapi2_code(browser, fapi, key, citizen)
    _age_code(app, code, 61)
    late = fapi2_redeem(
        browser, fapi, key, code, request.verifier, ProofKey(server_nonce(browser.http)).proof()
    )
    assert oauth_error(late) == (400, "invalid_grant")
    # The same age is fine for an ordinary client.
    plain_request, plain_params = request_params(rp)
    uri = pushed_uri(browser.http, rp, plain_params)
    answer = browser.complete(
        browser.follow(authorize_with(browser, rp.client_id, uri)), citizen.number, citizen.password
    )
    _age_code(app, answer["code"], 61)
    assert redeem(browser, rp, answer["code"], plain_request.verifier).status_code == 200
