"""The clients area of the admin API: every function, who may call it, and what it changes at the
protocol endpoints (approved scopes released, a disabled client unknown, an old secret dead)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.admin.roles import Role
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import InitialAccessToken
from idp.web.admin_api.operations import PREFIX
from tests.conftest import Citizen, RegisteredClient
from tests.integration.admin.conftest import AdminToken, last_action
from tests.support.browser import Authorization, Browser
from tests.support.oidc import tokens_for, userinfo

CLIENTS = PREFIX + "/clients"


def _body(**overrides: Any) -> dict[str, Any]:
    host = "rp" + str(abs(hash(str(overrides))) % 10**6)
    return {
        "name": "不动产登记 Real estate",
        "redirect_uris": [f"https://{host}.example/cb"],
        "scope": "openid profile id_number",
        "grant_types": ["authorization_code", "client_credentials"],
        **overrides,
    }


def _register(browser: Browser, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    answer = browser.http.post(CLIENTS, json=_body(**overrides), headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    found: dict[str, Any] = answer.get_json()
    return found


def _rp(shown: dict[str, Any], secret: str | None = None) -> RegisteredClient:
    return RegisteredClient(
        shown["client_id"], secret or shown.get("client_secret"), shown["redirect_uris"][0]
    )


def test_a_client_manager_registers_and_personal_scopes_wait_for_an_admin(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    shown = _register(browser, manager)
    assert shown["scope"] == "openid" and shown["pending_scope"] == "id_number profile"
    assert shown["client_secret"] and shown["self_registered"] is False
    rp = _rp(shown)
    body = tokens_for(browser, rp, citizen, scope="openid profile id_number")
    assert "id_number" not in userinfo(browser, body["access_token"]).get_json()

    refused = browser.http.post(f"{CLIENTS}/{rp.client_id}/approve", json={}, headers=manager)
    assert refused.status_code == 403
    admin = admin_headers(Role.ADMIN)
    approved = browser.http.post(
        f"{CLIENTS}/{rp.client_id}/approve", json={"scopes": ["id_number"]}, headers=admin
    )
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["scope"] == "openid id_number"
    assert approved.get_json()["pending_scope"] == "profile"
    row = last_action(app, "client.approve")
    assert row.before is not None and row.after is not None
    assert row.before["pending_scope"] == "id_number profile" and row.after["scope"] == (
        "openid id_number"
    )
    claims = userinfo(
        browser, tokens_for(browser, rp, citizen, scope="openid id_number")["access_token"]
    ).get_json()
    assert claims["id_number"] == citizen.number
    again = browser.http.post(
        f"{CLIENTS}/{rp.client_id}/approve", json={"scopes": ["id_number"]}, headers=admin
    )
    assert again.status_code == 409


def test_an_admin_registers_with_the_scopes_granted_and_reserved_ones_need_a_yes(
    browser: Browser, admin_headers: AdminToken
) -> None:
    admin = admin_headers(Role.ADMIN)
    shown = _register(browser, admin)
    assert shown["scope"] == "openid profile id_number" and shown["pending_scope"] == ""
    refused = browser.http.post(CLIENTS, json=_body(scope="openid credentials"), headers=admin)
    assert refused.status_code == 422 and "reserved" in refused.get_json()["detail"]
    allowed = _register(browser, admin, scope="openid credentials", allow_reserved=["credentials"])
    assert allowed["scope"] == "openid credentials"


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR])
def test_support_and_auditors_are_refused_every_function(
    browser: Browser, admin_headers: AdminToken, rp: RegisteredClient, role: Role
) -> None:
    headers = admin_headers(role)
    calls = [
        ("GET", CLIENTS, None),
        ("GET", f"{CLIENTS}/{rp.client_id}", None),
        ("POST", CLIENTS, _body()),
        ("PATCH", f"{CLIENTS}/{rp.client_id}", {"name": "x"}),
        ("POST", f"{CLIENTS}/{rp.client_id}/approve", {}),
        ("POST", f"{CLIENTS}/{rp.client_id}/secret", None),
        ("POST", f"{CLIENTS}/{rp.client_id}/disable", None),
        ("POST", f"{CLIENTS}/{rp.client_id}/enable", None),
        ("POST", PREFIX + "/initial-access-tokens", {}),
    ]
    for method, path, body in calls:
        answer = browser.http.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 403, (method, path)


def test_clients_are_listed_in_pages_and_shown(browser: Browser, admin_headers: AdminToken) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    first = _register(browser, manager, name="一")
    second = _register(browser, manager, name="二")
    everything = browser.http.get(CLIENTS + "?limit=200", headers=manager).get_json()
    ids = [c["client_id"] for c in everything["items"]]
    assert ids.index(first["client_id"]) < ids.index(second["client_id"])
    total = everything["total"]
    last = browser.http.get(f"{CLIENTS}?limit=1&offset={total - 1}", headers=manager).get_json()
    assert [c["client_id"] for c in last["items"]] == [ids[-1]] and last["total"] == total
    one = browser.http.get(f"{CLIENTS}/{first['client_id']}", headers=manager).get_json()
    assert one["name"] == "一" and "client_secret" not in one
    assert browser.http.get(f"{CLIENTS}/nobody", headers=manager).status_code == 404
    assert browser.http.get(CLIENTS + "?limit=0", headers=manager).status_code == 422


def test_an_edit_follows_the_registration_rules_and_is_recorded(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    shown = _register(browser, manager, scope="openid")
    path = f"{CLIENTS}/{shown['client_id']}"
    host = shown["sector"]
    new_uris = [f"https://{host}/cb", f"https://{host}/other"]
    edited = browser.http.patch(
        path, json={"redirect_uris": new_uris, "scope": "openid phone"}, headers=manager
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["redirect_uris"] == new_uris
    assert edited.get_json()["scope"] == "openid" and edited.get_json()["pending_scope"] == "phone"
    row = last_action(app, "client.edit")
    assert row.before is not None and row.after is not None
    assert row.before["redirect_uris"] == shown["redirect_uris"]
    assert row.after["redirect_uris"] == new_uris and row.actor_kind == "client"
    for bad in (
        {"redirect_uris": ["http://plain.example/cb"]},
        {"redirect_uris": [f"https://{host}/cb#fragment"]},
        {"redirect_uris": ["https://elsewhere.example/cb"]},  # another sector: new subjects
        {"scope": "openid email"},
    ):
        refused = browser.http.patch(path, json=bad, headers=manager)
        assert refused.status_code == 422, bad
    assert browser.http.get(path, headers=manager).get_json()["redirect_uris"] == new_uris


def test_an_edit_switches_par_and_a_secret_holder_cannot_become_fapi2(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    path = f"{CLIENTS}/{_register(browser, manager, scope='openid')['client_id']}"
    on = browser.http.patch(
        path, json={"require_pushed_authorization_requests": True}, headers=manager
    )
    assert on.status_code == 200 and on.get_json()["require_pushed_authorization_requests"]
    assert last_action(app, "client.edit").after["require_pushed_authorization_requests"] is True
    # FAPI 2.0 SP 5.3.2.1: private_key_jwt only, whichever door the change comes in by.
    fapi2 = browser.http.patch(path, json={"profile": "fapi2"}, headers=manager)
    assert fapi2.status_code == 422 and "private_key_jwt" in fapi2.get_json()["detail"]
    assert browser.http.get(path, headers=manager).get_json()["profile"] == ""


def test_a_rotated_secret_replaces_the_old_one(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    shown = _register(browser, manager)

    def grant(secret: str) -> int:
        answer = browser.http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(shown["client_id"], secret),
        )
        return answer.status_code

    assert grant(shown["client_secret"]) == 200
    rotated = browser.http.post(f"{CLIENTS}/{shown['client_id']}/secret", headers=manager)
    assert rotated.status_code == 200
    new = rotated.get_json()["client_secret"]
    assert grant(shown["client_secret"]) == 401 and grant(new) == 200
    assert last_action(app, "client.rotate_secret").target == shown["client_id"]
    public = _register(browser, manager, auth_method="none", grant_types=["authorization_code"])
    assert (
        browser.http.post(f"{CLIENTS}/{public['client_id']}/secret", headers=manager).status_code
        == 409
    )


def test_a_disabled_client_is_unknown_until_enabled(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    shown = _register(browser, manager, scope="openid")
    rp = _rp(shown)
    access_token = tokens_for(browser, rp, citizen, scope="openid")["access_token"]
    path = f"{CLIENTS}/{rp.client_id}"
    disabled = browser.http.post(path + "/disable", headers=manager)
    assert disabled.status_code == 200 and disabled.get_json()["disabled_at"]
    assert browser.http.post(path + "/disable", headers=manager).status_code == 409
    token = browser.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, rp.secret or "")
    )
    assert token.status_code == 401 and token.get_json()["error"] == "invalid_client"
    page = browser.http.get("/authorize?" + Authorization(rp.client_id, rp.redirect_uri).query())
    assert page.status_code == 400 and "code=" not in page.headers.get("Location", "")
    assert userinfo(browser, access_token).status_code == 401
    assert last_action(app, "client.disable").after == {"disabled": True, "tokens_revoked": 1}
    enabled = browser.http.post(path + "/enable", headers=manager)
    assert enabled.status_code == 200 and enabled.get_json()["disabled_at"] is None
    assert userinfo(browser, access_token).status_code == 401  # revoked, not only refused
    assert tokens_for(browser, rp, citizen, scope="openid")["access_token"]


def test_initial_access_tokens_are_issued_once_and_kept_as_digests(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    answer = browser.http.post(
        PREFIX + "/initial-access-tokens",
        json={"uses": 3, "expires_in": 3600, "note": "不动产中心"},
        headers=admin_headers(Role.CLIENT_MANAGER),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    issued = answer.get_json()
    assert issued["uses"] == 3 and issued["note"] == "不动产中心"
    with app.app_context():
        row = db.session.get(InitialAccessToken, issued["id"])
        assert row is not None and row.digest == token_digest(issued["initial_access_token"])
        assert row.uses_left == 3
    recorded = last_action(app, "client.initial_access_token")
    assert issued["initial_access_token"] not in str(recorded.after)


def _self_register(browser: Browser, token: str) -> TestResponse:
    """RFC 7591 3.1 with an initial access token."""
    body = {
        "client_name": "学位查询",
        "redirect_uris": [f"https://dcr{secrets.token_hex(3)}.example/cb"],
        "scope": "openid",
    }
    answer: TestResponse = browser.http.post(
        "/connect/register", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    return answer


def test_an_operator_lists_open_initial_access_tokens_and_closes_one(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    issued = [
        browser.http.post(
            "/admin/api/initial-access-tokens", json={"uses": 3, "note": note}, headers=manager
        ).get_json()
        for note in ("学校", "医院")
    ]
    listed = browser.http.get("/admin/api/initial-access-tokens?limit=500", headers=manager)
    shown = {item["id"]: item for item in listed.get_json()["items"]}
    assert {t["id"] for t in issued} <= set(shown) and shown[issued[0]["id"]]["uses_left"] == 3
    assert issued[0]["initial_access_token"] not in listed.get_data(as_text=True)
    closed = browser.http.delete(
        f"/admin/api/initial-access-tokens/{issued[0]['id']}", headers=manager
    )
    assert closed.status_code == 200 and closed.get_json()["uses_left"] == 0
    refused = _self_register(browser, issued[0]["initial_access_token"])
    assert refused.status_code == 401
    assert _self_register(browser, issued[1]["initial_access_token"]).status_code == 201
    again = browser.http.get("/admin/api/initial-access-tokens?limit=500", headers=manager)
    assert issued[0]["id"] not in {item["id"] for item in again.get_json()["items"]}
    for missing in (str(issued[0]["id"]), "999999999", "x"):
        gone = browser.http.delete(f"/admin/api/initial-access-tokens/{missing}", headers=manager)
        assert gone.status_code == 404, missing
    support = admin_headers(Role.SUPPORT)
    assert browser.http.get("/admin/api/initial-access-tokens", headers=support).status_code == 403
    assert last_action(app, "client.initial_access_token_revoke").after == {"uses_left": 0}


def test_the_api_registers_clients_that_must_push_and_fapi2_clients(
    browser: Browser, admin_headers: AdminToken
) -> None:
    admin = admin_headers(Role.ADMIN)
    pushing = _register(browser, admin, require_pushed_authorization_requests=True)
    assert (pushing["require_pushed_authorization_requests"], pushing["profile"]) == (True, "")
    assert _register(browser, admin)["require_pushed_authorization_requests"] is False
    # FAPI 2.0 SP 5.3.2.1: a shared secret is refused for the profile, private_key_jwt taken.
    secret = browser.http.post(CLIENTS, json=_body(profile="fapi2"), headers=admin)
    assert secret.status_code == 422 and "private_key_jwt" in secret.get_data(as_text=True)
    key = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           "y": "x_FEzRjM4oT-Vn2nbfGVWe7mRgXMLJ8Go_B04B3Nzcs"}  # fmt: skip
    fapi = _register(
        browser, admin, profile="fapi2", auth_method="private_key_jwt", jwks={"keys": [key]}
    )
    assert (fapi["profile"], fapi["require_pushed_authorization_requests"]) == ("fapi2", True)
    assert fapi["client_secret"] is None
