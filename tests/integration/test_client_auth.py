"""Client authentication at the token endpoint (RFC 6749 2.3, OIDC Core 9, RFC 7523 2.2 and 3):
each client authenticates only the one way it registered."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.admin.clients import rotate_secret
from idp.admin.roles import CLI
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Browser
from tests.support.oidc import id_token_claims, login, redeem
from tests.support.private_key_jwt import assertion, jwt_client, new_key, with_assertion


def code_request(rp: RegisteredClient, code: str, verifier: str | None) -> dict[str, str]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return data


def client_credentials(browser: Browser, token: str) -> TestResponse:
    return browser.http.post(
        "/token", data={"grant_type": "client_credentials", **with_assertion(token)}
    )


def error_of(response: TestResponse) -> tuple[int, str]:
    return response.status_code, response.get_json().get("error")


def refused(response: TestResponse) -> bool:
    """invalid_client: 401 after HTTP Basic, 400 or 401 otherwise (RFC 6749 5.2)."""
    status, error = error_of(response)
    return (
        error == "invalid_client"
        and status in (400, 401)
        and "access_token" not in (response.get_json())
    )


# --- private_key_jwt ---------------------------------------------------------------------------


def test_private_key_jwt_client_gets_tokens(app: Flask, browser: Browser, citizen: Citizen) -> None:
    # OIDC Core 9 private_key_jwt, RFC 7523 2.2: a signed assertion authenticates the client.
    key = new_key()
    rp = jwt_client(app, key)
    assert rp.secret is None
    request, params = login(browser, rp, citizen)
    data = code_request(rp, params["code"], request.verifier)
    response = browser.http.post(
        "/token", data={**data, **with_assertion(assertion(rp.client_id, key))}
    )
    assert response.status_code == 200, response.get_json()
    claims = id_token_claims(browser, response.get_json()["id_token"])
    assert claims["aud"] == [rp.client_id]
    # The issuer identifier is an accepted audience too (RFC 7523 3, item 3).
    issuer_aud = assertion(rp.client_id, key, aud="http://localhost")
    assert client_credentials(browser, issuer_aud).status_code == 200


def test_replayed_assertion_is_invalid_client(app: Flask, browser: Browser) -> None:
    # RFC 7523 3, item 7: the server MAY reject a JWT whose jti it has seen; Yihao always does.
    key = new_key()
    rp = jwt_client(app, key)
    token = assertion(rp.client_id, key)
    assert client_credentials(browser, token).status_code == 200
    assert refused(client_credentials(browser, token))


def test_assertion_signed_with_another_key_is_invalid_client(app: Flask, browser: Browser) -> None:
    # RFC 7523 3, item 9: the JWT MUST be signed with the client's registered key.
    key = new_key()
    rp = jwt_client(app, key)
    forged = assertion(rp.client_id, new_key())
    assert refused(client_credentials(browser, forged))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://elsewhere.example/token"},
        {"aud": None},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700},
        {"exp": None},
        {"iss": "someone-else"},
        {"jti": None},
        {"iat": "yesterday"},
        {"exp": "tomorrow"},
        {"nbf": int(time.time()) + 3600},
    ],
    ids=[
        "wrong-aud",
        "no-aud",
        "expired",
        "no-exp",
        "iss-not-sub",
        "no-jti",
        "bad-iat",
        "bad-exp",
        "not-yet",
    ],
)
def test_assertion_claims_are_checked(
    app: Flask, browser: Browser, overrides: dict[str, Any]
) -> None:
    # RFC 7523 3: iss = sub = client_id, aud names this server, exp in the future, jti present.
    key = new_key()
    rp = jwt_client(app, key)
    bad = assertion(rp.client_id, key, **overrides)
    assert refused(client_credentials(browser, bad))


def test_secret_client_cannot_switch_to_an_assertion(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    # OIDC Registration 2: token_endpoint_auth_method is fixed at registration.
    key = new_key()
    token = assertion(rp.client_id, key)
    assert refused(client_credentials(browser, token))


# --- client secrets ----------------------------------------------------------------------------


def test_client_secret_post_client(app: Flask, browser: Browser, citizen: Citizen) -> None:
    # RFC 6749 2.3.1: credentials in the request body, for a client registered so.
    rp = make_client(app, auth_method="client_secret_post")
    request, params = login(browser, rp, citizen)
    data = code_request(rp, params["code"], request.verifier)
    # The same secret sent by HTTP Basic is not the registered method.
    basic = browser.http.post("/token", data=data, auth=(rp.client_id, rp.secret or ""))
    assert error_of(basic) == (401, "invalid_client")
    response = browser.http.post(
        "/token", data={**data, "client_id": rp.client_id, "client_secret": rp.secret or ""}
    )
    assert response.status_code == 200, response.get_json()


def test_client_secret_basic_client_cannot_post_its_secret(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 2.3.1 and OIDC Registration 2: one registered method per client.
    request, params = login(browser, rp, citizen)
    data = code_request(rp, params["code"], request.verifier)
    posted = browser.http.post(
        "/token", data={**data, "client_id": rp.client_id, "client_secret": rp.secret or ""}
    )
    assert refused(posted)
    assert redeem(browser, rp, params["code"], request.verifier).status_code == 200


# --- public clients ----------------------------------------------------------------------------


def test_public_client_uses_pkce_instead_of_a_secret(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # RFC 6749 2.1 and RFC 7636 / RFC 8252 8.1: a public client proves possession with PKCE.
    rp = make_client(app, auth_method="none", grant_types=["authorization_code", "refresh_token"])
    assert rp.secret is None
    request, params = login(browser, rp, citizen)
    response = browser.http.post(
        "/token",
        data={**code_request(rp, params["code"], request.verifier), "client_id": rp.client_id},
    )
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    assert id_token_claims(browser, tokens["id_token"])["aud"] == [rp.client_id]
    refreshed = browser.http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": rp.client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.get_json()


def test_public_client_without_code_verifier_fails(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # RFC 7636 4.5 and 4.6: without the verifier nothing proves the caller started the flow.
    rp = make_client(app, auth_method="none", grant_types=["authorization_code"])
    _request, params = login(browser, rp, citizen)
    response = browser.http.post(
        "/token", data={**code_request(rp, params["code"], None), "client_id": rp.client_id}
    )
    assert error_of(response) == (400, "invalid_request")
    assert "access_token" not in response.get_json()


def test_confidential_client_cannot_authenticate_as_public(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 3.2.1: a confidential client MUST authenticate; "none" is not its method.
    request, params = login(browser, rp, citizen)
    response = browser.http.post(
        "/token",
        data={**code_request(rp, params["code"], request.verifier), "client_id": rp.client_id},
    )
    assert refused(response)
    assert redeem(browser, rp, params["code"], request.verifier).status_code == 200


@pytest.mark.parametrize("jti", ["\x00", "j" * 5000, "\u00e9\u4e2d\U0001f600"])
def test_odd_jti_values_are_handled(app: Flask, browser: Browser, jti: str) -> None:
    # RFC 7523 3, item 7: any string jti is one-time; odd ones are refused or accepted, not 500.
    key = new_key()
    rp = jwt_client(app, key)
    token = assertion(rp.client_id, key, jti=jti)
    first = client_credentials(browser, token)
    assert first.status_code == 200 or refused(first)
    assert refused(client_credentials(browser, token))


def test_a_reset_secret_replaces_the_old_one_at_once(app: Flask, browser: Browser) -> None:
    rp = make_client(app)
    assert rp.secret is not None

    def grant(secret: str) -> TestResponse:
        return browser.http.post(
            "/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, secret)
        )

    assert grant(rp.secret).status_code == 200  # and the client is now in the cache
    with app.app_context():
        new = rotate_secret(CLI, rp.client_id)["client_secret"]
    assert grant(rp.secret).status_code == 401
    assert grant(new).status_code == 200


def _description(response: TestResponse) -> str:
    assert refused(response), response.get_data(as_text=True)
    found: str = response.get_json()["error_description"]
    return found


def test_a_refused_client_is_told_why(app: Flask, browser: Browser) -> None:
    # RFC 6749 5.2 invalid_client: the description says which of these went wrong, where Authlib
    # said "cannot authenticate with methods: [...]" for all of them.
    rp, grant = make_client(app), {"grant_type": "client_credentials"}
    wrong = browser.http.post("/token", data=grant, auth=(rp.client_id, "not-the-secret"))
    assert _description(wrong) == "client authentication failed: the client secret is not correct"
    posted = browser.http.post(
        "/token", data={**grant, "client_id": rp.client_id, "client_secret": "x"}
    )
    assert _description(posted).endswith("this client authenticates with client_secret_basic")
    unknown = browser.http.post("/token", data=grant, auth=("no-such-client", "x"))
    assert _description(unknown) == "client authentication failed: unknown client_id"
    jwt_rp = jwt_client(app, new_key())
    forged = client_credentials(browser, assertion(jwt_rp.client_id, new_key()))
    assert _description(forged).endswith("the client assertion is not valid")
