"""The registry scopes (Yihao's ``household`` and ``property``, docs/claims.md): the household
entry with its members but never their identity numbers, the properties a person holds, consent,
the audit of each release, enterprise logins (inside ``act``) and unregistered clients."""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from idp.cli import main
from idp.config import new_secret
from idp.credentials.registries import parse_row
from idp.identifiers import parse_resident_id
from idp.services import services
from idp.store.db import db
from idp.store.models import Release
from idp.store.registry import upsert_record
from tests.conftest import Citizen, make_citizen, make_client, make_enterprise
from tests.support.browser import Authorization, Browser, location_params
from tests.support.identities import new_id_number
from tests.support.oidc import id_token_claims, redeem, tokens_for, userinfo

SCOPE = "openid household property"


def new_household_number() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def new_unit() -> str:
    return f"110101{secrets.randbelow(10**6):06d}GB{secrets.randbelow(10**5):05d}F" + (
        f"{secrets.randbelow(10**8):08d}"
    )


def sex_of(number: str) -> str:
    return parse_resident_id(number).sex


def import_rows(app: Flask, kind: str, rows: list[dict[str, str]]) -> None:
    """Load rows the way ``idp registry import`` does: validated by parse_row, then upserted."""
    with app.app_context():
        cipher = services().cipher
        for cells in rows:
            upsert_record(cipher, parse_row(kind, cells))
        db.session.commit()


def household_row(number: str, name: str, household: str, relation: str) -> dict[str, str]:
    return {
        "id_number": number,
        "name": name,
        "ethnicity": "汉",
        "household_number": household,
        "relation": relation,
        "household_address": "广东省广州市番禺区市桥街道1号",
    }


def property_row(
    unit: str, owners: list[tuple[str, str]], area: str = "75.25", mortgaged: str = "否"
) -> dict[str, str]:
    return {
        "property_unit_number": unit,
        "certificate_number": "粤(2024)广州市不动产权第0000001号",
        "location": "广州市番禺区市桥街道3号",
        "area": area,
        "usage": "住宅",
        "owner_id_numbers": ";".join(number for number, _ in owners),
        "owner_names": ";".join(name for _, name in owners),
        "mortgaged": mortgaged,
    }


def both_views(browser: Browser, tokens: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ID token's claims and the UserInfo response for one token response."""
    info = userinfo(browser, tokens["access_token"])
    assert info.status_code == 200
    return id_token_claims(browser, tokens["id_token"]), info.get_json()


def releases(app: Flask, citizen: Citizen) -> list[tuple[str, set[str]]]:
    with app.app_context():
        rows = db.session.query(Release).filter_by(person_id=citizen.person_id).all()
        return [(r.channel, set(r.claims.split())) for r in rows]


# --- household ---------------------------------------------------------------------------------


def test_household_lists_every_member_and_no_identity_number(app: Flask, browser: Browser) -> None:
    # Yihao's household scope: the entry and its members by name, relation, birth date and sex.
    parent = make_citizen(app, name="林芳", number=new_id_number(date(1985, 4, 2)))
    child_number = new_id_number(date(2016, 9, 1))
    household = new_household_number()
    neighbour = new_id_number()
    import_rows(
        app,
        "household",
        [
            household_row(child_number, "林小雨", household, "女"),
            household_row(parent.number, "林芳", household, "户主"),
            household_row(neighbour, "邻居", new_household_number(), "户主"),
        ],
    )
    rp = make_client(app, scope="openid profile household")
    tokens = tokens_for(browser, rp, parent, scope="openid household")
    assert tokens["scope"].split() == ["openid", "household"]

    expected = {
        "household_number": household,
        "address": "广东省广州市番禺区市桥街道1号",
        "relation": "户主",
        "members": [
            {"name": "林芳", "relation": "户主", "birth_date": "1985-04-02",
             "sex": sex_of(parent.number)},
            {"name": "林小雨", "relation": "女", "birth_date": "2016-09-01",
             "sex": sex_of(child_number)},
        ],
    }  # fmt: skip
    claims, info = both_views(browser, tokens)
    for body in (claims, info):
        assert body["household"] == expected
        assert "properties" not in body and "name" not in body
        text = json.dumps(body, ensure_ascii=False)
        for number in (parent.number, child_number, neighbour):
            assert number not in text and number.lower() not in text
        assert "邻居" not in text and "id_number" not in text
    assert all(m["sex"] in ("male", "female") for m in info["household"]["members"])


def test_each_member_sees_the_same_household_with_their_own_relation(
    app: Flask, browser: Browser
) -> None:
    # The members are found through the household number's keyed index, from either side.
    head = new_id_number(date(1970, 1, 1))
    spouse = make_citizen(app, name="周敏", number=new_id_number(date(1972, 2, 2)))
    household = new_household_number()
    import_rows(
        app,
        "household",
        [
            household_row(spouse.number, "周敏", household, "妻"),
            household_row(head, "吴强", household, "户主"),
        ],
    )
    rp = make_client(app, scope="openid household")
    info = userinfo(browser, tokens_for(browser, rp, spouse, scope=SCOPE)["access_token"])
    body = info.get_json()
    assert body["household"]["relation"] == "妻"
    assert [(m["name"], m["relation"]) for m in body["household"]["members"]] == [
        ("吴强", "户主"),
        ("周敏", "妻"),
    ]
    assert head not in info.get_data(as_text=True)


def test_household_follows_a_move_to_another_household(app: Flask, browser: Browser) -> None:
    # A re-import with a new household number moves the person; the old members are not shown.
    person = make_citizen(app, name="郑洁")
    old, new = new_household_number(), new_household_number()
    import_rows(
        app,
        "household",
        [
            household_row(person.number, "郑洁", old, "女"),
            household_row(new_id_number(), "郑父", old, "户主"),
        ],
    )
    import_rows(app, "household", [household_row(person.number, "郑洁", new, "户主")])
    rp = make_client(app, scope="openid household")
    body = userinfo(browser, tokens_for(browser, rp, person, scope=SCOPE)["access_token"])
    household = body.get_json()["household"]
    assert household["household_number"] == new
    assert [m["name"] for m in household["members"]] == ["郑洁"]


# --- property ----------------------------------------------------------------------------------


def test_properties_list_the_records_the_person_owns(app: Flask, browser: Browser) -> None:
    # Yihao's property scope: every record the person is an owner of, owners by name only.
    owner = make_citizen(app, name="孙丽")
    co_owner = new_id_number()
    stranger = new_id_number()
    shared, sole, other = new_unit(), new_unit(), new_unit()
    import_rows(
        app,
        "property",
        [
            property_row(shared, [(co_owner, "钱军"), (owner.number, "孙丽")], mortgaged="是"),
            property_row(sole, [(owner.number, "孙丽")], area="120.00"),
            property_row(other, [(stranger, "路人")]),
        ],
    )
    rp = make_client(app, scope="openid property")
    tokens = tokens_for(browser, rp, owner, scope=SCOPE)
    assert tokens["scope"].split() == ["openid", "property"]

    claims, info = both_views(browser, tokens)
    for body in (claims, info):
        assert "household" not in body
        assert body["properties"] == [
            {
                "property_unit_number": shared,
                "certificate_number": "粤(2024)广州市不动产权第0000001号",
                "location": "广州市番禺区市桥街道3号",
                "area": "75.25",
                "usage": "住宅",
                "owners": ["钱军", "孙丽"],
                "mortgaged": True,
            },
            {
                "property_unit_number": sole,
                "certificate_number": "粤(2024)广州市不动产权第0000001号",
                "location": "广州市番禺区市桥街道3号",
                "area": "120",
                "usage": "住宅",
                "owners": ["孙丽"],
                "mortgaged": False,
            },
        ]
        text = json.dumps(body, ensure_ascii=False)
        for number in (owner.number, co_owner, stranger):
            assert number not in text
        assert other not in text


def test_no_records_mean_no_household_and_an_empty_property_list(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # docs/claims.md: an empty claim is left out, except properties, where [] is the answer.
    rp = make_client(app, scope="openid household property")
    tokens = tokens_for(browser, rp, citizen, scope=SCOPE)
    claims, info = both_views(browser, tokens)
    for body in (claims, info):
        assert "household" not in body
        assert body["properties"] == []
    assert sorted(channel for channel, _ in releases(app, citizen)) == ["id_token", "userinfo"]
    assert all(names == {"properties"} for _, names in releases(app, citizen))


# --- consent, audit, registration --------------------------------------------------------------


def test_consent_page_lists_both_scopes_as_sensitive(app: Flask, browser: Browser) -> None:
    # PIPL 14/29: separate consent for sensitive personal information, with its purpose.
    citizen = make_citizen(app)
    rp = make_client(
        app, scope="openid household property", purposes={"household": "核验入学户籍条件"}
    )
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri, scope=SCOPE))
    page = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="decision"' in html
    labels = ("户籍信息", "户籍登记及同户成员", "不动产登记信息", "名下不动产")
    for text in (*labels, "核验入学户籍条件"):
        assert text in html
    assert html.count("敏感个人信息") == 2
    denied = browser.follow(browser.submit(page, decision="deny"))
    assert location_params(denied)["error"] == "access_denied"


def test_each_release_is_recorded_by_claim_name(app: Flask, browser: Browser) -> None:
    # PIPL 44-45: "who used my data" names the released claims, never their values.
    person = make_citizen(app, name="冯涛")
    import_rows(
        app, "household", [household_row(person.number, "冯涛", new_household_number(), "户主")]
    )
    import_rows(app, "property", [property_row(new_unit(), [(person.number, "冯涛")])])
    rp = make_client(app, name="义务教育入学 School enrolment", scope=SCOPE)
    tokens = tokens_for(browser, rp, person, scope=SCOPE)
    assert userinfo(browser, tokens["access_token"]).status_code == 200

    recorded = releases(app, person)
    assert sorted(channel for channel, _ in recorded) == ["id_token", "userinfo"]
    assert all(names == {"household", "properties"} for _, names in recorded)
    page = browser.get("/account").get_data(as_text=True)
    assert "义务教育入学 School enrolment" in page
    assert "户籍登记及同户成员" in page and "名下不动产" in page
    assert person.number not in page and "冯涛" in page


def test_a_client_not_registered_for_the_scopes_gets_nothing(app: Flask, browser: Browser) -> None:
    # docs/claims.md: known scopes outside the registration are dropped, so nothing is released.
    person = make_citizen(app)
    import_rows(
        app, "household", [household_row(person.number, "张三", new_household_number(), "户主")]
    )
    import_rows(app, "property", [property_row(new_unit(), [(person.number, "张三")])])
    rp = make_client(app, scope="openid profile")
    tokens = tokens_for(browser, rp, person, scope="openid profile household property")
    assert tokens["scope"].split() == ["openid", "profile"]
    claims, info = both_views(browser, tokens)
    for body in (claims, info):
        assert "household" not in body and "properties" not in body
        assert "户主" not in json.dumps(body, ensure_ascii=False)
    assert all("household" not in n and "properties" not in n for _, n in releases(app, person))


def test_enterprise_login_puts_the_registry_claims_in_act(app: Flask, browser: Browser) -> None:
    # RFC 8693 4.1: claims about the acting person sit in act; the top level is the enterprise.
    person = make_citizen(app, name="韩梅")
    enterprise_id = make_enterprise(app, person, name="韩氏贸易有限公司")
    household = new_household_number()
    import_rows(app, "household", [household_row(person.number, "韩梅", household, "户主")])
    rp = make_client(app, scope="openid enterprise household property")
    request = Authorization(rp.client_id, rp.redirect_uri, scope="openid enterprise household")
    page = browser.authorize(request)
    page = browser.follow(browser.submit(page, username=person.number, password=person.password))
    page = browser.follow(browser.submit(page, enterprise_id=str(enterprise_id), decision="allow"))
    done = browser.follow(browser.submit(page, decision="allow"))
    response = redeem(browser, rp, location_params(done)["code"], request.verifier)
    assert response.status_code == 200, response.get_json()

    claims, info = both_views(browser, response.get_json())
    for body in (claims, info):
        assert body["entity_type"] == "enterprise" and "household" not in body
        assert body["act"]["household"]["household_number"] == household
        assert [m["name"] for m in body["act"]["household"]["members"]] == ["韩梅"]
        assert "properties" not in body["act"]  # property was not requested
    recorded = releases(app, person)
    assert len(recorded) == 2
    assert all("act.household" in names and "household" not in names for _, names in recorded)


def test_discovery_and_client_registration_know_the_scopes(
    browser: Browser, tmp_path: Path
) -> None:
    # OIDC Discovery 3: scopes_supported and claims_supported list what the provider releases.
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert {"household", "property"} <= set(metadata["scopes_supported"])
    assert {"household", "properties"} <= set(metadata["claims_supported"])

    env = {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
    }
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["db", "upgrade", "--json"]).exit_code == 0
    result = runner.invoke(
        main,
        ["client", "add", "--name", "入学", "--redirect-uri", "https://school.example/cb",
         "--scope", SCOPE, "--purpose", "property=核验房产条件", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
