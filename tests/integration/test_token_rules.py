"""Rules of the token, introspection and revocation endpoints (RFC 6749 4.1.3, 4.4, 5, 6;
RFC 7636 4.6; RFC 7009; RFC 7662; RFC 9700 4.14): what they refuse, and what a refusal revokes."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from authlib.oauth2.rfc6749 import InvalidGrantError
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from idp.oauth.tokens import find_token, revoke_grant, save_token
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import AuthorizationCode, Client
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Browser
from tests.support.oidc import (
    client_auth,
    introspect,
    is_dead,
    login,
    redeem,
    refresh,
    tokens_for,
    userinfo,
)


def token_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert (response.status_code, body.get("error")) == (status, error), body
    assert response.headers["Cache-Control"] == "no-store"  # RFC 6749 5.2
    return body


def post_code(
    browser: Browser,
    rp: RegisteredClient,
    code: str,
    verifier: str | None,
    redirect_uri: str | None = None,
    auth: tuple[str, str] | None = None,
) -> TestResponse:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or rp.redirect_uri,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return browser.http.post("/token", data=data, auth=auth or client_auth(rp))


# --- authorization codes -----------------------------------------------------------------------


def test_code_reuse_fails_and_revokes_the_first_tokens(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 4.1.2: a reused code MUST be denied and SHOULD revoke tokens issued on it.
    request, params = login(browser, rp, citizen)
    first = redeem(browser, rp, params["code"], request.verifier)
    assert first.status_code == 200
    tokens = first.get_json()
    assert introspect(browser, rp, tokens["access_token"])["active"] is True

    token_error(redeem(browser, rp, params["code"], request.verifier), 400, "invalid_grant")
    assert is_dead(browser, rp, tokens["access_token"])
    token_error(refresh(browser, rp, tokens["refresh_token"]), 400, "invalid_grant")


def test_wrong_code_verifier_is_invalid_grant(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 7636 4.6: a verifier that does not match the challenge -> invalid_grant.
    _request, params = login(browser, rp, citizen)
    token_error(post_code(browser, rp, params["code"], "x" * 64), 400, "invalid_grant")


def test_missing_code_verifier_is_invalid_request(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 7636 4.4.1 and 4.6: a code issued with a challenge needs code_verifier.
    _request, params = login(browser, rp, citizen)
    token_error(post_code(browser, rp, params["code"], None), 400, "invalid_request")


def test_redirect_uri_must_match_the_authorization_request(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # RFC 6749 4.1.3: redirect_uri must be identical to the one in the authorization request.
    rp = make_client(app, redirect_uris=["https://two.example/a", "https://two.example/b"])
    request, params = login(browser, rp, citizen)
    response = post_code(browser, rp, params["code"], request.verifier, "https://two.example/b")
    token_error(response, 400, "invalid_grant")


def test_code_of_another_client_is_refused_and_not_burnt(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 4.1.3: the code must have been issued to the authenticated client.
    request, params = login(browser, rp, citizen)
    thief = make_client(app, redirect_uris=[rp.redirect_uri])
    stolen = post_code(browser, thief, params["code"], request.verifier)
    token_error(stolen, 400, "invalid_grant")
    # The code is claimed with client_id in the condition: the rightful client still redeems it.
    assert redeem(browser, rp, params["code"], request.verifier).status_code == 200


def test_wrong_client_secret_is_invalid_client_and_spends_nothing(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 5.2: failed client authentication -> 401 invalid_client.
    request, params = login(browser, rp, citizen)
    bad = post_code(browser, rp, params["code"], request.verifier, auth=(rp.client_id, "nope"))
    token_error(bad, 401, "invalid_client")
    assert "Basic" in bad.headers.get("WWW-Authenticate", "")
    assert redeem(browser, rp, params["code"], request.verifier).status_code == 200


def test_expired_code_is_invalid_grant(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 4.1.2: codes are short-lived; an expired one -> invalid_grant (5.2).
    request, params = login(browser, rp, citizen)
    with app.app_context():
        db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.code_digest == token_digest(params["code"]))
            .values(expires_at=AuthorizationCode.expires_at - 3600)
        )
        db.session.commit()
    token_error(redeem(browser, rp, params["code"], request.verifier), 400, "invalid_grant")


def test_unknown_code_is_invalid_grant(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 6749 5.2: an invalid authorization code -> invalid_grant.
    token_error(post_code(browser, rp, "not-a-code", "v" * 50), 400, "invalid_grant")


# --- refresh tokens ------------------------------------------------------------------------------


def test_refresh_token_reuse_revokes_the_whole_grant(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 9700 4.14.2 and RFC 6749 10.4: a replayed rotated refresh token revokes the grant.
    tokens = tokens_for(browser, rp, citizen)
    first = refresh(browser, rp, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.get_json()
    assert introspect(browser, rp, rotated["access_token"])["active"] is True

    token_error(refresh(browser, rp, tokens["refresh_token"]), 400, "invalid_grant")
    assert is_dead(browser, rp, rotated["access_token"])
    token_error(refresh(browser, rp, rotated["refresh_token"]), 400, "invalid_grant")


def test_a_refresh_token_presented_twice_at_once_is_spent_once(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # The old token is spent in the transaction that stores its successor; the row lock makes
    # the second request wait for that commit and lose, whichever database runs it.
    tokens = tokens_for(browser, rp, citizen)
    start = threading.Barrier(2)

    def present(_: int) -> int:
        client = app.test_client()
        start.wait()
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        return client.post("/token", data=data, auth=client_auth(rp)).status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(present, range(2))) == [200, 400]


def test_refresh_token_of_another_client_is_refused_and_not_burnt(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 6: the refresh token must have been issued to the authenticated client.
    tokens = tokens_for(browser, rp, citizen)
    other = make_client(app)
    token_error(refresh(browser, other, tokens["refresh_token"]), 400, "invalid_grant")
    assert introspect(browser, rp, tokens["access_token"])["active"] is True
    assert refresh(browser, rp, tokens["refresh_token"]).status_code == 200


def test_refresh_with_a_wider_scope_is_invalid_scope(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 6: the requested scope MUST NOT include any scope not originally granted.
    tokens = tokens_for(browser, rp, citizen, scope="openid profile")
    wider = refresh(browser, rp, tokens["refresh_token"], scope="openid profile phone")
    token_error(wider, 400, "invalid_scope")
    # A refused request spends nothing: the refresh token still works, for a narrower scope too.
    narrower = refresh(browser, rp, tokens["refresh_token"], scope="openid")
    assert narrower.status_code == 200, narrower.get_json()
    assert narrower.get_json()["scope"] == "openid"


def test_unknown_refresh_token_is_invalid_grant(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 6749 5.2: an invalid refresh token -> invalid_grant.
    token_error(refresh(browser, rp, "no-such-token"), 400, "invalid_grant")


def test_access_token_is_not_a_refresh_token(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 1.5 and 6: only a refresh token refreshes.
    tokens = tokens_for(browser, rp, citizen)
    token_error(refresh(browser, rp, tokens["access_token"]), 400, "invalid_grant")
    assert userinfo(browser, tokens["refresh_token"]).status_code == 401


# --- response headers and grant types --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "authorization_code", "code": "x"}, 400, "invalid_grant"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        (
            {"grant_type": "password", "username": "a", "password": "b"},
            400,
            "unsupported_grant_type",
        ),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
            400,
            "unsupported_grant_type",
        ),
        ({}, 400, "unsupported_grant_type"),
    ],
    ids=["bad-code", "no-refresh-token", "password", "device", "none"],
)
def test_token_errors(
    browser: Browser, rp: RegisteredClient, data: dict[str, str], status: int, error: str
) -> None:
    # RFC 6749 5.2: error codes; 5.1/5.2: Cache-Control: no-store on every token response.
    token_error(browser.http.post("/token", data=data, auth=client_auth(rp)), status, error)


def test_token_success_is_not_cached(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 5.1: Cache-Control: no-store and Pragma: no-cache on success.
    request, params = login(browser, rp, citizen)
    response = redeem(browser, rp, params["code"], request.verifier)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_unauthenticated_token_request_is_invalid_client(
    browser: Browser, rp: RegisteredClient
) -> None:
    # RFC 6749 5.2: no client authentication -> 401 invalid_client.
    response = browser.http.post("/token", data={"grant_type": "client_credentials"})
    token_error(response, 401, "invalid_client")


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_never_grants_personal_scopes(
    app: Flask, browser: Browser, auth_method: str
) -> None:
    # RFC 6749 4.4 and 2.3.1: the client acts for itself, so no scope about a person is granted.
    rp = make_client(app, auth_method=auth_method)
    data = {"grant_type": "client_credentials", "scope": "openid profile phone id_number"}
    if auth_method == "client_secret_basic":
        response = browser.http.post("/token", data=data, auth=client_auth(rp))
    else:
        data |= {"client_id": rp.client_id, "client_secret": rp.secret or ""}
        response = browser.http.post("/token", data=data)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    granted = set(body["scope"].split())
    assert not granted & {"openid", "profile", "phone", "address", "id_number", "enterprise"}
    assert "refresh_token" not in body and "id_token" not in body
    info = introspect(browser, rp, body["access_token"], auth_method == "client_secret_post")
    assert info["active"] is True and info["sub"] == rp.client_id
    assert userinfo(browser, body["access_token"]).status_code in (401, 403)


def test_public_client_cannot_use_client_credentials(app: Flask, browser: Browser) -> None:
    # RFC 6749 4.4: the client credentials grant MUST only be used by confidential clients.
    public = make_client(app, auth_method="none", grant_types=["authorization_code"])
    response = browser.http.post(
        "/token", data={"grant_type": "client_credentials", "client_id": public.client_id}
    )
    token_error(response, 401, "invalid_client")


def test_grant_type_not_registered_for_the_client_is_unauthorized_client(
    app: Flask, browser: Browser
) -> None:
    # RFC 6749 5.2: unauthorized_client when the client may not use this grant type.
    rp = make_client(app, grant_types=["authorization_code", "refresh_token"])
    response = browser.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=client_auth(rp)
    )
    token_error(response, 400, "unauthorized_client")


# --- introspection and revocation --------------------------------------------------------------


def test_client_cannot_introspect_another_clients_token(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 7662 2.1 and 4: the server decides who may introspect; others see active false.
    tokens = tokens_for(browser, rp, citizen)
    other = make_client(app)
    assert introspect(browser, other, tokens["access_token"]) == {"active": False}
    assert introspect(browser, other, tokens["refresh_token"]) == {"active": False}
    own = introspect(browser, rp, tokens["access_token"])
    assert own["active"] is True and own["client_id"] == rp.client_id
    assert citizen.number not in str(own)


def test_introspection_requires_client_authentication(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 7662 2.1: the protected resource MUST authenticate to the endpoint.
    tokens = tokens_for(browser, rp, citizen)
    response = browser.http.post("/introspect", data={"token": tokens["access_token"]})
    token_error(response, 401, "invalid_client")


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
def test_revoking_the_refresh_token_revokes_the_access_token_too(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, hint: str | None
) -> None:
    # RFC 7009 2.1: revoking a refresh token SHOULD also invalidate access tokens of that grant.
    tokens = tokens_for(browser, rp, citizen)
    rotated = refresh(browser, rp, tokens["refresh_token"]).get_json()
    data = {"token": rotated["refresh_token"]}
    if hint:
        data["token_type_hint"] = hint
    response = browser.http.post("/revoke", data=data, auth=client_auth(rp))
    assert response.status_code == 200
    assert is_dead(browser, rp, rotated["access_token"])
    token_error(refresh(browser, rp, rotated["refresh_token"]), 400, "invalid_grant")


def test_revocation_by_another_client_does_nothing(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 7009 2.1: the server verifies the token was issued to the requesting client.
    tokens = tokens_for(browser, rp, citizen)
    other = make_client(app)
    response = browser.http.post(
        "/revoke", data={"token": tokens["refresh_token"]}, auth=client_auth(other)
    )
    assert response.status_code < 500
    assert introspect(browser, rp, tokens["access_token"])["active"] is True
    assert refresh(browser, rp, tokens["refresh_token"]).status_code == 200


def test_revoking_an_unknown_token_is_not_an_error(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 7009 2.2: invalid tokens do not cause an error response.
    response = browser.http.post("/revoke", data={"token": "nothing"}, auth=client_auth(rp))
    assert response.status_code == 200


def test_a_token_saved_into_a_revoked_grant_is_born_dead(ctx: Flask, rp: RegisteredClient) -> None:
    # RFC 9700 4.14.2 / RFC 6749 4.1.2: a replay revokes the grant, even a token of it that the
    # winning request saves only after the revocation ran.
    client = Client.query.filter_by(client_id=rp.client_id).one()
    grant_id = secrets.token_hex(16)
    assert revoke_grant(grant_id) == 0
    token = {"access_token": secrets.token_urlsafe(32), "expires_in": 600, "scope": ""}
    with pytest.raises(InvalidGrantError):
        save_token(services(), token, client, None, grant_id, None, int(time.time()) + 600)
    stored = find_token(token["access_token"])
    assert stored is not None and stored.revoked
