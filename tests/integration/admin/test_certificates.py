"""Certificates through the admin API: shown by identifier, found by holder's number in a body,
revoked with a reason that the status list then shows, each revocation recorded without a
number."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from yihao.wire.fields import CredentialType
from yihao.wire.identifier import certificate_identifier
from yihao.wire.status_list import parse_token

from idp.admin import certificates
from idp.admin.roles import CLI, Role
from idp.credentials.certificates import Holder
from idp.identifiers import mask_identifier
from idp.services import services
from idp.store.db import db
from idp.store.models import AdminAction, Person
from idp.store.subjects import enterprise_index
from tests.conftest import Citizen
from tests.integration.admin.conftest import (
    AdminToken,
    issue_certificate,
    make_operator,
    sign_in_to_console,
)
from tests.support.browser import Browser, csrf_of
from tests.support.identities import new_id_number, new_uscc

CERTIFICATES = "/admin/api/certificates"


def _licence(app: Flask) -> tuple[str, str]:
    code = new_uscc()
    cells = {
        "uscc": code,
        "enterprise_name": "北京一号通行科技有限公司",
        "enterprise_type": "有限责任公司",
        "legal_representative": "李明",
        "registered_capital": "10000000",
        "established": "2018-06-12",
        "address": "北京市朝阳区建国路1号",
        "business_status": "存续",
    }
    with app.app_context():
        holder = Holder(enterprise_index(services().cipher, code), mask_identifier(code), "uscc")
    return code, issue_certificate(app, holder, cells, "business")


def _status_bit(browser: Browser, shown: dict[str, Any]) -> int | None:
    answer = browser.get(f"/sl/{shown['status_list']}")
    assert answer.status_code == 200
    _, token = parse_token(answer.data)
    return token.status(shown["status_index"])


def test_a_certificate_is_shown_by_identifier(
    browser: Browser, admin_headers: AdminToken, citizen: Citizen, id_card: str
) -> None:
    answer = browser.http.get(f"{CERTIFICATES}/{id_card}", headers=admin_headers(Role.SUPPORT))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    shown = answer.get_json()
    assert shown["identifier"] == id_card and shown["revoked_at"] is None
    assert shown["holder"] == citizen.number[:6] + "********" + citizen.number[-4:]
    assert citizen.number not in answer.get_data(as_text=True)


def test_a_holders_certificates_are_found_by_number_or_code(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen, id_card: str
) -> None:
    headers = admin_headers(Role.SUPPORT)
    found = browser.http.post(
        CERTIFICATES + "/search", json={"id_number": citizen.number}, headers=headers
    )
    assert found.status_code == 200, found.get_data(as_text=True)
    assert [c["identifier"] for c in found.get_json()] == [id_card]
    assert citizen.number not in found.get_data(as_text=True)
    code, licence = _licence(app)
    by_code = browser.http.post(CERTIFICATES + "/search", json={"uscc": code}, headers=headers)
    assert by_code.status_code == 200 and [c["identifier"] for c in by_code.get_json()] == [licence]
    nobody = browser.http.post(
        CERTIFICATES + "/search", json={"id_number": new_id_number()}, headers=headers
    )
    assert nobody.status_code == 200 and nobody.get_json() == []


def test_revoking_shows_in_the_status_list_and_is_recorded(
    app: Flask, browser: Browser, admin_headers: AdminToken, citizen: Citizen, id_card: str
) -> None:
    headers = admin_headers(Role.SUPPORT)
    shown = browser.http.get(f"{CERTIFICATES}/{id_card}", headers=headers).get_json()
    assert _status_bit(browser, shown) == 0
    answer = browser.http.post(
        f"{CERTIFICATES}/{id_card}/revoke", json={"reason": "data_error"}, headers=headers
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"identifier": id_card, "revoked": True, "already_revoked": False}
    assert _status_bit(browser, shown) == 1
    now = browser.http.get(f"{CERTIFICATES}/{id_card}", headers=headers).get_json()
    assert (now["revoke_reason"], now["revoked_by"]) == ("data_error", "client")
    assert now["revoked_at"] and now["revoked_by_id"]
    again = browser.http.post(
        f"{CERTIFICATES}/{id_card}/revoke", json={"reason": "withdrawn"}, headers=headers
    )
    assert again.get_json()["already_revoked"] is True
    with app.app_context():
        rows = list(db.session.scalars(select(AdminAction).filter_by(target=id_card)))
        assert len(rows) == 1  # the second call changed nothing
        (row,) = rows
        assert (row.action, row.target_type, row.actor_kind) == (
            "certificate.revoke",
            "certificate",
            "client",
        )
        assert row.after == {"holder": shown["holder"], "revoked": True, "reason": "data_error"}
        assert citizen.number not in repr((row.target, row.before, row.after))


def test_an_operator_signed_in_is_named_as_the_revoker(
    app: Flask, browser: Browser, citizen: Citizen, id_card: str
) -> None:
    operator, totp = make_operator(app, Role.SUPPORT)
    sign_in_to_console(browser, operator, totp)
    page = browser.get("/account")  # any page with a form carries the session's CSRF token
    answer = browser.http.post(
        f"{CERTIFICATES}/{id_card}/revoke",
        json={"reason": "withdrawn"},
        headers={"X-CSRFToken": csrf_of(page.get_data(as_text=True))},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(Person, operator.person_id)
        assert person is not None
        shown = certificates.show(CLI, id_card)
        row = db.session.scalars(select(AdminAction).filter_by(target=id_card)).one()
        assert (row.actor_kind, row.actor) == ("person", person.number_masked)
    assert (shown["revoked_by"], shown["revoked_by_id"]) == ("operator", person.public_id)


@pytest.mark.parametrize("role", [Role.CLIENT_MANAGER, Role.AUDITOR])
def test_roles_without_the_certificate_permissions_are_refused(
    app: Flask,
    browser: Browser,
    admin_headers: AdminToken,
    citizen: Citizen,
    id_card: str,
    role: Role,
) -> None:
    headers = admin_headers(role)
    calls = [
        browser.http.get(f"{CERTIFICATES}/{id_card}", headers=headers),
        browser.http.post(
            CERTIFICATES + "/search", json={"id_number": citizen.number}, headers=headers
        ),
        browser.http.post(
            f"{CERTIFICATES}/{id_card}/revoke", json={"reason": "withdrawn"}, headers=headers
        ),
    ]
    assert [c.status_code for c in calls] == [403, 403, 403]
    assert "support" in calls[0].get_json()["detail"]
    shown = browser.http.get(f"{CERTIFICATES}/{id_card}", headers=admin_headers(Role.ADMIN))
    assert shown.get_json()["revoked_at"] is None


def test_an_unknown_identifier_is_a_404_and_a_malformed_one_a_422(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    headers = admin_headers(Role.SUPPORT)
    with app.app_context():
        svc = services()
        type_code = svc.catalogue.types[CredentialType.ID_CARD].type_code
        unknown = certificate_identifier(type_code, svc.settings.issuer_code, 10**8, 1)
    assert browser.http.get(f"{CERTIFICATES}/{unknown}", headers=headers).status_code == 404
    revoke = {"json": {"reason": "withdrawn"}, "headers": headers}
    assert browser.http.post(f"{CERTIFICATES}/{unknown}/revoke", **revoke).status_code == 404
    for bad in ("not-an-identifier", unknown[:-1] + ("0" if unknown[-1] != "0" else "1")):
        assert browser.http.get(f"{CERTIFICATES}/{bad}", headers=headers).status_code == 422
        assert browser.http.post(f"{CERTIFICATES}/{bad}/revoke", **revoke).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "because"},
        {},
        {"reason": "withdrawn", "extra": True},
        {"reason": 1},
    ],
)
def test_a_bad_reason_is_a_422(
    browser: Browser, admin_headers: AdminToken, id_card: str, body: dict[str, object]
) -> None:
    answer = browser.http.post(
        f"{CERTIFICATES}/{id_card}/revoke", json=body, headers=admin_headers(Role.SUPPORT)
    )
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id_number": "11010519491231002Y"},
        {"uscc": "91110000123456789I"},
        {"id_number": "11010519491231002X", "uscc": "911100001234567890"},
    ],
)
def test_a_bad_holder_is_a_422_without_the_number(
    browser: Browser, admin_headers: AdminToken, body: dict[str, object]
) -> None:
    answer = browser.http.post(
        CERTIFICATES + "/search", json=body, headers=admin_headers(Role.SUPPORT)
    )
    assert answer.status_code == 422
    assert "11010519491231002" not in answer.get_data(as_text=True)
