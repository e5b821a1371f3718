"""The admin console's door: a first-party sign-in with a second factor, roles, a short session,
and the operators page as the first area (each area's pages are tested with its tasks)."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from idp.admin import certificates, clients, keys, operators
from idp.admin.paging import DEFAULT_LIMIT
from idp.admin.roles import CLI, Role
from idp.auth import rfc6238
from idp.identifiers import mask_identifier
from idp.oauth.assurance import TWO_FACTOR
from idp.oauth.first_party import CONSOLE
from idp.store.db import db
from idp.store.models import AdminAction, Person, SessionRow
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_enterprise
from tests.integration.admin.conftest import enrol_totp, make_operator, sign_in_to_console, uscc_of
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import ORIGIN, Browser, csrf_of
from tests.support.identities import new_id_number
from tests.support.passkeys import add_passkey, post_json, signed_in_browser
from tests.support.registry import id_card_cells


def _text(page: object) -> str:
    return page.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_a_stranger_is_sent_to_sign_in_with_a_second_factor_and_a_recent_sign_in(
    browser: Browser,
) -> None:
    answer = browser.get("/admin/")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path == "/authorize"
    assert query["client_id"] == CONSOLE.client_id
    assert query["acr_values"] == TWO_FACTOR.acr and query["max_age"] == "900"
    assert query["code_challenge_method"] == "S256"


def test_an_operator_signs_in_with_password_and_app_and_sees_their_areas(
    app: Flask, browser: Browser
) -> None:
    citizen, totp = make_operator(app, Role.ADMIN)
    page = sign_in_to_console(browser, citizen, totp)
    assert page.status_code == 200, _text(page)[:400]
    assert 'href="/admin/operators"' in _text(page)
    assert citizen.number not in _text(page)  # only the masked number is shown


def test_an_area_the_roles_do_not_open_is_not_listed_and_answers_403(
    app: Flask, browser: Browser
) -> None:
    citizen, totp = make_operator(app, Role.SUPPORT)
    page = sign_in_to_console(browser, citizen, totp)
    assert page.status_code == 200 and 'href="/admin/operators"' not in _text(page)
    assert browser.get("/admin/operators").status_code == 403


def test_without_a_second_factor_the_console_stays_shut(app: Flask, browser: Browser) -> None:
    citizen = make_citizen(app)
    with app.app_context():
        operators.grant(CLI, citizen.number, "admin")
    page = browser.follow(browser.get("/admin/"))
    page = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    assert page.status_code == 200 and "分两步登录" in _text(page)  # asked to step up, not in
    assert browser.get("/admin/").status_code == 302


def test_a_person_without_a_role_gets_a_403_page(app: Flask, browser: Browser) -> None:
    citizen = make_citizen(app)
    totp = enrol_totp(app, citizen)
    page = sign_in_to_console(browser, citizen, totp)
    assert page.status_code == 403


def test_the_console_asks_for_a_new_sign_in_after_the_admin_session_ttl(
    app: Flask, browser: Browser
) -> None:
    citizen, totp = make_operator(app, Role.ADMIN)
    assert sign_in_to_console(browser, citizen, totp).status_code == 200
    with app.app_context():
        db.session.execute(
            update(SessionRow)
            .where(SessionRow.person_id == citizen.person_id)
            .values(auth_time=SessionRow.auth_time - 901)
        )
        db.session.commit()
    again = browser.get("/admin/operators")
    assert again.status_code == 302 and "/authorize?" in again.headers["Location"]


def test_operators_are_granted_and_withdrawn_from_the_page_and_recorded(
    app: Flask, browser: Browser
) -> None:
    citizen, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, citizen, totp)
    other = make_citizen(app)
    page = browser.get("/admin/operators")
    granted = browser.follow(
        browser.http.post(
            "/admin/operators",
            data={"csrf_token": csrf_of(_text(page)), "id_number": other.number, "role": "auditor"},
        )
    )
    assert granted.status_code == 200 and other.number not in _text(granted)
    assert 'role="status"' in _text(granted)
    again = browser.follow(
        browser.http.post(
            "/admin/operators",
            data={"csrf_token": csrf_of(_text(page)), "id_number": other.number, "role": "auditor"},
        )
    )
    assert 'role="alert"' in _text(again)  # already held: the task's refusal, flashed
    with app.app_context():
        actions = list(db.session.scalars(select(AdminAction).order_by(AdminAction.id)))
        assert actions[-1].action == "operator.grant" and actions[-1].actor_kind == "person"


def test_a_form_without_its_csrf_token_is_refused(app: Flask, browser: Browser) -> None:
    citizen, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, citizen, totp)
    answer = browser.http.post("/admin/operators", data={"id_number": "x", "role": "auditor"})
    assert answer.status_code == 400


def _post(browser: Browser, url: str, **fields: str) -> TestResponse:
    """Post a console form (the token from the page before) and follow to the next page."""
    token = csrf_of(_text(browser.get("/admin/")))
    return browser.follow(browser.http.post(url, data={"csrf_token": token, **fields}))


def test_support_finds_a_person_by_number_and_resets_their_factors(
    app: Flask, browser: Browser
) -> None:
    operator, totp = make_operator(app, Role.SUPPORT)
    sign_in_to_console(browser, operator, totp)
    caller = make_citizen(app)
    enrol_totp(app, caller)
    page = _post(browser, "/admin/people/search", id_number=caller.number)
    assert page.status_code == 200 and mask_identifier(caller.number) in _text(page)
    assert caller.number not in _text(page) and caller.number not in page.request.url
    person = page.request.path.rsplit("/", 1)[1]
    reset = _post(browser, f"/admin/people/{person}/reset-factors")
    assert 'role="status"' in _text(reset)
    with app.app_context():
        assert not rfc6238.is_enrolled(caller.person_id)
        action = db.session.scalars(select(AdminAction).order_by(AdminAction.id.desc())).first()
        assert action is not None and action.action == "person.reset_factors"
    unknown = _post(browser, "/admin/people/search", id_number=new_id_number())  # not registered
    assert 'role="alert"' in _text(unknown) and unknown.request.path == "/admin/people"


def test_support_disables_and_re_enables_an_account(app: Flask, browser: Browser) -> None:
    operator, totp = make_operator(app, Role.SUPPORT)
    sign_in_to_console(browser, operator, totp)
    caller = make_citizen(app)
    with app.app_context():
        person = db.session.get(Person, caller.person_id)
        assert person is not None
        public_id = person.public_id
    _post(browser, f"/admin/people/{public_id}/disable")
    with app.app_context():
        assert db.session.get(Person, caller.person_id).disabled_at is not None  # type: ignore[union-attr]
    page = _post(browser, f"/admin/people/{public_id}/enable")
    assert "重新启用账号" not in _text(page) and "停用账号" in _text(page)
    assert browser.http.post(f"/admin/people/{public_id}/nonsense").status_code in (400, 404)


def test_an_auditor_cannot_open_people_or_act_on_them(app: Flask, browser: Browser) -> None:
    operator, totp = make_operator(app, Role.AUDITOR)
    sign_in_to_console(browser, operator, totp)
    assert browser.get("/admin/people").status_code == 200  # the search form only
    caller = make_citizen(app)
    refused = _post(browser, "/admin/people/search", id_number=caller.number)
    assert 'role="alert"' in _text(refused)


def test_support_revokes_a_certificate_found_by_its_holders_number(
    app: Flask, browser: Browser, citizen: Citizen, id_card: str
) -> None:
    operator, totp = make_operator(app, Role.SUPPORT)
    sign_in_to_console(browser, operator, totp)
    found = _post(browser, "/admin/certificates/search", id_number=citizen.number)
    assert id_card in _text(found) and citizen.number not in _text(found)
    revoked = _post(browser, f"/admin/certificates/{id_card}/revoke", reason="data_error")
    assert 'role="status"' in _text(revoked) and "登记数据有误" in _text(revoked)
    with app.app_context():
        shown = certificates.show(CLI, id_card)
        assert shown["revoke_reason"] == "data_error" and shown["revoked_by"] == "operator"
    bad = _post(browser, f"/admin/certificates/{id_card}/revoke", reason="because")
    assert 'role="alert"' in _text(bad)


def test_an_auditor_reads_the_trails_filtered_and_paged_and_exports_them(
    app: Flask, browser: Browser, citizen: Citizen, id_card: str
) -> None:
    with app.app_context():
        certificates.revoke_certificate(CLI, id_card, "withdrawn")
        for _ in range(3):
            operators.grant(CLI, make_citizen(app).number, "support")
    auditor, totp = make_operator(app, Role.AUDITOR)
    sign_in_to_console(browser, auditor, totp)
    listed = browser.follow(browser.get("/admin/audit"))
    assert listed.request.path == "/admin/audit/admin-actions"
    assert id_card in _text(listed) and "certificate.revoke" in _text(listed)
    only = browser.get("/admin/audit/admin-actions?action=certificate.revoke")
    assert id_card in _text(only) and "operator.grant" not in _text(only)
    exported = browser.get("/admin/audit/admin-actions.csv?action=certificate.revoke")
    assert (
        exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {row["action"] for row in rows} == {"certificate.revoke"} and rows[0][
        "target"
    ] == id_card
    events = browser.get("/admin/audit/security-events?event=signed_in")
    assert mask_identifier(auditor.number) in _text(events) and auditor.number not in _text(events)
    assert browser.get("/admin/audit/releases").status_code == 200
    assert browser.get("/admin/audit/nothing").status_code == 404
    bad = browser.get("/admin/audit/admin-actions?since=yesterday")
    assert bad.status_code == 422


def test_the_audit_pages_a_long_trail(app: Flask, browser: Browser) -> None:
    with app.app_context():
        for _ in range(DEFAULT_LIMIT + 1):
            operators.grant(CLI, make_citizen(app).number, "support")
    auditor, totp = make_operator(app, Role.AUDITOR)
    sign_in_to_console(browser, auditor, totp)
    first = _text(browser.get("/admin/audit/admin-actions?action=operator.grant"))
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = _text(browser.get("/admin/audit/admin-actions?action=operator.grant&offset=50"))
    assert 'rel="prev"' in second and second.count("operator.grant") < first.count("operator.grant")


def test_the_audit_is_shut_to_an_admin(app: Flask, browser: Browser) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    page = sign_in_to_console(browser, admin, totp)
    assert 'href="/admin/audit"' not in _text(page)
    assert browser.follow(browser.get("/admin/audit")).status_code == 403
    assert browser.get("/admin/audit/admin-actions.csv").status_code == 403


def _registered(browser: Browser, **fields: str) -> tuple[TestResponse, str]:
    page = _post(
        browser,
        "/admin/clients",
        name="公积金中心",
        redirect_uris="https://gjj.example/callback\n\n",
        scope="openid profile id_number",
        auth_method="client_secret_basic",
        **fields,
    )
    found = re.search(r'id="client-id">([^<]+)<', _text(page))
    assert found, _text(page)[:500]
    return page, found.group(1)


def test_a_manager_registers_a_service_and_an_admin_approves_its_id_number_scope(
    app: Flask, browser: Browser
) -> None:
    manager, manager_totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, manager_totp)
    page, client_id = _registered(browser)
    assert 'id="client-secret"' in _text(page) and "id_number" in _text(page)  # waiting
    shown = browser.get(f"/admin/clients/{client_id}")
    assert f"/admin/clients/{client_id}/approve" not in _text(shown)  # not a manager's act
    with app.app_context():
        assert clients.show_client(CLI, client_id)["pending_scope"] == "id_number profile"

    admin, admin_totp = make_operator(app, Role.ADMIN)
    other = Browser(app.test_client())
    sign_in_to_console(other, admin, admin_totp)
    approved = _post(other, f"/admin/clients/{client_id}/approve", scope="id_number")
    assert 'role="status"' in _text(approved)
    with app.app_context():
        client = clients.show_client(CLI, client_id)
        assert "id_number" in client["scope"].split() and client["pending_scope"] == "profile"


def test_a_service_is_edited_its_secret_rotated_and_disabled_from_its_page(
    app: Flask, browser: Browser
) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    first, client_id = _registered(browser)
    old = re.search(r'id="client-secret">([^<]+)<', _text(first))
    edited = _post(
        browser,
        f"/admin/clients/{client_id}/edit",
        name="公积金中心",
        redirect_uris="https://gjj.example/callback\nhttps://gjj.example/other",
        post_logout_redirect_uris="",
        scope="openid profile",
    )
    assert 'role="status"' in _text(edited) and "https://gjj.example/other" in _text(edited)
    refused = _post(
        browser,
        f"/admin/clients/{client_id}/edit",
        name="公积金中心",
        redirect_uris="http://gjj.example/plain",
        scope="openid profile",
    )
    assert 'role="alert"' in _text(refused)  # http off loopback: the registration rules hold
    rotated = _post(browser, f"/admin/clients/{client_id}/secret")
    new = re.search(r'id="client-secret">([^<]+)<', _text(rotated))
    assert old and new and old.group(1) != new.group(1)
    _post(browser, f"/admin/clients/{client_id}/disable")
    with app.app_context():
        assert clients.show_client(CLI, client_id)["disabled_at"] is not None
    with app.app_context():
        total = clients.list_clients(CLI)["total"]
    last = _text(browser.get(f"/admin/clients?offset={total - 1}"))  # oldest first: it is last
    assert client_id in last and "已停用" in last and 'rel="prev"' in last


def test_a_manager_issues_an_initial_access_token_shown_once(app: Flask, browser: Browser) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    issued = _post(browser, "/admin/initial-access-tokens", note="学校", days="3")
    assert re.search(r'id="initial-access-token">[A-Za-z0-9_-]{40,}<', _text(issued))
    bad = _post(browser, "/admin/initial-access-tokens", days="900")
    assert 'role="alert"' in _text(bad)
    listed = _text(browser.get("/admin/clients"))
    closing = re.search(
        r'学校</th>.*?action="(/admin/initial-access-tokens/\d+/revoke)"', listed, re.S
    )
    assert closing, listed[-2000:]
    closed = _post(browser, closing.group(1))
    assert 'role="status"' in _text(closed) and closing.group(1) not in _text(closed)


def _csv_file(rows: list[dict[str, str]]) -> tuple[io.BytesIO, str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8")), "resident_id.csv"


def test_an_admin_imports_a_registry_export_and_sees_each_rejected_line(
    app: Flask, browser: Browser
) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, admin, totp)
    good = id_card_cells(new_id_number(), "冯十二", None)
    bad = {**id_card_cells(new_id_number(), "陈十三", None), "id_number": "110105199001011234"}
    token = csrf_of(_text(browser.get("/admin/imports")))
    answer = browser.http.post(
        "/admin/imports",
        data={"csrf_token": token, "kind": "resident_id", "file": _csv_file([good, bad])},
        content_type="multipart/form-data",
    )
    page = _text(answer)
    assert answer.status_code == 200 and 'role="status"' in page
    assert '<th scope="row">3</th>' in page  # line 3: the bad check character
    assert good["id_number"] not in page and bad["id_number"] not in page
    with app.app_context():
        action = db.session.scalars(select(AdminAction).order_by(AdminAction.id.desc())).first()
        assert action is not None and action.after == {
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
    empty = browser.follow(browser.http.post("/admin/imports", data={"csrf_token": token}))
    assert 'role="alert"' in _text(empty)


def test_an_admin_rotates_and_withdraws_signing_keys_from_the_keys_page(
    app: Flask, browser: Browser
) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, admin, totp)
    with app.app_context():
        before = {k["kid"] for k in keys.list_keys(CLI)["signing_keys"] if k["state"] == "active"}
    rotated = _post(browser, "/admin/keys/signing/rotate")
    assert 'role="status"' in _text(rotated)
    with app.app_context():
        listed = keys.list_keys(CLI)["signing_keys"]
        after = {k["kid"] for k in listed if k["state"] == "active"}
    assert after and not after & before
    kid = sorted(before)[0]
    withdrawn = _post(browser, f"/admin/keys/signing/{kid}/withdraw")
    assert 'role="status"' in _text(withdrawn)
    published = browser.get("/jwks.json")
    assert published.status_code == 200 and kid not in published.get_data(as_text=True)
    again = _post(browser, f"/admin/keys/signing/{kid}/withdraw")
    assert 'role="alert"' in _text(again)


def test_an_admin_finds_an_enterprise_by_its_code_and_changes_its_representative(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, admin, totp)
    public_id, code = uscc_of(app, make_enterprise(app, citizen))
    page = _post(browser, "/admin/enterprises/search", uscc=code)
    assert page.request.path == f"/admin/enterprises/{public_id}"
    assert code not in _text(page) and mask_identifier(citizen.number) in _text(page)
    successor = make_citizen(app)
    changed = _post(
        browser, f"/admin/enterprises/{public_id}/representative", id_number=successor.number
    )
    assert 'role="status"' in _text(changed) and mask_identifier(successor.number) in _text(changed)
    assert successor.number not in _text(changed)


def test_an_operator_signs_in_to_the_console_with_a_passkey_and_no_number(
    app: Flask, rp: RegisteredClient
) -> None:
    operator = make_citizen(app)
    with app.app_context():
        operators.grant(CLI, operator.number, Role.SUPPORT.value)
    authenticator = SoftAuthenticator()
    assert add_passkey(signed_in_browser(app, operator, rp), authenticator).status_code == 200
    browser = Browser(app.test_client())
    page = browser.follow(browser.get("/admin/"))
    found = re.search(r'data-options="/interaction/([^/"]+)/passkey/options"', _text(page))
    assert found, _text(page)[:300]
    uid, token = found.group(1), csrf_of(_text(page))
    options = post_json(browser, f"/interaction/{uid}/passkey/options", token).get_json()
    answered = post_json(
        browser,
        f"/interaction/{uid}/passkey",
        token,
        {"credential": authenticator.get(options, ORIGIN)},
    )
    assert answered.status_code == 200, answered.get_data(as_text=True)
    console = browser.follow(browser.get(answered.get_json()["redirect"]))
    assert console.status_code == 200 and console.request.path == "/admin/"
    assert 'href="/admin/people"' in _text(console)
