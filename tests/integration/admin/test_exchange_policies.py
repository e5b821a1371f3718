"""Token-exchange policies (``idp.admin.exchange``) through the admin API and the CLI: only an
admin opens a path, each change is recorded, and a removed policy stops the next exchange."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from idp.admin.roles import Role
from idp.oauth.rfc8693 import ACCESS_TOKEN_TYPE, GRANT_TYPE
from idp.web.admin_api.operations import PREFIX
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.integration.admin.conftest import AdminToken, last_action
from tests.integration.test_cli import call, run
from tests.support.browser import Browser
from tests.support.oidc import client_auth, tokens_for

AUDIENCE = "https://tax.example/api"


def policies(client_id: str) -> str:
    return f"{PREFIX}/clients/{client_id}/exchange-policies"


def test_an_admin_adds_lists_and_removes_a_policy_and_each_change_is_recorded(
    app: Flask, browser: Browser, admin_headers: AdminToken, rp: RegisteredClient
) -> None:
    admin = admin_headers(Role.ADMIN)
    body = {"audience": AUDIENCE, "scope": "profile openid"}
    added = browser.http.post(policies(rp.client_id), json=body, headers=admin)
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["scope"] == "openid profile"
    recorded = last_action(app, "exchange_policy.add")
    assert (recorded.target, recorded.after) == (
        rp.client_id,
        {"audience": AUDIENCE, "scope": "openid profile"},
    )
    again = browser.http.post(policies(rp.client_id), json=body, headers=admin)
    assert again.status_code == 409

    listed = browser.http.get(policies(rp.client_id), headers=admin).get_json()
    assert [p["audience"] for p in listed["items"]] == [AUDIENCE]

    remove = policies(rp.client_id) + "/remove"
    removed = browser.http.post(remove, json={"audience": AUDIENCE}, headers=admin)
    assert removed.status_code == 200, removed.get_json()
    assert last_action(app, "exchange_policy.remove").before == {
        "audience": AUDIENCE,
        "scope": "openid profile",
    }
    assert browser.http.get(policies(rp.client_id), headers=admin).get_json()["total"] == 0
    assert browser.http.post(remove, json={"audience": AUDIENCE}, headers=admin).status_code == 404


def test_a_client_manager_may_read_but_not_open_an_exchange(
    browser: Browser, admin_headers: AdminToken, rp: RegisteredClient
) -> None:
    manager = admin_headers(Role.CLIENT_MANAGER)
    body = {"audience": AUDIENCE, "scope": "profile"}
    refused = browser.http.post(policies(rp.client_id), json=body, headers=manager)
    assert refused.status_code == 403
    assert "clients.exchange" in refused.get_json()["detail"]
    assert browser.http.get(policies(rp.client_id), headers=manager).status_code == 200


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"audience": AUDIENCE, "scope": "profile nonsense"}, "/scope"),
        ({"audience": AUDIENCE, "scope": "admin:admin"}, "/scope"),
        ({"audience": "two words", "scope": "profile"}, "/audience"),
        ({"audience": "bad\x00", "scope": "profile"}, "/audience"),
    ],
)
def test_a_policy_breaking_the_rules_is_a_422(
    browser: Browser,
    admin_headers: AdminToken,
    rp: RegisteredClient,
    body: dict[str, str],
    pointer: str,
) -> None:
    answer = browser.http.post(policies(rp.client_id), json=body, headers=admin_headers(Role.ADMIN))
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["errors"][0]["pointer"] == pointer


def test_a_public_client_gets_no_policy(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    public = make_client(app, auth_method="none", grant_types=["authorization_code"])
    body = {"audience": AUDIENCE, "scope": "profile"}
    answer = browser.http.post(
        policies(public.client_id), json=body, headers=admin_headers(Role.ADMIN)
    )
    assert answer.status_code == 422
    unknown = browser.http.post(policies("nobody"), json=body, headers=admin_headers(Role.ADMIN))
    assert unknown.status_code == 404


def test_a_removed_policy_stops_the_next_exchange(
    app: Flask, browser: Browser, admin_headers: AdminToken, rp: RegisteredClient, citizen: Citizen
) -> None:
    admin = admin_headers(Role.ADMIN)
    body = {"audience": AUDIENCE, "scope": "profile"}
    assert browser.http.post(policies(rp.client_id), json=body, headers=admin).status_code == 201
    held = tokens_for(browser, rp, citizen)
    data = {
        "grant_type": GRANT_TYPE,
        "subject_token": held["access_token"],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": AUDIENCE,
    }
    assert browser.http.post("/token", data=data, auth=client_auth(rp)).status_code == 200
    remove = policies(rp.client_id) + "/remove"
    assert browser.http.post(remove, json={"audience": AUDIENCE}, headers=admin).status_code == 200
    after = browser.http.post("/token", data=data, auth=client_auth(rp))
    assert after.get_json()["error"] == "unauthorized_client"


def test_the_cli_adds_lists_and_removes_policies(run: CliRunner, tmp_path: Path) -> None:
    added = call(
        run,
        "client",
        "add",
        "--name",
        "税务 Tax",
        "--redirect-uri",
        "https://t.example/cb",
        "--json",
    )
    assert added.exit_code == 0, added.output
    client_id = json.loads(added.output)["client_id"]

    made = call(
        run, "exchange-policy", "add", client_id, AUDIENCE, "--scope", "profile phone", "--json"
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["scope"] == "phone profile"
    listed = call(run, "exchange-policy", "list", "--client", client_id, "--json")
    assert [p["audience"] for p in json.loads(listed.output)] == [AUDIENCE]

    twice = call(run, "exchange-policy", "add", client_id, AUDIENCE, "--scope", "profile")
    assert twice.exit_code == 2 and twice.output.startswith("error: ")
    unknown = call(run, "exchange-policy", "add", client_id, "https://x.example", "--scope", "nope")
    assert unknown.exit_code == 2

    removed = call(run, "exchange-policy", "remove", client_id, AUDIENCE, "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(call(run, "exchange-policy", "list", "--json").output) == []
    gone = call(run, "exchange-policy", "remove", client_id, AUDIENCE)
    assert gone.exit_code == 2


__all__ = ["run"]
