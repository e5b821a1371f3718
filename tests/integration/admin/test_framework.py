"""The admin API's shape: who may call it, RFC 9457 problems, the OpenAPI description, the record.

The operators area (``/admin/api/operators``) stands in for every area here; each area's own
tests check its functions and roles.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from idp.admin.roles import PERMISSIONS, Permission, Role
from idp.store.db import db
from idp.store.models import AdminAction
from idp.web.admin_api.operations import OPERATIONS, PREFIX
from tests.conftest import Citizen, make_citizen, make_client
from tests.integration.admin.conftest import AdminToken
from tests.support.browser import Browser
from tests.support.oidc import login

PROBLEM = "application/problem+json"


def test_without_a_credential_the_answer_is_a_401_problem(browser: Browser) -> None:
    answer = browser.http.get(PREFIX + "/operators")
    assert answer.status_code == 401
    assert answer.mimetype == PROBLEM
    body = answer.get_json()
    assert body["status"] == 401 and body["type"].endswith("/unauthenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_or_revoked_token_is_refused(
    browser: Browser, admin_headers: AdminToken
) -> None:
    assert (
        browser.http.get(
            PREFIX + "/operators", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    headers = admin_headers(Role.ADMIN)
    assert browser.http.get(PREFIX + "/operators", headers=headers).status_code == 200


def test_a_token_without_an_admin_scope_is_forbidden(app: Flask, browser: Browser) -> None:
    rp = make_client(app, redirect_uris=[], grant_types=["client_credentials"], scope="openid")
    token = browser.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, rp.secret or "")
    ).get_json()["access_token"]
    answer = browser.http.get(PREFIX + "/operators", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and answer.mimetype == PROBLEM


def test_a_client_cannot_take_an_admin_scope_without_the_operators_yes(app: Flask) -> None:
    from idp.oauth.registration import RegistrationError

    with pytest.raises(RegistrationError, match="admin:admin is reserved"):
        make_client(app, redirect_uris=[], grant_types=["client_credentials"], scope="admin:admin")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPORT, Role.CLIENT_MANAGER])
def test_only_the_roles_with_the_permission_may_act(
    browser: Browser, admin_headers: AdminToken, citizen: Citizen, role: Role
) -> None:
    assert Permission.OPERATORS not in PERMISSIONS[role]
    answer = browser.http.post(
        PREFIX + "/operators",
        json={"id_number": citizen.number, "role": "support"},
        headers=admin_headers(role),
    )
    assert answer.status_code == 403
    assert "roles: admin" in answer.get_json()["detail"]


def test_a_grant_is_recorded_without_the_number(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    headers = admin_headers(Role.ADMIN)
    answer = browser.http.post(
        PREFIX + "/operators",
        json={"id_number": citizen.number, "role": "support"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    shown = answer.get_json()
    assert shown["roles"] == ["support"] and citizen.number not in answer.get_data(as_text=True)
    again = browser.http.post(
        PREFIX + "/operators",
        json={"id_number": citizen.number, "role": "support"},
        headers=headers,
    )
    assert again.status_code == 409
    with app.app_context():
        row = db.session.scalars(
            select(AdminAction).filter_by(action="operator.grant").order_by(AdminAction.id.desc())
        ).first()
        assert row is not None and row.actor_kind == "client"
        assert row.target == shown["id_number"] and citizen.number not in str(row.__dict__)
        assert row.before == {"roles": []} and row.after == {"roles": ["support"]}
    gone = browser.http.delete(
        f"{PREFIX}/operators/{shown['person']}/roles/support", headers=headers
    )
    assert gone.status_code == 200 and gone.get_json()["roles"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"id_number": "11010519491231002X", "role": "root"},
        {"id_number": 42, "role": "support"},
        {"role": "support"},
        {"id_number": "11010519491231002X", "role": "support", "extra": 1},
    ],
)
def test_a_body_off_the_schema_is_a_422_naming_the_field_not_the_value(
    browser: Browser, admin_headers: AdminToken, body: dict[str, object]
) -> None:
    answer = browser.http.post(PREFIX + "/operators", json=body, headers=admin_headers(Role.ADMIN))
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    problem = answer.get_json()
    assert problem["errors"] and all(
        e["pointer"].startswith("/") or e["pointer"] == "" for e in problem["errors"]
    )
    assert "11010519491231002X" not in answer.get_data(as_text=True)


def test_a_malformed_number_is_a_422_without_the_number(
    browser: Browser, admin_headers: AdminToken
) -> None:
    answer = browser.http.post(
        PREFIX + "/operators",
        json={"id_number": "110105194912310021", "role": "support"},
        headers=admin_headers(Role.ADMIN),
    )
    assert answer.status_code == 422
    assert "110105194912310021" not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nothing-here", 404), ("PUT", "/operators", 405), ("POST", "/operators", 400)],
)
def test_routing_and_body_errors_are_problems_too(
    browser: Browser, admin_headers: AdminToken, method: str, path: str, status: int
) -> None:
    answer = browser.http.open(
        PREFIX + path, method=method, data="not json", headers=admin_headers(Role.ADMIN)
    )
    assert answer.status_code == status and answer.mimetype == PROBLEM
    assert answer.get_json()["status"] == status


def test_a_password_only_session_does_not_open_the_api(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    operator = make_citizen(app)
    browser.http.post(
        PREFIX + "/operators",
        json={"id_number": operator.number, "role": "admin"},
        headers=admin_headers(Role.ADMIN),
    )
    login(browser, make_client(app), operator)
    answer = browser.http.get(PREFIX + "/operators")
    assert answer.status_code == 403
    assert "passkey" in answer.get_json()["detail"]


def test_the_openapi_description_is_the_routes(app: Flask, browser: Browser) -> None:
    document = browser.http.get(PREFIX + "/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    described = {
        (method.upper(), PREFIX + path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    routed = {
        (method, rule.rule.replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX) and rule.endpoint != "admin_api.openapi_json"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert described == routed
    assert len(described) == len(OPERATIONS)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert operation["x-permission"] in {p.value for p in Permission}, path


def test_security_events_are_kept_for_auditors_and_purged_with_the_history(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    from datetime import timedelta

    from idp.store.models import SecurityEventRow
    from idp.store.purge import purge_expired

    login(browser, make_client(app), citizen)
    with app.app_context():
        rows = list(
            db.session.scalars(select(SecurityEventRow).filter_by(person_id=citizen.person_id))
        )
        assert [r.event for r in rows] == ["signed_in"]
        assert rows[0].details == {"method": "password"} and rows[0].address_masked
        row_id = rows[0].id
        rows[0].at = rows[0].at - timedelta(days=91)
        db.session.commit()
        assert purge_expired(3600, history_days=90)["security_events"] >= 1
        db.session.expire_all()
        assert db.session.get(SecurityEventRow, row_id) is None
