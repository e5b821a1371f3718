"""The audit area: admin actions, security events and releases, for auditors only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from idp.admin import audit, operators, paging
from idp.admin.roles import CLI, Role
from idp.identifiers import mask_identifier
from idp.store.db import db
from idp.store.models import Person
from idp.web.admin_api.operations import PREFIX
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration import test_mandates as m
from tests.integration.admin.conftest import AdminToken, make_operator, sign_in_to_console
from tests.support.browser import Browser
from tests.support.oidc import tokens_for

TRAILS = ("admin-actions", "security-events", "releases")
PROBLEM = "application/problem+json"


def now() -> str:
    return datetime.now(UTC).isoformat()


def read(browser: Browser, headers: dict[str, str], trail: str, **query: Any) -> dict[str, Any]:
    answer = browser.http.get(f"{PREFIX}/audit/{trail}", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def export(
    browser: Browser, headers: dict[str, str], trail: str, **query: Any
) -> list[dict[str, str]]:
    answer = browser.http.get(f"{PREFIX}/audit/{trail}.csv", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def same_as_json(rows: list[dict[str, str]], items: list[dict[str, Any]]) -> bool:
    return rows == [{k: audit.csv_cell(v) for k, v in item.items()} for item in items]


def public_id(app: Flask, citizen: Citizen) -> str:
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        return str(person.public_id)


@pytest.fixture()
def auditor(admin_headers: AdminToken) -> dict[str, str]:
    return admin_headers(Role.AUDITOR)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT, Role.CLIENT_MANAGER])
@pytest.mark.parametrize("path", [*TRAILS, *(t + ".csv" for t in TRAILS)])
def test_only_an_auditor_reads_the_audit(
    browser: Browser, admin_headers: AdminToken, role: Role, path: str
) -> None:
    answer = browser.http.get(f"{PREFIX}/audit/{path}", headers=admin_headers(role))
    assert answer.status_code == 403 and answer.mimetype == PROBLEM
    assert "roles: auditor" in answer.get_json()["detail"]


def test_admin_actions_filter_page_and_export(
    browser: Browser, admin_headers: AdminToken, auditor: dict[str, str]
) -> None:
    start = now()
    admin = admin_headers(Role.ADMIN)
    for _ in range(3):
        assert browser.http.post(PREFIX + "/keys/signing/rotate", headers=admin).status_code == 200
    other = admin_headers(Role.ADMIN)
    assert browser.http.post(PREFIX + "/keys/signing/rotate", headers=other).status_code == 200

    recent = read(browser, auditor, "admin-actions", since=start)
    assert recent["total"] == 4 and all(i["at"] >= start[:19] for i in recent["items"])
    mine = recent["items"][-1]["actor"]  # oldest first rotation: the first admin client
    by_actor = read(browser, auditor, "admin-actions", actor=mine, action="key.rotate")
    assert by_actor["total"] == 3 and {i["actor"] for i in by_actor["items"]} == {mine}
    assert (
        read(browser, auditor, "admin-actions", actor=mine, action="registry.import")["total"] == 0
    )
    assert read(browser, auditor, "admin-actions", actor=mine, until=start)["total"] == 0
    assert read(browser, auditor, "admin-actions", target="all", since=start)["total"] == 4

    first = read(browser, auditor, "admin-actions", actor=mine, limit=2)
    assert first["limit"] == 2 and first["next_offset"] == 2 and len(first["items"]) == 2
    rest = read(browser, auditor, "admin-actions", actor=mine, limit=2, offset=2)
    assert rest["next_offset"] is None and len(rest["items"]) == 1
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3

    rows = export(browser, auditor, "admin-actions", actor=mine)
    assert len(rows) == 3 and same_as_json(rows, first["items"] + rest["items"])
    assert list(rows[0]) == list(audit.ADMIN_ACTIONS.columns)


def test_security_events_name_people_by_public_id_and_masked_number(
    app: Flask, browser: Browser, auditor: dict[str, str], rp: RegisteredClient
) -> None:
    start = now()
    citizen = make_citizen(app)
    tokens_for(browser, rp, citizen)
    person = public_id(app, citizen)
    theirs = read(browser, auditor, "security-events", person=person)
    assert theirs["total"] >= 1
    assert {i["person"] for i in theirs["items"]} == {person}
    assert "signed_in" in {i["event"] for i in theirs["items"]}
    assert all(i["id_number"] and "*" in i["id_number"] for i in theirs["items"])
    signed_in = read(browser, auditor, "security-events", person=person, event="signed_in")
    assert {i["event"] for i in signed_in["items"]} == {"signed_in"}
    assert read(browser, auditor, "security-events", person=person, until=start)["total"] == 0
    rows = export(browser, auditor, "security-events", person=person)
    assert same_as_json(rows, theirs["items"])
    text = browser.http.get(
        PREFIX + "/audit/security-events.csv", query_string={"person": person}, headers=auditor
    ).get_data(as_text=True)
    assert citizen.number not in text


def test_releases_show_who_received_whose_data(
    app: Flask, browser: Browser, auditor: dict[str, str], citizen: Citizen
) -> None:
    rp = make_client(app)
    other_rp = make_client(app)
    tokens_for(browser, rp, citizen)
    tokens_for(browser, other_rp, citizen)
    person = public_id(app, citizen)
    to_rp = read(browser, auditor, "releases", client=rp.client_id)
    assert to_rp["total"] >= 1
    assert {(i["client_id"], i["person"]) for i in to_rp["items"]} == {(rp.client_id, person)}
    assert all("*" in i["id_number"] and i["claims"] for i in to_rp["items"])
    both = read(browser, auditor, "releases", person=person)
    assert {i["client_id"] for i in both["items"]} >= {rp.client_id, other_rp.client_id}
    rows = export(browser, auditor, "releases", client=rp.client_id)
    assert same_as_json(rows, to_rp["items"])
    body = browser.http.get(PREFIX + "/audit/releases", headers=auditor).get_data(as_text=True)
    assert citizen.number not in body
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert read(browser, auditor, "releases", person=person, since=later)["items"] == []


@pytest.mark.parametrize("trail", TRAILS)
@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2026-13-01"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"limit": "0"},
        {"limit": str(paging.MAX_LIMIT + 1)},
        {"offset": "-1"},
        {"limit": "ten"},
    ],
)
def test_bad_filters_are_a_422(
    browser: Browser, auditor: dict[str, str], trail: str, query: dict[str, str]
) -> None:
    answer = browser.http.get(f"{PREFIX}/audit/{trail}", query_string=query, headers=auditor)
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    assert answer.get_json()["errors"][0]["pointer"].startswith("?")


def test_an_export_over_its_cap_is_refused_not_cut_short(
    app: Flask, browser: Browser, auditor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():  # two actions at least, whatever ran before
        for _ in range(2):
            operators.grant(CLI, make_citizen(app).number, Role.SUPPORT.value)
    monkeypatch.setattr(paging, "EXPORT_MAX", 1)
    answer = browser.http.get(PREFIX + "/audit/admin-actions.csv", headers=auditor)
    assert answer.status_code == 422 and "narrow" in answer.get_json()["detail"]


def test_a_cell_a_spreadsheet_would_run_is_defused() -> None:
    assert audit.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert audit.csv_cell({"b": 1, "a": None}) == '{"a": null, "b": 1}'
    assert audit.csv_cell(None) == "" and audit.csv_cell(7) == "7"


def _agent_and_representative_released(app: Flask) -> tuple[m.Setting, str]:
    """An agent's and the representative's enterprise sign-ins at one service; the mandate."""
    representative, agent = make_citizen(app, name="钱一"), make_citizen(app, name="孙二")
    enterprise_id = make_enterprise(app, representative, name="经办测试有限公司")
    rp = make_client(app, scope=m.SCOPE)
    s = m.Setting(representative, agent, enterprise_id, rp, m.signed_in(app, representative))
    assert m.grant(s.rep_browser, enterprise_id, agent) == "granted"
    (mandate,) = m.mandates_of(app, agent)
    m.agent_tokens(Browser(app.test_client()), s)
    m.agent_or_rep_tokens(s.rep_browser, s)  # the representative's own: no mandate
    return s, mandate.public_id


def test_a_release_under_a_mandate_names_the_mandate_and_its_agent(
    app: Flask, browser: Browser, auditor: dict[str, str]
) -> None:
    # Who used the enterprise's data, on whose authority: the mandate and the agent it names.
    s, mandate = _agent_and_representative_released(app)
    agent, representative = s.agent, s.representative
    every = read(browser, auditor, "releases", client=s.rp.client_id)["items"]
    by_agent = [i for i in every if i["mandate"] is not None]
    assert by_agent and all(i["mandate"] == mandate for i in by_agent)
    assert {i["agent"] for i in by_agent} == {public_id(app, agent)}
    assert {i["agent_id_number"] for i in by_agent} == {mask_identifier(agent.number)}
    own = [i for i in every if i["person"] == public_id(app, representative)]
    assert own and all(i["agent"] is None and i["agent_id_number"] is None for i in own)
    only = read(browser, auditor, "releases", mandate=mandate)["items"]
    assert [i["id"] for i in only] == [i["id"] for i in by_agent]
    rows = export(browser, auditor, "releases", mandate=mandate)
    assert same_as_json(rows, only) and agent.number not in str(rows)


def test_the_console_release_trail_shows_and_filters_by_mandate(
    app: Flask, browser: Browser
) -> None:
    s, mandate = _agent_and_representative_released(app)
    auditor, totp = make_operator(app, Role.AUDITOR)
    sign_in_to_console(browser, auditor, totp)
    page = browser.get(f"/admin/audit/releases?mandate={mandate}").get_data(as_text=True)
    assert 'name="mandate"' in page and mandate in page
    assert mask_identifier(s.agent.number) in page and s.agent.number not in page
    assert mask_identifier(s.representative.number) not in page  # the filter held
