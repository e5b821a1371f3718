"""Verified claims from the registries (OpenID Connect for Identity Assurance 1.0) asked for with
the ``claims`` parameter (OIDC Core 5.5): the evidence of the imported record, only what was
requested and consented, trust-framework filtering, bad requests, and plain claims unchanged."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from idp.services import services
from idp.store.db import db
from idp.store.models import Enterprise
from idp.store.registry import find_record
from idp.store.subjects import enterprise_uscc
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration.test_jar import Signer, authorize
from tests.integration.test_registry_claims import (
    household_row,
    import_rows,
    new_household_number,
    new_unit,
    property_row,
    releases,
)
from tests.integration.test_social_insurance import import_rows as import_insurance
from tests.integration.test_social_insurance import person_month, unit_month, uscc_of
from tests.support.browser import Authorization, Browser, location_params
from tests.support.identities import new_uscc
from tests.support.oidc import id_token_claims, redeem, refresh, tokens_for, userinfo
from tests.support.private_key_jwt import assertion, with_assertion

TRUST_FRAMEWORK = "cn_gov_registry"  # docs/claims.md
MISSING: Any = object()
NAME = {"name": None}


def resident_row(number: str, name: str, address: str = "北京市朝阳区建国路1号") -> dict[str, str]:
    return {
        "id_number": number,
        "name": name,
        "ethnicity": "汉",
        "address": address,
        "issuing_authority": "北京市公安局朝阳分局",
        "valid_from": "2020-01-01",
        "valid_until": "长期",
    }


#: A verification request for everything: the time and every electronic record (OIDC4IDA 5.4).
EVERYTHING = {
    "trust_framework": None,
    "time": None,
    "evidence": [{"type": {"value": "electronic_record"}, "record": None}],
}


def ask(claims: dict[str, Any] | None, **verification: Any) -> str:
    """A ``claims`` parameter asking UserInfo for ``claims`` as verified claims."""
    request = {"verification": {**EVERYTHING, **verification}, "claims": claims}
    return json.dumps({"userinfo": {"verified_claims": request}})


def record_of(app: Flask, kind: str, key: str) -> tuple[str, int]:
    """The record's time as the evidence states it, and its version."""
    with app.app_context():
        record = find_record(services().cipher, kind, key)
        assert record is not None
        return record.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"), record.version


def age_record(app: Flask, kind: str, key: str, by: timedelta) -> None:
    with app.app_context():
        record = find_record(services().cipher, kind, key)
        assert record is not None
        record.updated_at -= by
        db.session.commit()


def verified_info(browser: Browser, rp: RegisteredClient, who: Citizen, **extra: str) -> Any:
    tokens = tokens_for(browser, rp, who, **extra)
    response = userinfo(browser, tokens["access_token"])
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture()
def resident(app: Flask) -> Citizen:
    """A citizen whose population record was imported twice, the second time changed (v2)."""
    person = make_citizen(app, name="王秀英")
    import_rows(app, "resident_id", [resident_row(person.number, "王秀英", "旧址1号")])
    import_rows(app, "resident_id", [resident_row(person.number, "王秀英")])
    return person


def test_resident_identity_comes_with_the_evidence_of_its_record(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC4IDA 5 and Schema Definition 5.1.1.2: the claims, the trust framework, the record.
    rp = make_client(app, scope="openid profile")
    claims = {"name": None, "birthdate": None, "gender": {"essential": True}}
    tokens = tokens_for(browser, rp, resident, scope="openid profile", claims=ask(claims))
    info = userinfo(browser, tokens["access_token"]).get_json()

    time, version = record_of(app, "resident_id", resident.number)
    assert version == 2
    assert info["verified_claims"] == {
        "verification": {
            "trust_framework": TRUST_FRAMEWORK,
            "time": time,
            "evidence": [
                {
                    "type": "electronic_record",
                    "record": {
                        "type": "resident_id",
                        "created_at": time,
                        "version": 2,
                        "source": {"name": "国家人口基础信息库", "country_code": "CHN"},
                    },
                }
            ],
        },
        "claims": {
            "name": "王秀英",
            "birthdate": info["birthdate"],
            "gender": info["gender"],
        },
    }
    assert info["name"] == "王秀英"  # the plain claims are there as before
    # Only the userinfo member asked: the ID token has no verified claims.
    assert "verified_claims" not in id_token_claims(browser, tokens["id_token"])
    # "Who used my data" records each verified claim by name.
    recorded = dict(releases(app, resident))
    assert {"verified_claims.name", "verified_claims.gender"} <= recorded["userinfo"]
    assert not any(n.startswith("verified_claims") for n in recorded["id_token"])
    assert "（登记机关核验）" in browser.get("/account").get_data(as_text=True)


def test_only_claims_requested_and_consented_are_released(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # The claims parameter never widens the scopes: address and id_number were not granted.
    rp = make_client(app, scope="openid profile address id_number")
    asked = ask({"name": None, "address": None, "id_number": None})
    info = verified_info(browser, rp, resident, scope="openid profile", claims=asked)
    assert info["verified_claims"]["claims"] == {"name": "王秀英"}
    assert resident.number not in json.dumps(info)


def test_without_the_consented_scope_nothing_is_released(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    rp = make_client(app, scope="openid profile phone")
    info = verified_info(browser, rp, resident, scope="openid phone", claims=ask({"name": None}))
    assert "verified_claims" not in info and "name" not in info
    assert all(not n.startswith("verified") for _, names in releases(app, resident) for n in names)


def test_the_consent_page_says_when_data_comes_as_verified_claims(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    rp = make_client(app, scope="openid profile phone")
    for claims, expected in ((ask({"birthdate": None}), 1), (None, 0)):
        extra = {"claims": claims} if claims else {}
        request = Authorization(rp.client_id, rp.redirect_uri, "openid profile phone", extra)
        page = browser.authorize(request)
        if "password" in page.get_data(as_text=True):
            page = browser.submit(page, username=resident.number, password=resident.password)
            page = browser.follow(page)
        html = page.get_data(as_text=True)
        assert 'name="decision"' in html
        assert html.count("以核验数据提供") == expected  # profile only, not phone


def test_verification_carries_only_what_was_asked(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC4IDA 5.4 and 7: "The OP shall not provide the RP with any data it did not request".
    rp = make_client(app, scope="openid profile")
    time, _version = record_of(app, "resident_id", resident.number)
    template = {"type": {"value": "electronic_record"}, "record": {"version": None}}
    cases = [
        ({"trust_framework": None}, {"trust_framework": TRUST_FRAMEWORK}),
        (
            {"trust_framework": None, "time": None},
            {"trust_framework": TRUST_FRAMEWORK, "time": time},
        ),
        (
            {"trust_framework": None, "evidence": [template]},
            {
                "trust_framework": TRUST_FRAMEWORK,
                "evidence": [
                    {"type": "electronic_record", "record": {"type": "resident_id", "version": 2}}
                ],
            },
        ),
    ]
    for verification, expected in cases:
        request = {"verification": verification, "claims": {"name": None}}
        asked = json.dumps({"userinfo": {"verified_claims": request}})
        info = verified_info(browser, rp, resident, scope="openid profile", claims=asked)
        assert info["verified_claims"]["verification"] == expected


def test_evidence_templates_choose_the_registry(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC4IDA 5.4: evidence entries are filters joined by OR, here on the record type.
    household = new_household_number()
    import_rows(app, "household", [household_row(resident.number, "王秀英", household, "户主")])
    rp = make_client(app, scope="openid profile household")

    def kinds(*record_types: str) -> list[str]:
        evidence = [
            {"type": {"value": "electronic_record"}, "record": {"type": {"value": kind}}}
            for kind in record_types
        ]
        asked = ask({"name": None, "household": None}, evidence=evidence)
        info = verified_info(browser, rp, resident, scope="openid profile household", claims=asked)
        found = info.get("verified_claims", [])
        elements = found if isinstance(found, list) else [found]
        return sorted(e["verification"]["evidence"][0]["record"]["type"] for e in elements)

    assert kinds("household") == ["household"]
    assert kinds("resident_id", "household") == ["household", "resident_id"]
    assert kinds("property") == []


def test_a_claim_not_matching_its_value_is_omitted(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC4IDA 5.7.4: a value/values constraint on a claim omits that claim, not the element.
    rp = make_client(app, scope="openid profile")
    claims = {"name": {"value": "王秀英"}, "birthdate": {"values": ["1900-01-01"]}}
    info = verified_info(browser, rp, resident, scope="openid profile", claims=ask(claims))
    assert info["verified_claims"]["claims"] == {"name": "王秀英"}
    wrong = ask({"name": {"value": "李四"}})
    assert "verified_claims" not in verified_info(
        browser, rp, resident, scope="openid profile", claims=wrong
    )


@pytest.mark.parametrize(
    ("verification", "released"),
    [
        ({"trust_framework": {"value": "eidas"}}, False),
        ({"trust_framework": {"values": ["de_aml", "eidas"]}}, False),
        ({"trust_framework": {"values": ["eidas", TRUST_FRAMEWORK]}}, True),
        ({"trust_framework": {"value": TRUST_FRAMEWORK}}, True),
        ({"trust_framework": None, "evidence": [{"type": {"value": "document"}}]}, False),
        ({"trust_framework": None, "evidence": [{"type": {"value": "electronic_record"}}]}, True),
        # Constraints this provider does not support are ignored (OIDC4IDA 6.5).
        ({"trust_framework": None, "assurance_level": {"value": "high"}}, True),
    ],
)
def test_verification_constraints_select_or_omit_the_claims(
    app: Flask, browser: Browser, resident: Citizen, verification: dict[str, Any], released: bool
) -> None:
    # OIDC4IDA 6.5: an unmet constraint omits the verified claims; the request still succeeds.
    rp = make_client(app, scope="openid profile")
    request = {"verification": verification, "claims": {"name": None}}
    asked = json.dumps({"userinfo": {"verified_claims": request}})
    info = verified_info(browser, rp, resident, scope="openid profile", claims=asked)
    assert ("verified_claims" in info) is released
    assert info["name"] == "王秀英"


def test_a_record_older_than_max_age_is_no_answer(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC4IDA 6.5: max_age on the verification time.
    age_record(app, "resident_id", resident.number, timedelta(hours=2))
    rp = make_client(app, scope="openid profile")
    for max_age, released in ((3600, False), (86400, True)):
        asked = ask({"name": None}, time={"max_age": max_age})
        info = verified_info(browser, rp, resident, scope="openid profile", claims=asked)
        assert ("verified_claims" in info) is released


def verified(verification: Any, claims: Any = NAME) -> dict[str, Any]:
    """A claims request (as JSON-ready data) for one verified_claims element."""
    element = {"verification": verification}
    if claims is not MISSING:
        element["claims"] = claims
    return {"userinfo": {"verified_claims": element}}


TF = {"trust_framework": None}


@pytest.mark.parametrize(
    "claims",
    [
        "not json",
        "[]",
        '"userinfo"',
        '{"userinfo": []}',
        '{"id_token": {"name": 5}}',
        '{"id_token": {"名字\\"<>": 5}}',  # a name is never echoed into the redirect
        '{"userinfo": {"name": {"essential": "yes"}}}',
        '{"userinfo": {"name": {"values": "x"}}}',
        '{"userinfo": {"verified_claims": []}}',
        '{"userinfo": {"verified_claims": 3}}',
        {"userinfo": {"verified_claims": {"claims": {"name": None}}}},
        verified({}, {"name": None}),  # no trust_framework
        verified(TF, {}),
        verified(TF, MISSING),
        verified({"trust_framework": "x"}, None),
        {
            "userinfo": {
                "verified_claims": [verified(TF, {"name": 1})["userinfo"]["verified_claims"]]
            }
        },
        verified({**TF, "evidence": {}}),
        verified({**TF, "evidence": [{}]}),
        verified({**TF, "time": 5}),
        "[" * 100000,
    ],
)
def test_an_invalid_claims_parameter_is_invalid_request_to_the_client(
    app: Flask, browser: Browser, rp: RegisteredClient, claims: str | dict[str, Any]
) -> None:
    # OIDC Core 5.5, OIDC4IDA 5.3-5.4 and its request schema: told to the client before any
    # sign-in, never a 500.
    text = claims[:8000] if isinstance(claims, str) else json.dumps(claims)
    request = Authorization(rp.client_id, rp.redirect_uri, extra={"claims": text})
    response = browser.authorize(request)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    params = location_params(response)
    assert params["error"] == "invalid_request" and params["state"] == request.state
    assert params["error_description"].startswith("claims")


def test_plain_claims_requested_work_as_before(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # OIDC Core 5.5: plain claims come per granted scope as before; unknown names are ignored,
    # and a claim without its scope (id_number) is not released.
    rp = make_client(app, scope="openid profile phone")
    before = tokens_for(browser, rp, citizen, scope="openid profile phone")
    asked = {
        "userinfo": {"name": None, "email": None, "id_number": {"essential": True}},
        # A lone surrogate is valid JSON; it must not break storing the request.
        "id_token": {"phone_number": {"essential": True, "purpose": "办理公积金提取\ud800"}},
        "future_member": {"x": 1},
    }
    after = tokens_for(browser, rp, citizen, scope="openid profile phone", claims=json.dumps(asked))
    volatile = {"iat", "exp", "auth_time", "nonce", "at_hash"}
    old, new = (id_token_claims(browser, t["id_token"]) for t in (before, after))
    assert {k: v for k, v in new.items() if k not in volatile} == {
        k: v for k, v in old.items() if k not in volatile
    }
    assert "name" in new and "phone_number" in new and "verified_claims" not in new
    old_info = userinfo(browser, before["access_token"]).get_json()
    new_info = userinfo(browser, after["access_token"]).get_json()
    assert new_info == old_info and "id_number" not in new_info and "email" not in new_info


def test_the_id_token_carries_what_the_id_token_member_asked(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # OIDC Core 5.5: each member says where the claims go; registry kinds each bring evidence.
    household = new_household_number()
    import_rows(app, "household", [household_row(resident.number, "王秀英", household, "户主")])
    units = [new_unit(), new_unit()]
    import_rows(app, "property", [property_row(u, [(resident.number, "王秀英")]) for u in units])
    rp = make_client(app, scope="openid profile household property")
    verification = EVERYTHING
    asked = {
        "id_token": {
            "verified_claims": {
                "verification": verification,
                "claims": {"household": None, "properties": None, "birthdate": None},
            }
        },
        "userinfo": {"verified_claims": {"verification": verification, "claims": {"name": None}}},
    }
    scope = "openid profile household property"
    tokens = tokens_for(browser, rp, resident, scope=scope, claims=json.dumps(asked))

    elements = id_token_claims(browser, tokens["id_token"])["verified_claims"]
    by_kind = {e["verification"]["evidence"][0]["record"]["type"]: e for e in elements}
    assert sorted(by_kind) == ["household", "property", "resident_id"]
    assert by_kind["resident_id"]["claims"] == {"birthdate": elements[0]["claims"]["birthdate"]}
    assert by_kind["household"]["claims"]["household"]["household_number"] == household
    props = by_kind["property"]
    assert [p["property_unit_number"] for p in props["claims"]["properties"]] == units
    assert len(props["verification"]["evidence"]) == 2  # one record each
    assert all(e["record"]["version"] == 1 for e in props["verification"]["evidence"])

    info = userinfo(browser, tokens["access_token"]).get_json()
    assert info["verified_claims"]["claims"] == {"name": "王秀英"}

    # Every token of the grant keeps the request: UserInfo after a refresh answers the same.
    refreshed = refresh(browser, rp, tokens["refresh_token"])
    assert refreshed.status_code == 200
    again = userinfo(browser, refreshed.get_json()["access_token"]).get_json()
    assert again["verified_claims"] == info["verified_claims"]


def test_an_enterprise_login_verifies_its_business_registration(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # The top level is the enterprise (its business registration), act the acting person.
    enterprise_id = make_enterprise(app, resident, name="王氏贸易有限公司")
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        uscc = enterprise_uscc(services().cipher, enterprise)
    business = {
        "uscc": uscc,
        "enterprise_name": "王氏贸易有限公司",
        "enterprise_type": "有限责任公司",
        "legal_representative": "王秀英",
        "registered_capital": "1000000",
        "established": "2015-06-01",
        "address": "北京市朝阳区建国路2号",
        "business_status": "存续",
    }
    import_rows(app, "business", [business])
    rp = make_client(app, scope="openid enterprise profile")
    asked = ask({"uscc": None, "name": None})
    request = Authorization(
        rp.client_id, rp.redirect_uri, "openid enterprise profile", {"claims": asked}
    )
    page = browser.authorize(request)
    signed_in = browser.submit(page, username=resident.number, password=resident.password)
    choice = {"enterprise_id": str(enterprise_id), "decision": "allow"}
    chosen = browser.submit(browser.follow(signed_in), **choice)
    page = browser.follow(chosen)
    done = browser.follow(browser.submit(page, decision="allow"))
    tokens = redeem(browser, rp, location_params(done)["code"], request.verifier).get_json()
    info = userinfo(browser, tokens["access_token"]).get_json()

    top = info["verified_claims"]
    assert top["claims"] == {"uscc": uscc, "name": "王氏贸易有限公司"}
    assert top["verification"]["evidence"][0]["record"]["type"] == "business"
    assert info["act"]["verified_claims"]["claims"] == {"name": "王秀英"}
    evidence = info["act"]["verified_claims"]["verification"]["evidence"]
    assert evidence[0]["record"]["type"] == "resident_id"
    recorded = {n for _, names in releases(app, resident) for n in names}
    assert {"verified_claims.uscc", "act.verified_claims.name"} <= recorded


def test_discovery_declares_the_claims_parameter_and_verified_claims(browser: Browser) -> None:
    # OIDC Discovery 3 and OIDC4IDA 8.
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["claims_parameter_supported"] is True
    assert metadata["verified_claims_supported"] is True
    assert metadata["trust_frameworks_supported"] == [TRUST_FRAMEWORK]
    assert metadata["evidence_supported"] == ["electronic_record"]
    assert {"resident_id", "household", "property", "business"} <= set(
        metadata["electronic_records_supported"]
    )
    assert {"name", "birthdate", "household", "properties", "uscc"} <= set(
        metadata["claims_in_verified_claims_supported"]
    )
    assert "phone_number" not in metadata["claims_in_verified_claims_supported"]


def test_a_record_of_another_kind_is_never_evidence(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # Without a population record there is nothing to verify the name against.
    import_rows(
        app, "household", [household_row(citizen.number, "张三", new_household_number(), "户主")]
    )
    rp = make_client(app, scope="openid profile household")
    info = verified_info(browser, rp, citizen, scope="openid profile", claims=ask({"name": None}))
    assert "verified_claims" not in info and info["name"] == "张三"


def test_social_insurance_months_are_verified_by_their_records(
    app: Flask, browser: Browser, resident: Citizen, tmp_path: Path
) -> None:
    # One EVIDENCE entry per kind: a person's months, and the enterprise's in an enterprise login
    # (SUBJECT_SCOPES), each month's record as evidence, oldest month first like the plain claim.
    employer = new_uscc()
    months = [person_month(resident.number, p, employer) for p in ("2026-10", "2026-09")]
    import_insurance(app, tmp_path, "social_insurance", months)
    rp = make_client(app, scope="openid social_insurance enterprise")
    asked = ask({"social_insurance": None})
    info = verified_info(browser, rp, resident, scope="openid social_insurance", claims=asked)
    element = info["verified_claims"]
    assert element["claims"]["social_insurance"] == info["social_insurance"]
    assert [m["period"] for m in element["claims"]["social_insurance"]] == ["2026-09", "2026-10"]
    records = [e["record"]["type"] for e in element["verification"]["evidence"]]
    assert records == ["social_insurance", "social_insurance"]

    enterprise_id = make_enterprise(app, resident)
    uscc = uscc_of(app, enterprise_id)
    import_insurance(app, tmp_path, "social_insurance_unit", [unit_month(uscc, "2026-10")])
    scope = "openid enterprise social_insurance"
    request = Authorization(rp.client_id, rp.redirect_uri, scope, {"claims": asked})
    page = browser.authorize(request)
    choice = {"enterprise_id": str(enterprise_id), "decision": "allow"}
    page = browser.follow(browser.submit(page, **choice))
    done = browser.follow(browser.submit(page, decision="allow"))
    tokens = redeem(browser, rp, location_params(done)["code"], request.verifier).get_json()
    body = userinfo(browser, tokens["access_token"]).get_json()
    top = body["verified_claims"]
    assert top["verification"]["evidence"][0]["record"]["type"] == "social_insurance_unit"
    assert top["claims"]["social_insurance"] == body["social_insurance"]
    assert "verified_claims" not in body["act"]  # the acting person's months are not asked about


def test_a_signed_request_object_can_carry_the_claims_request(
    app: Flask, browser: Browser, resident: Citizen
) -> None:
    # RFC 9101 4 and OIDC Core 6.1: claims is a JSON object inside the request object.
    signer = Signer(app)
    request = {"verification": EVERYTHING, "claims": {"birthdate": None}}
    claims = signer.claims(claims={"id_token": {"verified_claims": request}})
    page = browser.follow(authorize(browser, signer.rp.client_id, signer.sign(claims)))
    page = browser.follow(
        browser.submit(page, username=resident.number, password=resident.password)
    )
    if 'name="decision"' in page.get_data(as_text=True):
        page = browser.follow(browser.submit(page, decision="allow"))
    token = browser.http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": location_params(page)["code"],
            "redirect_uri": signer.rp.redirect_uri,
            "code_verifier": signer.verifier,
            **with_assertion(assertion(signer.rp.client_id, signer.key)),
        },
    )
    assert token.status_code == 200, token.get_json()
    element = id_token_claims(browser, token.get_json()["id_token"])["verified_claims"]
    assert list(element["claims"]) == ["birthdate"]
    assert element["verification"]["evidence"][0]["record"]["type"] == "resident_id"
