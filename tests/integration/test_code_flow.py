"""The authorization code flow end to end through the Flask app, on SQLite and PostgreSQL."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Citizen, RegisteredClient
from tests.support.browser import Authorization, Browser
from tests.support.oidc import id_token_claims, login, redeem


def test_full_flow_issues_tokens_that_work(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request, params = login(browser, rp, citizen, scope="openid profile phone")
    assert params["state"] == request.state
    assert params["iss"] == "http://localhost"  # RFC 9207

    response = redeem(browser, rp, params["code"], request.verifier)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.get_json()
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["aud"] == [rp.client_id] and claims["nonce"] == request.nonce
    assert claims["name"] == citizen.name and claims["gender"] in ("male", "female")
    assert citizen.number not in str(claims) and "auth_time" in claims

    info = browser.http.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200 and info.get_json()["sub"] == claims["sub"]
    assert info.get_json()["phone_number"] == "13900000000"

    refreshed = browser.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(rp.client_id, rp.secret or ""),
    )
    assert refreshed.status_code == 200
    assert refreshed.get_json()["refresh_token"] != tokens["refresh_token"]

    new_access = refreshed.get_json()["access_token"]
    revoked = browser.http.post(
        "/revoke", data={"token": new_access}, auth=(rp.client_id, rp.secret or "")
    )
    assert revoked.status_code == 200
    introspected = browser.http.post(
        "/introspect", data={"token": new_access}, auth=(rp.client_id, rp.secret or "")
    )
    assert introspected.get_json() == {"active": False}
    gone = browser.http.get("/userinfo", headers={"Authorization": f"Bearer {new_access}"})
    assert gone.status_code == 401


def test_consent_is_remembered_and_prompt_none_then_succeeds(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    login(browser, rp, citizen)
    silent = Authorization(rp.client_id, rp.redirect_uri, extra={"prompt": "none"})
    response = browser.authorize(silent)
    assert response.status_code == 302
    assert "code" in response.headers["Location"]
