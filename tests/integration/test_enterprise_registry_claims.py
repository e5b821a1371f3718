"""An enterprise's own registry records in an enterprise login (docs/claims.md): its business
registration (``business``) and the properties it holds (``property``, an enterprise among a
property's owners), at the top level where the token's subject is described, never in ``act``;
plain and as verified claims. What a financing platform builds a credit profile from."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from idp.services import services
from idp.store.registry import records_for_holder
from idp.store.subjects import enterprise_index
from tests.conftest import make_citizen, make_client, make_enterprise
from tests.integration.test_enterprise import choose, finish, to_enterprise_page
from tests.integration.test_mandates import grant, signed_in
from tests.integration.test_registry_claims import (
    both_views,
    import_rows,
    new_unit,
    property_row,
    releases,
)
from tests.integration.test_social_insurance import enterprise_login, uscc_of
from tests.integration.test_verified_claims import ask
from tests.support.browser import Authorization, Browser, location_params
from tests.support.identities import new_uscc
from tests.support.oidc import redeem, tokens_for, userinfo

SCOPE = "openid enterprise business property"


def business_row(uscc: str, name: str, representative: str) -> dict[str, str]:
    return {
        "uscc": uscc,
        "enterprise_name": name,
        "enterprise_type": "有限责任公司",
        "legal_representative": representative,
        "registered_capital": "5000000",
        "established": "2016-03-18",
        "address": "北京市海淀区中关村大街1号",
        "business_status": "存续",
    }


REGISTRATION = {
    "enterprise_type": "有限责任公司",
    "registered_capital": 5000000,
    "established": "2016-03-18",
    "address": "北京市海淀区中关村大街1号",
    "business_status": "存续",
}


def test_an_enterprise_owner_is_a_holder_of_the_property(ctx: Flask) -> None:
    # 企业产权: a USCC among the owner codes makes the enterprise a holder, like a person's number.
    uscc, unit = new_uscc(), new_unit()
    import_rows(ctx, "property", [property_row(unit, [(uscc, "某某科技有限公司")])])
    held = records_for_holder(enterprise_index(services().cipher, uscc))
    assert [(r.kind, r.version) for r in held] == [("property", 1)]


def test_the_business_scope_releases_the_enterprises_registration(
    app: Flask, browser: Browser
) -> None:
    person = make_citizen(app, name="周婷")
    enterprise_id = make_enterprise(app, person, name="周氏科技有限公司")
    uscc = uscc_of(app, enterprise_id)
    import_rows(
        app,
        "business",
        [
            business_row(uscc, "周氏科技有限公司", "周婷"),
            business_row(new_uscc(), "别家有限公司", "别人"),
        ],
    )
    rp = make_client(app, scope=SCOPE, purposes={"business": "融资授信审核"})
    html, tokens = enterprise_login(
        browser, rp, person, enterprise_id, "openid enterprise business"
    )
    assert "市场主体登记信息" in html and "融资授信审核" in html
    assert "企业登记信息（类型、注册资本" in html

    for body in both_views(browser, tokens):
        assert body["uscc"] == uscc and body["name"] == "周氏科技有限公司"
        assert body["business_registration"] == {**REGISTRATION, "legal_representative": "周婷"}
        assert "business_registration" not in body["act"]
        assert "别家有限公司" not in json.dumps(body, ensure_ascii=False)
    assert all("business_registration" in names for _, names in releases(app, person))


def test_a_personal_login_has_no_business_registration(app: Flask, browser: Browser) -> None:
    # A person holds no business licence, even one who represents an enterprise.
    person = make_citizen(app, name="周婷")
    enterprise_id = make_enterprise(app, person)
    import_rows(app, "business", [business_row(uscc_of(app, enterprise_id), "周氏", "周婷")])
    rp = make_client(app, scope="openid business")
    tokens = tokens_for(browser, rp, person, scope="openid business")
    for body in both_views(browser, tokens):
        assert "business_registration" not in body and "周氏" not in json.dumps(body)


def test_an_enterprise_login_releases_the_enterprises_properties(
    app: Flask, browser: Browser
) -> None:
    # In an enterprise login property is about the subject (SUBJECT_SCOPES): the enterprise's
    # properties with their mortgage status at the top level, not the acting person's in act.
    person = make_citizen(app, name="周婷")
    enterprise_id = make_enterprise(app, person, name="周氏科技有限公司")
    uscc = uscc_of(app, enterprise_id)
    office, home = new_unit(), new_unit()
    import_rows(
        app,
        "property",
        [
            property_row(office, [(uscc, "周氏科技有限公司")], area="320.5", mortgaged="是"),
            property_row(home, [(person.number, "周婷")]),
        ],
    )
    rp = make_client(app, scope=SCOPE)
    html, tokens = enterprise_login(
        browser, rp, person, enterprise_id, "openid enterprise property"
    )
    assert "企业持有的不动产" in html

    for body in both_views(browser, tokens):
        assert [(p["property_unit_number"], p["mortgaged"]) for p in body["properties"]] == [
            (office, True)
        ]
        assert body["properties"][0]["owners"] == ["周氏科技有限公司"]
        assert "properties" not in body["act"] and home not in json.dumps(body)
    # A personal login of the same person still gets their own home.
    own = tokens_for(browser, rp, person, scope="openid property")
    assert [p["property_unit_number"] for p in both_views(browser, own)[1]["properties"]] == [home]


def test_the_enterprises_records_are_verified_claims_too(app: Flask, browser: Browser) -> None:
    # OIDC4IDA: the business registration and the enterprise's properties, with their records.
    person = make_citizen(app, name="周婷")
    enterprise_id = make_enterprise(app, person, name="周氏科技有限公司")
    uscc = uscc_of(app, enterprise_id)
    unit = new_unit()
    import_rows(app, "business", [business_row(uscc, "周氏科技有限公司", "周婷")])
    import_rows(app, "property", [property_row(unit, [(uscc, "周氏科技有限公司")])])
    rp = make_client(app, scope=SCOPE)
    asked = ask({"business_registration": None, "properties": None})
    request = Authorization(rp.client_id, rp.redirect_uri, SCOPE, {"claims": asked})
    page = browser.authorize(request)
    page = browser.follow(browser.submit(page, username=person.number, password=person.password))
    page = browser.follow(browser.submit(page, enterprise_id=str(enterprise_id), decision="allow"))
    done = browser.follow(browser.submit(page, decision="allow"))
    tokens = redeem(browser, rp, location_params(done)["code"], request.verifier).get_json()
    info: dict[str, Any] = userinfo(browser, tokens["access_token"]).get_json()

    elements = info["verified_claims"]
    by_record = {e["verification"]["evidence"][0]["record"]["type"]: e for e in elements}
    assert by_record["business"]["claims"] == {
        "business_registration": info["business_registration"]
    }
    assert by_record["property"]["claims"]["properties"] == info["properties"]
    assert [p["property_unit_number"] for p in info["properties"]] == [unit]
    assert "verified_claims" not in info["act"]


def test_an_agent_with_a_mandate_for_them_gets_the_enterprises_records(
    app: Flask, browser: Browser
) -> None:
    # A financing platform is often used by an agent (经办人): the mandate form offers business.
    person, agent = make_citizen(app, name="周婷"), make_citizen(app, name="吴经办")
    enterprise_id = make_enterprise(app, person, name="周氏科技有限公司")
    uscc = uscc_of(app, enterprise_id)
    unit = new_unit()
    import_rows(app, "business", [business_row(uscc, "周氏科技有限公司", "周婷")])
    import_rows(app, "property", [property_row(unit, [(uscc, "周氏科技有限公司")])])
    representative = signed_in(app, person)
    assert grant(representative, enterprise_id, agent, scopes=("business", "property")) == (
        "granted"
    )
    rp = make_client(app, scope=SCOPE)
    request, page = to_enterprise_page(browser, rp, agent, scope=SCOPE)
    tokens = finish(browser, rp, request, choose(browser, page, enterprise_id))
    for body in both_views(browser, tokens):
        assert body["business_registration"]["legal_representative"] == "周婷"
        assert [p["property_unit_number"] for p in body["properties"]] == [unit]
        assert "mandate" in body
