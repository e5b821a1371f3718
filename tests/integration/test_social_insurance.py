"""The social insurance registries and scope (docs/claims.md, docs/operations.md): a person's and
an enterprise's contributions per month, imported like the other registries and released only
with consent, the person's own months for a personal login and the enterprise's for an
enterprise login."""

from __future__ import annotations

import csv
import io
import json
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from idp.credentials.importer import ImportReport, Rejected, import_csv
from idp.credentials.registries import KINDS
from idp.services import services
from idp.store.db import db
from idp.store.models import Enterprise, RegistryRecord, Release
from idp.store.registry import find_record, read_record, records_for_holder
from idp.store.subjects import enterprise_index, enterprise_uscc, person_index
from tests.conftest import Citizen, make_citizen, make_client, make_enterprise
from tests.support.browser import Authorization, Browser, location_params
from tests.support.identities import new_id_number, new_uscc
from tests.support.oidc import id_token_claims, redeem, tokens_for, userinfo

FIVE = "养老保险;医疗保险;失业保险;工伤保险;生育保险"
PERSON = "social_insurance"
UNIT = "social_insurance_unit"


def person_month(
    number: str, period: str, employer: str, base: str = "8000", amount: str = "2816.00"
) -> dict[str, str]:
    return {
        "id_number": number,
        "name": "赵敏",
        "period": period,
        "employer_uscc": employer,
        "insurance_types": FIVE,
        "contribution_base": base,
        "contribution_amount": amount,
    }


def unit_month(
    uscc: str, period: str, headcount: str = "12", amount: str = "33000.5"
) -> dict[str, str]:
    return {
        "uscc": uscc,
        "enterprise_name": "北京某某科技有限公司",
        "period": period,
        "insured_headcount": headcount,
        "contribution_amount": amount,
    }


def write(tmp_path: Path, kind: str, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(KINDS[kind].columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / f"{secrets.token_hex(4)}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def load(kind: str, path: Path) -> ImportReport:
    return import_csv(services().cipher, kind, path)


def import_rows(app: Flask, tmp_path: Path, kind: str, rows: list[dict[str, str]]) -> None:
    """Load rows through the importer, as ``idp registry import`` does; every row must load."""
    with app.app_context():
        report = load(kind, write(tmp_path, kind, rows))
    assert report.rejected == [] and report.created + report.updated == len(rows)


# --- import ------------------------------------------------------------------------------------


def test_each_month_is_a_record_of_its_holder_alone(ctx: Flask, tmp_path: Path) -> None:
    # A person's months are theirs, not their employer's; an enterprise's months are its own.
    cipher = services().cipher
    person, employer = new_id_number(), new_uscc()
    months = [person_month(person, p, employer) for p in ("2026-09", "2026-10")]
    assert load(PERSON, write(tmp_path, PERSON, months)) == ImportReport(created=2)
    unit = [unit_month(employer, "2026-10")]
    assert load(UNIT, write(tmp_path, UNIT, unit)) == ImportReport(created=1)

    mine = records_for_holder(person_index(cipher, person))
    assert [(r.kind, read_record(cipher, r)["period"]) for r in mine] == [
        (PERSON, "2026-09"),
        (PERSON, "2026-10"),
    ]
    assert mine[0].key_masked == f"{person[:6]}********{person[-4:]}/2026-09"
    theirs = records_for_holder(enterprise_index(cipher, employer))
    assert [r.kind for r in theirs] == [UNIT]
    assert read_record(cipher, theirs[0]) == {
        "uscc": employer,
        "enterprise_name": "北京某某科技有限公司",
        "period": "2026-10",
        "insured_headcount": 12,
        "contribution_amount": "33000.5",
    }


def test_bad_rows_are_rejected_by_line_without_identifiers(ctx: Flask, tmp_path: Path) -> None:
    person, employer = new_id_number(), new_uscc()
    rows = [
        person_month(person, "2026-10", employer),
        person_month(person, "2026-13", employer),  # line 3
        person_month(person, "2026-11", employer[:-1] + ("0" if employer[-1] != "0" else "1")),
        person_month(person, "2026-12", employer, base="3000", amount="3000.01"),  # line 5
        {**person_month(person, "2027-01", employer), "insurance_types": "养老保险;住房公积金"},
    ]
    report = load(PERSON, write(tmp_path, PERSON, rows))
    assert report.created == 1
    assert [r.line for r in report.rejected] == [3, 4, 5, 6]
    assert report.rejected[0].reason == "period: is not a calendar month"
    assert report.rejected[1].reason.startswith("employer_uscc: ")
    assert report.rejected[2].reason == "contribution_amount: is more than contribution_base"
    assert report.rejected[3].reason.startswith("insurance_types: entry 2 is not one of 养老保险")
    text = json.dumps(report.as_dict(), ensure_ascii=False)
    assert person not in text and employer not in text and employer[:-1] not in text

    unit = [unit_month(employer, "2026-10", headcount="0"), unit_month(employer, "2026-10")]
    assert load(UNIT, write(tmp_path, UNIT, unit)) == ImportReport(
        created=1, rejected=[Rejected(2, "insured_headcount: must be greater than 0")]
    )


def test_a_month_repeated_in_one_file_is_a_duplicate(ctx: Flask, tmp_path: Path) -> None:
    # The key is holder and month: the same person in another month is a new record.
    person, employer = new_id_number(), new_uscc()
    rows = [
        person_month(person, "2026-10", employer),
        person_month(person, "2026-09", employer),
        person_month(person.lower(), "2026-10", employer, amount="100"),
    ]
    report = load(PERSON, write(tmp_path, PERSON, rows))
    assert report.created == 2
    assert report.rejected == [Rejected(4, "id_number, period: duplicate of line 2")]
    unit = [unit_month(employer, "2026-10"), unit_month(employer.lower(), "2026-10")]
    assert load(UNIT, write(tmp_path, UNIT, unit)).rejected == [
        Rejected(3, "uscc, period: duplicate of line 2")
    ]


def test_reimport_is_unchanged_and_a_corrected_month_bumps_its_version(
    ctx: Flask, tmp_path: Path
) -> None:
    cipher = services().cipher
    person, employer = new_id_number(), new_uscc()
    months = [person_month(person, p, employer) for p in ("2026-09", "2026-10")]
    load(PERSON, write(tmp_path, PERSON, months))
    record = find_record(cipher, PERSON, f"{person}/2026-10")
    assert record is not None
    record_id = record.id
    db.session.remove()

    # The same months again, the insurances listed in another order: nothing changes.
    reordered = [
        {**m, "insurance_types": "生育保险;工伤保险;失业保险;医疗保险;养老保险"} for m in months
    ]
    assert load(PERSON, write(tmp_path, PERSON, reordered)) == ImportReport(unchanged=2)

    corrected = [months[0], person_month(person, "2026-10", employer, amount="2992.5")]
    corrected.append(person_month(person, "2026-11", employer))
    assert load(PERSON, write(tmp_path, PERSON, corrected)) == ImportReport(
        created=1, updated=1, unchanged=1
    )
    updated = db.session.get(RegistryRecord, record_id)
    assert updated is not None and updated.version == 2
    assert read_record(cipher, updated)["contribution_amount"] == "2992.5"
    earlier = find_record(cipher, PERSON, f"{person}/2026-09")
    assert earlier is not None and earlier.version == 1


# --- release -----------------------------------------------------------------------------------


def both_views(browser: Browser, tokens: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    info = userinfo(browser, tokens["access_token"])
    assert info.status_code == 200
    return id_token_claims(browser, tokens["id_token"]), info.get_json()


def releases(app: Flask, citizen: Citizen) -> list[tuple[str, set[str]]]:
    with app.app_context():
        rows = db.session.query(Release).filter_by(person_id=citizen.person_id).all()
        return [(r.channel, set(r.claims.split())) for r in rows]


def uscc_of(app: Flask, enterprise_id: int) -> str:
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        return enterprise_uscc(services().cipher, enterprise)


def enterprise_login(
    browser: Browser, rp: Any, person: Citizen, enterprise_id: int, scope: str
) -> tuple[str, dict[str, Any]]:
    """Sign in for the enterprise and consent; the consent page's HTML and the token response."""
    request = Authorization(rp.client_id, rp.redirect_uri, scope=scope)
    page = browser.authorize(request)
    page = browser.follow(browser.submit(page, username=person.number, password=person.password))
    page = browser.follow(browser.submit(page, enterprise_id=str(enterprise_id), decision="allow"))
    html = page.get_data(as_text=True)
    done = browser.follow(browser.submit(page, decision="allow"))
    response = redeem(browser, rp, location_params(done)["code"], request.verifier)
    assert response.status_code == 200, response.get_json()
    return html, response.get_json()


def test_a_person_gets_their_own_months_oldest_first(
    app: Flask, browser: Browser, tmp_path: Path
) -> None:
    person = make_citizen(app, name="赵敏")
    colleague, employer = new_id_number(), new_uscc()
    import_rows(
        app,
        tmp_path,
        PERSON,
        [
            person_month(person.number, "2026-10", employer, base="8500", amount="2992.5"),
            person_month(person.number, "2026-09", employer),
            person_month(colleague, "2026-10", employer, amount="1234"),
        ],
    )
    import_rows(app, tmp_path, UNIT, [unit_month(employer, "2026-10")])
    rp = make_client(app, scope="openid profile social_insurance")
    tokens = tokens_for(browser, rp, person, scope="openid social_insurance")
    assert tokens["scope"].split() == ["openid", "social_insurance"]

    five = FIVE.split(";")
    expected = [
        {"period": "2026-09", "employer_uscc": employer, "insurance_types": five,
         "contribution_base": "8000", "contribution_amount": "2816"},
        {"period": "2026-10", "employer_uscc": employer, "insurance_types": five,
         "contribution_base": "8500", "contribution_amount": "2992.5"},
    ]  # fmt: skip
    for body in both_views(browser, tokens):
        assert body["social_insurance"] == expected
        text = json.dumps(body, ensure_ascii=False)
        assert person.number not in text and colleague not in text and "1234" not in text
        assert "insured_headcount" not in text and "name" not in body
    assert all(names == {"social_insurance"} for _, names in releases(app, person))
    assert len(releases(app, person)) == 2


def test_no_months_on_record_is_an_empty_list(app: Flask, browser: Browser) -> None:
    # docs/claims.md: like properties, [] is an answer ("no contributions on record").
    person = make_citizen(app)
    rp = make_client(app, scope="openid social_insurance")
    tokens = tokens_for(browser, rp, person, scope="openid social_insurance")
    for body in both_views(browser, tokens):
        assert body["social_insurance"] == []


def test_without_the_scope_nothing_is_released(
    app: Flask, browser: Browser, tmp_path: Path
) -> None:
    # Not requested, or requested by a client not registered for it: no months leave.
    person = make_citizen(app)
    import_rows(app, tmp_path, PERSON, [person_month(person.number, "2026-10", new_uscc())])
    registered = make_client(app, scope="openid profile social_insurance")
    unregistered = make_client(app, scope="openid profile")
    for rp, scope in (
        (registered, "openid profile"),
        (unregistered, "openid profile social_insurance"),
    ):
        tokens = tokens_for(browser, rp, person, scope=scope)
        assert tokens["scope"].split() == ["openid", "profile"]
        for body in both_views(browser, tokens):
            assert "social_insurance" not in body and "2816" not in json.dumps(body)
    assert all("social_insurance" not in names for _, names in releases(app, person))


def test_an_enterprise_login_releases_the_enterprises_months(
    app: Flask, browser: Browser, tmp_path: Path
) -> None:
    # The top level describes the enterprise (RFC 8693 4.1): its months there, and not the acting
    # person's own contributions in act.
    person = make_citizen(app, name="韩梅")
    enterprise_id = make_enterprise(app, person, name="韩氏贸易有限公司")
    uscc, other = uscc_of(app, enterprise_id), new_uscc()
    import_rows(
        app,
        tmp_path,
        UNIT,
        [
            unit_month(uscc, "2026-10", headcount="9", amount="25000"),
            unit_month(uscc, "2026-08", headcount="7", amount="19600.25"),
            unit_month(other, "2026-10", headcount="99", amount="999999"),
        ],
    )
    import_rows(app, tmp_path, PERSON, [person_month(person.number, "2026-10", uscc)])
    rp = make_client(app, scope="openid profile enterprise social_insurance")
    html, tokens = enterprise_login(
        browser, rp, person, enterprise_id, "openid profile enterprise social_insurance"
    )
    assert "企业逐月社保缴费记录" in html and "本人逐月社保缴费记录" not in html

    for body in both_views(browser, tokens):
        assert body["entity_type"] == "enterprise" and body["uscc"] == uscc
        assert body["social_insurance"] == [
            {"period": "2026-08", "insured_headcount": 7, "contribution_amount": "19600.25"},
            {"period": "2026-10", "insured_headcount": 9, "contribution_amount": "25000"},
        ]
        assert body["act"]["name"] == "韩梅" and "social_insurance" not in body["act"]
        assert "2816" not in json.dumps(body) and "999999" not in json.dumps(body)
    recorded = releases(app, person)
    assert len(recorded) == 2
    assert all("social_insurance" in n and "act.social_insurance" not in n for _, n in recorded)
    page = browser.get("/account").get_data(as_text=True)
    assert "企业逐月社保缴费记录" in page and "本人逐月社保缴费记录" not in page


def test_consent_page_marks_the_scope_sensitive_and_deny_releases_nothing(
    app: Flask, browser: Browser
) -> None:
    # PIPL 28-29: contributions follow the wage, so the scope needs separate, explicit consent.
    person = make_citizen(app)
    rp = make_client(
        app, scope="openid social_insurance", purposes={"social_insurance": "融资授信"}
    )
    request = Authorization(rp.client_id, rp.redirect_uri, scope="openid social_insurance")
    page = browser.authorize(request)
    page = browser.follow(browser.submit(page, username=person.number, password=person.password))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="decision"' in html
    for text in ("社会保险参保缴费信息", "本人逐月社保缴费记录", "融资授信"):
        assert text in html
    assert "企业逐月社保缴费记录" not in html
    assert html.count("敏感个人信息") == 1
    denied = browser.follow(browser.submit(page, decision="deny"))
    assert location_params(denied)["error"] == "access_denied"
    assert releases(app, person) == []


def test_discovery_lists_the_scope_and_the_claim(browser: Browser) -> None:
    # OIDC Discovery 3: scopes_supported and claims_supported list what the provider releases.
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert "social_insurance" in metadata["scopes_supported"]
    assert "social_insurance" in metadata["claims_supported"]
