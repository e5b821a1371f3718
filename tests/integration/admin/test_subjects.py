"""People and enterprises through the admin API: found by number in a body, acted on by public id,
each act recorded with masked targets only, and each act's effect real (sign-in, tokens, factors,
throttle counters, who may act for the enterprise)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from idp.admin.roles import Role
from idp.auth import rfc6238
from idp.identifiers import parse_resident_id
from idp.services import services
from idp.store.db import db
from idp.store.models import AdminAction, Enterprise, Person
from idp.throttle.keys import account_key
from idp.throttle.policy import now_ms
from tests.conftest import Citizen, make_citizen, make_client, make_enterprise
from tests.integration.admin.conftest import AdminToken, enrol_totp, uscc_of
from tests.support.browser import Authorization, Browser
from tests.support.identities import new_id_number, new_uscc
from tests.support.oidc import is_dead, tokens_for

PEOPLE = "/admin/api/people"
ENTERPRISES = "/admin/api/enterprises"


def _found(browser: Browser, headers: dict[str, str], citizen: Citizen) -> dict[str, Any]:
    answer = browser.http.post(
        PEOPLE + "/search", json={"id_number": citizen.number}, headers=headers
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert citizen.number not in answer.get_data(as_text=True)
    shown: dict[str, Any] = answer.get_json()
    return shown


def _last_action(app: Flask, action: str) -> AdminAction:
    with app.app_context():
        row = db.session.scalars(
            select(AdminAction).filter_by(action=action).order_by(AdminAction.id.desc())
        ).first()
        assert row is not None, action
        db.session.expunge(row)
        return row


def _no_number_in(row: AdminAction, *numbers: str) -> None:
    text = repr((row.target, row.before, row.after, row.actor))
    assert all(number not in text for number in numbers)


def test_a_person_is_found_by_number_and_shown_masked(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    enterprise_id = make_enterprise(app, citizen)
    _, uscc = uscc_of(app, enterprise_id)
    headers = admin_headers(Role.SUPPORT)
    shown = _found(browser, headers, citizen)
    assert shown["id_number"] == citizen.number[:6] + "********" + citizen.number[-4:]
    assert shown["document_type"] == str(parse_resident_id(citizen.number).document_type)
    assert shown["disabled"] is False and shown["disabled_at"] is None
    assert shown["factors"] == {"password": True, "totp": False, "recovery_codes": 0, "passkeys": 0}
    (held,) = shown["enterprises"]
    assert held["uscc"] != uscc and held["uscc"][-4:] == uscc[-4:]
    again = browser.http.get(f"{PEOPLE}/{shown['person']}", headers=headers)
    assert again.status_code == 200 and again.get_json() == shown


def test_sign_ins_are_counted(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    headers = admin_headers(Role.SUPPORT)
    assert _found(browser, headers, citizen)["sign_ins"] == 0
    tokens_for(browser, make_client(app), citizen)
    assert _found(browser, headers, citizen)["sign_ins"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id_number": "110105194912310021"}, 422),  # wrong check character
        ({"id_number": "110105194912310021", "x": 1}, 422),
        ({}, 422),
        ({"id_number": 110105194912310021}, 422),
    ],
)
def test_a_bad_number_is_a_422_without_the_number(
    browser: Browser, admin_headers: AdminToken, body: dict[str, object], status: int
) -> None:
    answer = browser.http.post(PEOPLE + "/search", json=body, headers=admin_headers(Role.SUPPORT))
    assert answer.status_code == status and answer.mimetype == "application/problem+json"
    assert "110105194912310021" not in answer.get_data(as_text=True)


def test_an_unknown_number_or_id_is_a_404(browser: Browser, admin_headers: AdminToken) -> None:
    headers = admin_headers(Role.ADMIN)
    number = new_id_number()
    unknown = browser.http.post(PEOPLE + "/search", json={"id_number": number}, headers=headers)
    assert unknown.status_code == 404 and number not in unknown.get_data(as_text=True)
    for path in ("", "/disable", "/enable", "/reset-factors", "/unlock"):
        method = browser.http.get if path == "" else browser.http.post
        assert method(f"{PEOPLE}/nobody{path}", headers=headers).status_code == 404, path
    assert browser.http.get(f"{ENTERPRISES}/nothing", headers=headers).status_code == 404
    missing = browser.http.post(ENTERPRISES + "/search", json={"uscc": new_uscc()}, headers=headers)
    assert missing.status_code == 404
    moved = browser.http.put(
        f"{ENTERPRISES}/nothing/representative", json={"id_number": number}, headers=headers
    )
    assert moved.status_code == 404


@pytest.mark.parametrize("role", [Role.CLIENT_MANAGER, Role.AUDITOR])
def test_roles_without_the_subjects_permissions_are_refused(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen, role: Role
) -> None:
    public_id = _found(browser, admin_headers(Role.SUPPORT), citizen)["person"]
    enterprise, uscc = uscc_of(app, make_enterprise(app, citizen))
    headers = admin_headers(role)
    calls = [
        browser.http.post(PEOPLE + "/search", json={"id_number": citizen.number}, headers=headers),
        browser.http.get(f"{PEOPLE}/{public_id}", headers=headers),
        browser.http.post(ENTERPRISES + "/search", json={"uscc": uscc}, headers=headers),
        browser.http.get(f"{ENTERPRISES}/{enterprise}", headers=headers),
        browser.http.put(
            f"{ENTERPRISES}/{enterprise}/representative",
            json={"id_number": citizen.number},
            headers=headers,
        ),
        *(
            browser.http.post(f"{PEOPLE}/{public_id}/{verb}", headers=headers)
            for verb in ("disable", "enable", "reset-factors", "unlock")
        ),
    ]
    assert [c.status_code for c in calls] == [403] * len(calls)
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None and person.disabled_at is None


def test_support_may_not_change_a_representative(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    enterprise, _ = uscc_of(app, make_enterprise(app, citizen))
    answer = browser.http.put(
        f"{ENTERPRISES}/{enterprise}/representative",
        json={"id_number": make_citizen(app).number},
        headers=admin_headers(Role.SUPPORT),
    )
    assert answer.status_code == 403 and "roles: admin" in answer.get_json()["detail"]


def test_disabling_ends_sign_in_and_tokens_and_enabling_restores_sign_in(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    rp = make_client(app)
    body = tokens_for(Browser(app.test_client()), rp, citizen)
    headers = admin_headers(Role.SUPPORT)
    public_id = _found(browser, headers, citizen)["person"]
    answer = browser.http.post(f"{PEOPLE}/{public_id}/disable", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    report = answer.get_json()
    # The session's tokens end with it; revoke_person takes any left (none here).
    assert report["sessions_ended"] == 1 and report["tokens_revoked"] == 0
    assert is_dead(browser, rp, body["access_token"])
    refused = Browser(app.test_client())
    page = refused.authorize(Authorization(rp.client_id, rp.redirect_uri))
    assert (
        refused.submit(page, username=citizen.number, password=citizen.password).status_code == 403
    )
    row = _last_action(app, "person.disable")
    assert row.target == report["id_number"] and row.target_type == "person"
    assert row.before == {"disabled_at": None} and row.after and row.after["disabled_at"]
    assert row.actor_kind == "client"
    _no_number_in(row, citizen.number)

    assert _found(browser, headers, citizen)["disabled"] is True
    enabled = browser.http.post(f"{PEOPLE}/{public_id}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.get_json()["disabled"] is False
    again = _last_action(app, "person.enable")
    assert again.after == {"disabled_at": None} and again.before and again.before["disabled_at"]
    tokens_for(Browser(app.test_client()), rp, citizen)  # signs in again


def test_resetting_factors_removes_the_authenticator_app(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    enrol_totp(app, citizen)
    headers = admin_headers(Role.SUPPORT)
    shown = _found(browser, headers, citizen)
    assert shown["factors"]["totp"] is True and shown["factors"]["recovery_codes"] > 0
    answer = browser.http.post(f"{PEOPLE}/{shown['person']}/reset-factors", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["totp_removed"] is True
    with app.app_context():
        assert not rfc6238.is_enrolled(citizen.person_id)
    after = _found(browser, headers, citizen)["factors"]
    assert after == {"password": True, "totp": False, "recovery_codes": 0, "passkeys": 0}
    row = _last_action(app, "person.reset_factors")
    assert row.before == {"totp": True, "passkeys": 0}
    assert row.after == {"totp": False, "passkeys": 0}
    assert row.target == shown["id_number"]
    _no_number_in(row, citizen.number)


def _failures(app: Flask, citizen: Citizen) -> int:
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        key = account_key(person.number_index)
        found = services().throttle.counters.peek([key], now_ms()).get(key)
        return found.count if found else 0


def test_unlocking_forgets_the_failed_attempts(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    rp = make_client(app)
    guesser = Browser(app.test_client())
    page = guesser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    guesser.submit(page, username=citizen.number, password="not the password")
    assert _failures(app, citizen) == 1
    headers = admin_headers(Role.SUPPORT)
    public_id = _found(browser, headers, citizen)["person"]
    answer = browser.http.post(f"{PEOPLE}/{public_id}/unlock", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "unlocked"
    assert _failures(app, citizen) == 0
    row = _last_action(app, "person.unlock")
    assert row.target == answer.get_json()["id_number"]
    _no_number_in(row, citizen.number)


def test_an_enterprise_is_found_and_its_representative_changed(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen
) -> None:
    enterprise, uscc = uscc_of(app, make_enterprise(app, citizen))
    successor = make_citizen(app)
    headers = admin_headers(Role.ADMIN)
    found = browser.http.post(ENTERPRISES + "/search", json={"uscc": uscc}, headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    shown = found.get_json()
    assert shown["enterprise"] == enterprise and uscc not in found.get_data(as_text=True)
    assert (
        shown["legal_representative"]["id_number"]
        == citizen.number[:6] + "********" + (citizen.number[-4:])
    )
    support = admin_headers(Role.SUPPORT)
    assert browser.http.get(f"{ENTERPRISES}/{enterprise}", headers=support).json == shown
    moved = browser.http.put(
        f"{ENTERPRISES}/{enterprise}/representative",
        json={"id_number": successor.number},
        headers=headers,
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert successor.number not in moved.get_data(as_text=True)
    representative = moved.get_json()["legal_representative"]
    with app.app_context():
        row = db.session.scalar(select(Enterprise).filter_by(public_id=enterprise))
        assert row is not None and row.legal_representative_id == successor.person_id
    action = _last_action(app, "enterprise.representative")
    assert action.target == shown["uscc"] and action.target_type == "enterprise"
    assert action.before == {"legal_representative": shown["legal_representative"]}
    assert action.after == {"legal_representative": representative}
    _no_number_in(action, citizen.number, successor.number, uscc)


@pytest.mark.parametrize(
    "body",
    [{"id_number": "11010519491231002Y"}, {"id_number": 1}, {}, {"id_number": "x" * 18, "y": 1}],
)
def test_a_bad_representative_number_is_a_422(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen, body: Any
) -> None:
    enterprise, _ = uscc_of(app, make_enterprise(app, citizen))
    answer = browser.http.put(
        f"{ENTERPRISES}/{enterprise}/representative", json=body, headers=admin_headers(Role.ADMIN)
    )
    assert answer.status_code == 422 and "11010519491231002Y" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("uscc", ["91110000123456789I", "short", ""])
def test_a_bad_uscc_is_a_422(browser: Browser, admin_headers: AdminToken, uscc: str) -> None:
    answer = browser.http.post(
        ENTERPRISES + "/search", json={"uscc": uscc}, headers=admin_headers(Role.SUPPORT)
    )
    assert answer.status_code == 422
