"""Agents (经办人): the legal representative grants a mandate on the account page; the agent then
signs in with their own number and acts for the enterprise. Tokens name the enterprise as
``sub``, the agent in ``act`` (RFC 8693 4.1) and the mandate (docs/claims.md); withdrawing the
mandate revokes them at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from idp.admin import exchange
from idp.admin.roles import CLI
from idp.identifiers import mask_identifier
from idp.oauth.delegation import end_of_day
from idp.store.db import db, utcnow
from idp.store.models import Mandate
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration.test_enterprise import choose, finish, to_enterprise_page
from tests.integration.test_token_exchange import exchanged
from tests.support.browser import Browser, csrf_of, location_params
from tests.support.oidc import (
    id_token_claims,
    introspect,
    is_dead,
    redeem,
    refresh,
    tokens_for,
    userinfo,
)

SCOPE = "openid profile enterprise"
NEXT_MONTH = (date.today() + timedelta(days=30)).isoformat()


@dataclass
class Setting:
    representative: Citizen
    agent: Citizen
    enterprise_id: int
    rp: RegisteredClient
    rep_browser: Browser


def signed_in(app: Flask, citizen: Citizen) -> Browser:
    """A browser with a login session of ``citizen`` (signed in through a personal sign-in)."""
    browser = Browser(app.test_client())
    tokens_for(browser, make_client(app, scope="openid"), citizen, scope="openid")
    return browser


def grant(
    browser: Browser,
    enterprise_id: int,
    agent: Citizen,
    name: str | None = None,
    scopes: tuple[str, ...] = ("profile",),
    clients: list[str] | None = None,
    last_day: str = NEXT_MONTH,
) -> str:
    """Post the grant form from the account page; returns the outcome the redirect names."""
    csrf = csrf_of(browser.get("/account").get_data(as_text=True))
    data: dict[str, Any] = {
        "csrf_token": csrf,
        "number": agent.number,
        "name": agent.name if name is None else name,
        "scope": list(scopes),
        "services": "all" if clients is None else "chosen",
        "client_id": clients or [],
        "valid_until": last_day,
    }
    answer = browser.http.post(f"/account/enterprises/{enterprise_id}/mandates", data=data)
    assert answer.status_code == 302
    assert agent.number not in answer.headers["Location"]
    return location_params(answer)["mandate"]


def withdraw(browser: Browser, mandate_id: int) -> str:
    csrf = csrf_of(browser.get("/account").get_data(as_text=True))
    answer = browser.http.post(
        f"/account/mandates/{mandate_id}/withdraw", data={"csrf_token": csrf}
    )
    assert answer.status_code == 302
    return location_params(answer)["mandate"]


def mandates_of(app: Flask, agent: Citizen) -> list[Mandate]:
    with app.app_context():
        rows = db.session.scalars(select(Mandate).where(Mandate.agent_id == agent.person_id))
        found = list(rows)
        for row in found:
            db.session.expunge(row)
        return found


@pytest.fixture()
def setting(app: Flask) -> Setting:
    representative = make_citizen(app, name="钱一")
    agent = make_citizen(app, name="孙二")
    enterprise_id = make_enterprise(app, representative, name="经办测试有限公司")
    rp = make_client(app, scope=SCOPE, access_token_format="jwt")
    return Setting(representative, agent, enterprise_id, rp, signed_in(app, representative))


def agent_tokens(browser: Browser, s: Setting, scope: str = SCOPE) -> dict[str, Any]:
    request, page = to_enterprise_page(browser, s.rp, s.agent, scope=scope)
    assert "经办测试有限公司" in page.get_data(as_text=True)
    return finish(browser, s.rp, request, choose(browser, page, s.enterprise_id))


def test_a_wrong_name_is_refused(app: Flask, setting: Setting) -> None:
    # The agent is identified by number AND name, as on their record (population registry).
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent, name="孙三") == (
        "no_match"
    )
    assert mandates_of(app, setting.agent) == []
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    assert len(mandates_of(app, setting.agent)) == 1


def test_only_the_legal_representative_grants_and_withdraws(app: Flask, setting: Setting) -> None:
    stranger = signed_in(app, make_citizen(app, name="李四"))
    outcome = grant(stranger, setting.enterprise_id, setting.agent)
    assert outcome == "not_representative" and mandates_of(app, setting.agent) == []
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    assert withdraw(stranger, mandate.id) == "not_representative"
    (still,) = mandates_of(app, setting.agent)
    assert still.withdrawn_at is None


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"last_day": (date.today() - timedelta(days=2)).isoformat()}, "past"),
        ({"last_day": "next week"}, "bad_date"),
        ({"last_day": "9999-12-31"}, "bad_date"),
        ({"scopes": ("profile", "admin:admin")}, "bad_scopes"),
        ({"clients": ["no-such-client"]}, "bad_clients"),
    ],
)
def test_a_malformed_grant_is_refused(
    app: Flask, setting: Setting, fields: dict[str, Any], refusal: str
) -> None:
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent, **fields) == refusal
    assert mandates_of(app, setting.agent) == []


def test_the_representative_needs_no_mandate(app: Flask, setting: Setting) -> None:
    outcome = grant(setting.rep_browser, setting.enterprise_id, setting.representative)
    assert outcome == "self"


def test_agent_acts_for_the_enterprise(app: Flask, browser: Browser, setting: Setting) -> None:
    # RFC 8693 4.1: the enterprise is the subject, the agent the actor, the mandate named.
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    rep_sub = id_token_claims(
        setting.rep_browser, agent_or_rep_tokens(setting.rep_browser, setting)["id_token"]
    )["sub"]
    agent_sub = id_token_claims(
        browser, tokens_for(browser, setting.rp, setting.agent, scope="openid")["id_token"]
    )["sub"]

    request, page = to_enterprise_page(browser, setting.rp, setting.agent)
    assert "经办测试有限公司" in page.get_data(as_text=True)
    tokens = finish(browser, setting.rp, request, choose(browser, page, setting.enterprise_id))

    last = end_of_day(date.fromisoformat(NEXT_MONTH)).replace(tzinfo=UTC)
    expected_mandate = {"id": mandate.public_id, "valid_until": int(last.timestamp())}
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["sub"] == rep_sub and claims["entity_type"] == "enterprise"
    assert claims["act"]["sub"] == agent_sub and claims["act"]["name"] == "孙二"
    assert claims["mandate"] == expected_mandate
    assert setting.agent.number not in str(claims)
    info = userinfo(browser, tokens["access_token"]).get_json()
    assert info["sub"] == rep_sub and info["act"]["sub"] == agent_sub
    assert info["mandate"] == claims["mandate"]
    access = id_token_claims(browser, tokens["access_token"])  # RFC 9068, signed by the ring
    assert access["sub"] == rep_sub and access["act"] == {"sub": agent_sub}
    assert access["mandate"] == claims["mandate"]
    described = introspect(browser, setting.rp, tokens["access_token"])
    assert described["active"] and described["sub"] == rep_sub
    assert described["act"] == {"sub": agent_sub} and described["mandate"] == claims["mandate"]
    renewed = refresh(browser, setting.rp, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.get_json()
    again = id_token_claims(browser, renewed.get_json()["id_token"])
    assert again["act"]["sub"] == agent_sub and again["mandate"] == claims["mandate"]


def agent_or_rep_tokens(browser: Browser, setting: Setting) -> dict[str, Any]:
    """The legal representative's own enterprise sign-in (no mandate in it)."""
    request, page = to_enterprise_page(browser, setting.rp, setting.representative)
    tokens = finish(browser, setting.rp, request, choose(browser, page, setting.enterprise_id))
    described = introspect(browser, setting.rp, tokens["access_token"])
    assert "act" in described and "mandate" not in described
    return tokens


def _expire(app: Flask, mandate_id: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Mandate)
            .where(Mandate.id == mandate_id)
            .values(valid_until=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()


def _withdraw_in_store(app: Flask, mandate_id: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Mandate).where(Mandate.id == mandate_id).values(withdrawn_at=utcnow())
        )
        db.session.commit()


@pytest.mark.parametrize("uncovered", ["scopes", "service", "expired", "withdrawn"])
def test_a_mandate_that_does_not_cover_the_request_offers_nothing(
    app: Flask, browser: Browser, setting: Setting, uncovered: str
) -> None:
    other = make_client(app, scope=SCOPE)
    if uncovered == "scopes":
        outcome = grant(setting.rep_browser, setting.enterprise_id, setting.agent, scopes=())
    elif uncovered == "service":
        outcome = grant(
            setting.rep_browser, setting.enterprise_id, setting.agent, clients=[other.client_id]
        )
    else:
        outcome = grant(setting.rep_browser, setting.enterprise_id, setting.agent)
    assert outcome == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    if uncovered == "expired":
        _expire(app, mandate.id)
    if uncovered == "withdrawn":
        _withdraw_in_store(app, mandate.id)

    _, page = to_enterprise_page(browser, setting.rp, setting.agent)
    html = page.get_data(as_text=True)
    assert "经办测试有限公司" not in html and 'name="enterprise_id"' not in html
    tampered = choose(browser, page, setting.enterprise_id)  # a forged choice
    assert 'value="allow"' not in tampered.get_data(as_text=True)  # asked again, nothing to pick
    if uncovered == "service":  # the service it names is offered it
        _, covered = to_enterprise_page(browser, other, setting.agent)
        assert "经办测试有限公司" in covered.get_data(as_text=True)
    if uncovered == "scopes":  # without the agent's profile, the enterprise is offered
        _, covered = to_enterprise_page(browser, setting.rp, setting.agent, "openid enterprise")
        assert "经办测试有限公司" in covered.get_data(as_text=True)


def test_withdrawal_revokes_the_tokens_at_once(
    app: Flask, browser: Browser, setting: Setting
) -> None:
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    tokens = agent_tokens(browser, setting)
    # A code issued before the withdrawal and redeemed after it.
    request, page = to_enterprise_page(browser, setting.rp, setting.agent)
    pending = browser.follow(choose(browser, page, setting.enterprise_id))
    code = location_params(pending)["code"]
    own = tokens_for(browser, setting.rp, setting.agent, scope="openid")  # their own sign-in

    assert withdraw(setting.rep_browser, mandate.id) == "withdrawn"
    assert is_dead(browser, setting.rp, tokens["access_token"])
    assert refresh(browser, setting.rp, tokens["refresh_token"]).get_json()["error"] == (
        "invalid_grant"
    )
    assert redeem(browser, setting.rp, code, request.verifier).status_code == 400
    assert introspect(browser, setting.rp, own["access_token"])["active"]  # only the mandate's
    _, again = to_enterprise_page(browser, setting.rp, setting.agent)
    assert "经办测试有限公司" not in again.get_data(as_text=True)


def test_an_expired_mandate_refreshes_nothing(
    app: Flask, browser: Browser, setting: Setting
) -> None:
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    tokens = agent_tokens(browser, setting)
    _expire(app, mandate.id)
    assert refresh(browser, setting.rp, tokens["refresh_token"]).status_code == 400


def _account(browser: Browser) -> TestResponse:
    page = browser.get("/account")
    assert page.status_code == 200
    return page


def test_who_used_our_data_names_the_agent(app: Flask, browser: Browser, setting: Setting) -> None:
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    assert userinfo(browser, agent_tokens(browser, setting)["access_token"]).status_code == 200

    html = _account(setting.rep_browser).get_data(as_text=True)
    uses = html[html.index('id="uses-') :]
    masked = mask_identifier(setting.agent.number)
    assert f"孙二 {masked} (经办人)" in uses and setting.agent.number not in html
    assert "公积金中心 Housing fund" in uses  # the client's name
    held = _account(browser).get_data(as_text=True)  # the agent's own page
    assert "经办测试有限公司" in held[held.index('id="mandates-heading"') :]


def test_a_code_outlives_no_mandate(app: Flask, browser: Browser, setting: Setting) -> None:
    # A code issued under the mandate and redeemed after its last day gets no tokens.
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    request, page = to_enterprise_page(browser, setting.rp, setting.agent)
    consent = choose(browser, page, setting.enterprise_id)
    code = location_params(browser.follow(browser.submit(consent, decision="allow")))["code"]
    _expire(app, mandate.id)
    assert redeem(browser, setting.rp, code, request.verifier).get_json()["error"] == (
        "invalid_grant"
    )


def test_a_mandate_can_cover_the_enterprise_records(
    app: Flask, browser: Browser, setting: Setting
) -> None:
    # social_insurance in an enterprise login is the enterprise's record: a mandate may allow it.
    rp = make_client(app, scope="openid enterprise social_insurance")
    scope = "openid enterprise social_insurance"
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent, scopes=()) == "granted"
    _, page = to_enterprise_page(browser, rp, setting.agent, scope)
    assert "经办测试有限公司" not in page.get_data(as_text=True)
    assert (
        grant(
            setting.rep_browser, setting.enterprise_id, setting.agent, scopes=("social_insurance",)
        )
        == "granted"
    )
    _, page = to_enterprise_page(browser, rp, setting.agent, scope)
    assert "经办测试有限公司" in page.get_data(as_text=True)


def test_an_agents_token_exchanged_onward_keeps_the_agent_in_act(
    app: Flask, browser: Browser, setting: Setting
) -> None:
    # RFC 8693 4.1: the service that exchanges is the current actor; the agent who signed in
    # for the enterprise is the earlier one, nested, as the first service saw them.
    backend = make_client(app, scope="openid profile")
    with app.app_context():
        exchange.add_policy(CLI, setting.rp.client_id, backend.client_id, ["enterprise"])
    assert grant(setting.rep_browser, setting.enterprise_id, setting.agent) == "granted"
    (mandate,) = mandates_of(app, setting.agent)
    tokens = agent_tokens(browser, setting)
    first = introspect(browser, setting.rp, tokens["access_token"])
    onward = exchanged(browser, setting.rp, tokens["access_token"], audience=backend.client_id)
    assert onward.status_code == 200, onward.get_json()
    described = introspect(browser, backend, onward.get_json()["access_token"])
    assert described["sub"] == first["sub"]
    assert described["act"] == {"sub": setting.rp.client_id, "act": first["act"]}
    assert withdraw(setting.rep_browser, mandate.id) == "withdrawn"
    assert is_dead(browser, backend, onward.get_json()["access_token"])


def test_discovery_lists_the_mandate_claim(browser: Browser) -> None:
    # OIDC Discovery 3: claims_supported names the claims this provider can release.
    metadata = browser.http.get("/.well-known/openid-configuration").get_json()
    assert {"act", "mandate"} <= set(metadata["claims_supported"])
