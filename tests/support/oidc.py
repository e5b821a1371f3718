"""Protocol helpers shared by the integration tests: redeeming codes, decoding ID tokens, calling
the token, introspection and userinfo endpoints the way a relying party would."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.test import TestResponse

from tests.support.browser import Authorization, Browser, location_params

if TYPE_CHECKING:
    from tests.conftest import Citizen, RegisteredClient

TOKEN_ENDPOINT = "http://localhost/token"


def client_auth(rp: RegisteredClient) -> tuple[str, str]:
    return (rp.client_id, rp.secret or "")


def redeem(browser: Browser, rp: RegisteredClient, code: str, verifier: str) -> Any:
    return browser.http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        auth=client_auth(rp),
    )


def id_token_claims(browser: Browser, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    return dict(jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims)


def id_token_header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def login(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, **extra: str
) -> tuple[Authorization, dict[str, str]]:
    request = Authorization(
        rp.client_id, rp.redirect_uri, scope=extra.pop("scope", "openid profile"), extra=extra
    )
    return request, browser.sign_in_and_consent(request, citizen.number, citizen.password)


def tokens_for(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, **extra: str
) -> dict[str, Any]:
    """A full sign-in and code redemption; returns the token response body."""
    request, params = login(browser, rp, citizen, **extra)
    response = redeem(browser, rp, params["code"], request.verifier)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def refresh(browser: Browser, rp: RegisteredClient, refresh_token: str, **extra: str) -> Any:
    return browser.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        auth=client_auth(rp),
    )


def introspect(
    browser: Browser, rp: RegisteredClient, token: str, in_form: bool = False
) -> dict[str, Any]:
    """Introspect as ``rp``, authenticating with HTTP Basic or (``in_form``) in the form body."""
    if in_form:
        data = {"token": token, "client_id": rp.client_id, "client_secret": rp.secret or ""}
        response = browser.http.post("/introspect", data=data)
    else:
        response = browser.http.post("/introspect", data={"token": token}, auth=client_auth(rp))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def userinfo(browser: Browser, access_token: str) -> TestResponse:
    return browser.http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def is_dead(browser: Browser, rp: RegisteredClient, access_token: str) -> bool:
    """True when the access token is refused everywhere: inactive and rejected by userinfo."""
    inactive = introspect(browser, rp, access_token) == {"active": False}
    return inactive and userinfo(browser, access_token).status_code == 401


def redirect_params(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return location_params(response)


__all__ = [
    "TOKEN_ENDPOINT",
    "client_auth",
    "id_token_claims",
    "id_token_header",
    "introspect",
    "is_dead",
    "login",
    "redeem",
    "redirect_params",
    "refresh",
    "tokens_for",
    "userinfo",
]
