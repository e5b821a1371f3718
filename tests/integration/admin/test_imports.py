"""The imports area: a registry CSV uploaded as the body (``POST /admin/api/imports/{kind}``)."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from idp.admin import imports
from idp.admin.roles import Role
from idp.services import services
from idp.store.db import db
from idp.store.models import AdminAction
from idp.store.registry import find_record
from idp.web.admin_api.operations import PREFIX
from tests.integration.admin.conftest import AdminToken
from tests.integration.test_registry_import import RESIDENT_HEADER, resident_row
from tests.support.browser import Browser
from tests.support.identities import new_id_number

PROBLEM = "application/problem+json"


def csv_of(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([RESIDENT_HEADER, *rows])
    return buffer.getvalue().encode()


def upload(
    browser: Browser, headers: dict[str, str], body: bytes, kind: str = "resident_id", **kw: str
) -> TestResponse:
    return browser.http.post(
        f"{PREFIX}/imports/{kind}",
        data=body,
        headers={**headers, "Content-Type": kw.get("media", "text/csv")},
    )


def test_an_upload_is_loaded_line_by_line_and_recorded_without_a_row(
    app: Flask, browser: Browser, admin_headers: AdminToken
) -> None:
    good, other = new_id_number(), new_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    body = csv_of(resident_row(good), resident_row(bad), resident_row(other, name=""))
    answer = upload(browser, admin_headers(Role.ADMIN), body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    report = answer.get_json()
    assert report == {
        "kind": "resident_id",
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {"line": 3, "reason": "id_number: check character does not match"},
            {"line": 4, "reason": "name: is empty"},
        ],
    }
    with app.app_context():
        assert find_record(services().cipher, "resident_id", good) is not None
        row = db.session.scalars(
            select(AdminAction).filter_by(action="registry.import").order_by(AdminAction.id.desc())
        ).first()
        assert row is not None and row.target == "resident_id" and row.actor_kind == "client"
        assert row.after == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
        assert all(n not in str(row.__dict__) for n in (good, bad, other))
    again = upload(browser, admin_headers(Role.ADMIN), body).get_json()
    assert again["unchanged"] == 1 and again["created"] == 0


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPORT, Role.CLIENT_MANAGER])
def test_only_an_admin_imports(browser: Browser, admin_headers: AdminToken, role: Role) -> None:
    answer = upload(browser, admin_headers(role), csv_of(resident_row(new_id_number())))
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "empty"),
        (b"\xff\xfe not utf-8\n", "not UTF-8"),
        (b"id_number,name\n1,2\n", "lacks column"),
        (b'id_number,"unclosed\n', "not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_422_and_writes_nothing(
    app: Flask, browser: Browser, admin_headers: AdminToken, body: bytes, detail: str
) -> None:
    with app.app_context():
        before = db.session.scalars(select(AdminAction.id)).all()
    answer = upload(browser, admin_headers(Role.ADMIN), body)
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    assert detail in answer.get_json()["detail"]
    with app.app_context():
        assert db.session.scalars(select(AdminAction.id)).all() == before


def test_an_unknown_kind_is_a_404(browser: Browser, admin_headers: AdminToken) -> None:
    answer = upload(browser, admin_headers(Role.ADMIN), csv_of(), kind="weather")
    assert answer.status_code == 404 and "resident_id" in answer.get_json()["detail"]


def test_another_media_type_is_a_415(browser: Browser, admin_headers: AdminToken) -> None:
    answer = upload(browser, admin_headers(Role.ADMIN), b'{"a": 1}', media="application/json")
    assert answer.status_code == 415 and answer.mimetype == PROBLEM


def test_an_upload_over_the_limit_is_a_413(browser: Browser, admin_headers: AdminToken) -> None:
    header = csv_of()
    body = header + b"\n" * (imports.MAX_UPLOAD_BYTES + 1 - len(header))
    answer = upload(browser, admin_headers(Role.ADMIN), body)
    assert answer.status_code == 413 and answer.mimetype == PROBLEM
    assert f"{imports.MAX_UPLOAD_BYTES} bytes" in answer.get_json()["detail"]


def test_the_openapi_description_says_text_csv(browser: Browser) -> None:
    described = browser.get(PREFIX + "/openapi.json").get_json()
    upload_op = described["paths"]["/imports/{kind}"]["post"]
    assert list(upload_op["requestBody"]["content"]) == ["text/csv"]
    assert {"413", "415", "422"} <= set(upload_op["responses"])


def test_a_nul_character_in_a_cell_rejects_the_line(
    browser: Browser, admin_headers: AdminToken
) -> None:
    number = new_id_number()
    body = csv_of(resident_row(number, name="赵\x00敏"), [number[:6] + "\x00" + number[7:]])
    answer = upload(browser, admin_headers(Role.ADMIN), body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [r["line"] for r in answer.get_json()["rejected"]] == [2, 3]
