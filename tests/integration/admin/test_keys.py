"""The keys area (``/admin/api/keys``): listing, rotating, withdrawing a compromised key."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.admin.roles import Role
from idp.web.admin_api.operations import PREFIX
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.integration.admin.conftest import AdminToken, last_action
from tests.support.browser import Browser
from tests.support.oidc import id_token_header, introspect, tokens_for, userinfo

BYE = "https://rp.example/bye"


def listing(browser: Browser, headers: dict[str, str]) -> dict[str, Any]:
    answer = browser.http.get(PREFIX + "/keys", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def jwks_kids(browser: Browser) -> set[str]:
    return {key["kid"] for key in browser.get("/jwks.json").get_json()["keys"]}


def test_the_listing_shows_every_key_with_its_state(
    browser: Browser, admin_headers: AdminToken
) -> None:
    shown = listing(browser, admin_headers(Role.ADMIN))
    signing = shown["signing_keys"]
    assert {k["alg"] for k in signing if k["state"] == "active"} == {"RS256", "ES256"}
    assert {k["kid"] for k in signing if k["state"] != "withdrawn"} >= jwks_kids(browser)
    assert all(datetime.fromisoformat(k["created_at"]).tzinfo is None for k in signing)
    for purpose in ("issuer_keys", "trust_list_keys"):
        active = [k for k in shown[purpose] if k["state"] == "active"]
        assert active and active[-1]["not_after"] > active[-1]["created_at"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPORT, Role.CLIENT_MANAGER])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/keys"),
        ("POST", "/keys/signing/rotate"),
        ("POST", "/keys/issuer/rotate"),
        ("POST", "/keys/signing/anything/withdraw"),
    ],
)
def test_only_an_admin_touches_keys(
    browser: Browser, admin_headers: AdminToken, role: Role, method: str, path: str
) -> None:
    answer = browser.http.open(PREFIX + path, method=method, headers=admin_headers(role))
    assert answer.status_code == 403
    assert "roles: admin" in answer.get_json()["detail"]


def test_rotating_the_signing_keys_publishes_successors_and_is_recorded(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    headers = admin_headers(Role.ADMIN)
    before = {k["kid"] for k in listing(browser, headers)["signing_keys"] if k["state"] == "active"}
    answer = browser.http.post(PREFIX + "/keys/signing/rotate", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    new = answer.get_json()["new_keys"]
    assert len(new) == 2 and not set(new) & before
    after = listing(browser, headers)["signing_keys"]
    assert {k["kid"] for k in after if k["state"] == "active"} == set(new)
    assert {k["state"] for k in after if k["kid"] in before} == {"retired"}
    row = last_action(app, "key.rotate")
    assert row.actor_kind == "client" and row.after == {"active": new}
    assert set(row.before["active"]) == before  # type: ignore[index]


def test_rotating_the_issuer_key_certifies_a_successor(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    headers = admin_headers(Role.ADMIN)
    answer = browser.http.post(PREFIX + "/keys/issuer/rotate", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    kid = answer.get_json()["issuer_kid"]
    issuer = listing(browser, headers)["issuer_keys"]
    assert [k["kid"] for k in issuer if k["state"] == "active"] == [kid]
    assert last_action(app, "key.rotate_issuer").after == {"active": [kid]}


def withdraw(browser: Browser, headers: dict[str, str], kid: str) -> Any:
    return browser.http.post(f"{PREFIX}/keys/signing/{kid}/withdraw", headers=headers)


def test_a_withdrawn_key_leaves_the_jwks_and_its_access_tokens_are_refused(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    jwt_rp = make_client(app, access_token_format="jwt")
    opaque_rp = make_client(app)
    signed = tokens_for(browser, jwt_rp, citizen)["access_token"]
    opaque = tokens_for(browser, opaque_rp, citizen)["access_token"]
    kid = id_token_header(signed)["kid"]
    assert introspect(browser, jwt_rp, signed)["active"] is True
    assert userinfo(browser, signed).status_code == 200

    answer = withdraw(browser, admin_headers(Role.ADMIN), kid)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    done = answer.get_json()
    assert done["key"]["state"] == "withdrawn" and done["key"]["withdrawn_at"]

    assert kid not in jwks_kids(browser)
    assert introspect(browser, jwt_rp, signed) == {"active": False}
    assert userinfo(browser, signed).status_code == 401
    # Opaque tokens were never signed: untouched.
    assert introspect(browser, opaque_rp, opaque)["active"] is True
    # The key never signs again; a fresh token verifies with the published keys.
    fresh = tokens_for(browser, jwt_rp, citizen)["access_token"]
    assert id_token_header(fresh)["kid"] != kid
    assert userinfo(browser, fresh).status_code == 200
    record = last_action(app, "key.withdraw")
    assert record.target == kid and record.after is not None
    assert record.after["state"] == "withdrawn"


def test_withdrawing_the_key_that_signs_id_tokens_replaces_it_at_once(
    app: Flask,
    browser: Browser,
    admin_headers: AdminToken,
    rp: RegisteredClient,
    citizen: Citizen,
) -> None:
    headers = admin_headers(Role.ADMIN)
    id_token = tokens_for(browser, rp, citizen)["id_token"]
    kid = id_token_header(id_token)["kid"]
    was_active = {k["kid"]: k["state"] for k in listing(browser, headers)["signing_keys"]}[kid]

    done = withdraw(browser, headers, kid).get_json()
    active = {k["kid"] for k in listing(browser, headers)["signing_keys"] if k["state"] == "active"}
    if was_active == "active":
        assert len(done["new_keys"]) == 1 and set(done["new_keys"]) <= active
    assert {
        k["alg"] for k in listing(browser, headers)["signing_keys"] if k["state"] == "active"
    } == {
        "RS256",
        "ES256",
    }
    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    with pytest.raises((JoseError, ValueError)):
        jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    # Nor is it a valid id_token_hint any more (RP-Initiated Logout 1.0 section 2).
    hinted = browser.http.get(
        "/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": BYE})
    )
    assert hinted.headers.get("Location") != BYE
    new_id_token = tokens_for(browser, rp, citizen)["id_token"]
    assert id_token_header(new_id_token)["kid"] != kid


def test_withdrawing_an_unknown_or_withdrawn_key_is_refused(
    browser: Browser, admin_headers: AdminToken
) -> None:
    headers = admin_headers(Role.ADMIN)
    assert withdraw(browser, headers, "no-such-kid").status_code == 404
    retired = [k for k in listing(browser, headers)["signing_keys"] if k["state"] == "retired"] or [
        k for k in listing(browser, headers)["signing_keys"] if k["state"] == "active"
    ]
    kid = retired[0]["kid"]
    assert withdraw(browser, headers, kid).status_code == 200
    again = withdraw(browser, headers, kid)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"


def test_an_admin_token_signed_by_a_withdrawn_key_no_longer_opens_the_api(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    scope = "admin:admin"
    machine = make_client(
        app,
        redirect_uris=[],
        grant_types=["client_credentials"],
        scope=scope,
        allowed_reserved=frozenset({scope}),
        access_token_format="jwt",
    )
    token = browser.http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(machine.client_id, machine.secret or ""),
    ).get_json()["access_token"]
    signed = {"Authorization": f"Bearer {token}"}
    assert browser.http.get(PREFIX + "/keys", headers=signed).status_code == 200
    kid = id_token_header(token)["kid"]
    assert withdraw(browser, admin_headers(Role.ADMIN), kid).status_code == 200
    assert browser.http.get(PREFIX + "/keys", headers=signed).status_code == 401


@pytest.mark.parametrize(
    "path", ["/keys/signing/a%00b/withdraw", "/audit/admin-actions?action=a%00b"]
)
def test_a_nul_character_in_a_parameter_is_a_422(
    browser: Browser, admin_headers: AdminToken, path: str
) -> None:
    method = "POST" if path.endswith("withdraw") else "GET"
    headers = admin_headers(Role.ADMIN, Role.AUDITOR)
    answer = browser.http.open(PREFIX + path, method=method, headers=headers)
    assert answer.status_code == 422 and "NUL" in answer.get_json()["detail"]
