"""Enterprise sign-in: a legal representative acts for an enterprise (Yihao's ``enterprise``
scope, docs/claims.md). The token's subject is the enterprise; the person appears in ``act``
(RFC 8693 4.1)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from idp.services import services
from idp.store.db import db
from idp.store.models import Enterprise
from idp.store.subjects import enterprise_uscc
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.support.browser import Authorization, Browser, location_params
from tests.support.oidc import id_token_claims, redeem, tokens_for, userinfo

SCOPE = "openid profile enterprise"


def uscc_of(app: Flask, enterprise_id: int) -> str:
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        return enterprise_uscc(services().cipher, enterprise)


def to_enterprise_page(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, scope: str = SCOPE
) -> tuple[Authorization, TestResponse]:
    request = Authorization(rp.client_id, rp.redirect_uri, scope=scope)
    page = browser.authorize(request)
    if 'name="password"' in page.get_data(as_text=True):
        page = browser.follow(
            browser.submit(page, username=citizen.number, password=citizen.password)
        )
    assert page.status_code == 200
    return request, page


def choose(browser: Browser, page: TestResponse, enterprise_id: int) -> TestResponse:
    return browser.follow(browser.submit(page, enterprise_id=str(enterprise_id), decision="allow"))


def finish(
    browser: Browser, rp: RegisteredClient, request: Authorization, consent_page: TestResponse
) -> dict[str, Any]:
    html = consent_page.get_data(as_text=True)
    assert consent_page.status_code == 200 and 'name="decision"' in html, html[:300]
    done = browser.follow(browser.submit(consent_page, decision="allow"))
    response = redeem(browser, rp, location_params(done)["code"], request.verifier)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_representative_signs_in_for_the_enterprise(app: Flask, browser: Browser) -> None:
    # RFC 8693 4.1 (act) and OIDC Core 2/5.1: the enterprise is the subject, the person the actor.
    person = make_citizen(app, name="赵六")
    enterprise_id = make_enterprise(app, person, name="一号测试有限公司")
    rp = make_client(app, scope="openid profile enterprise")
    person_sub = id_token_claims(
        browser, tokens_for(browser, rp, person, scope="openid")["id_token"]
    )["sub"]

    request, page = to_enterprise_page(browser, rp, person)
    html = page.get_data(as_text=True)
    assert "一号测试有限公司" in html and uscc_of(app, enterprise_id) not in html  # masked
    consent = choose(browser, page, enterprise_id)
    assert "一号测试有限公司" in consent.get_data(as_text=True)  # "acting for"
    tokens = finish(browser, rp, request, consent)

    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["entity_type"] == "enterprise"
    assert claims["sub"] != person_sub
    assert claims["uscc"] == uscc_of(app, enterprise_id)
    assert claims["name"] == "一号测试有限公司"
    assert claims["act"]["sub"] == person_sub
    assert claims["act"]["entity_type"] == "person"
    assert claims["act"]["name"] == "赵六"
    assert person.number not in str(claims)
    info = userinfo(browser, tokens["access_token"]).get_json()
    assert info["sub"] == claims["sub"] and info["act"]["sub"] == person_sub


def test_actor_claims_need_the_profile_scope(app: Flask, browser: Browser) -> None:
    # OIDC Core 5.4: without profile, the acting person's name is not released.
    person = make_citizen(app, name="孙七")
    enterprise_id = make_enterprise(app, person, name="七号贸易有限公司")
    rp = make_client(app, scope="openid profile enterprise")
    request, page = to_enterprise_page(browser, rp, person, scope="openid enterprise")
    tokens = finish(browser, rp, request, choose(browser, page, enterprise_id))
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["name"] == "七号贸易有限公司"
    assert set(claims["act"]) == {"sub", "entity_type"}


def test_person_without_enterprise_cannot_proceed(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # RFC 6749 4.1.2.1: the only way on is to cancel, which is access_denied.
    rp = make_client(app, scope=SCOPE)
    request, page = to_enterprise_page(browser, rp, citizen)
    html = page.get_data(as_text=True)
    assert 'name="enterprise_id"' not in html and 'value="allow"' not in html
    # Forcing "allow" without a choice leads back to the same page, never to a code.
    again = browser.follow(browser.submit(page, decision="allow"))
    assert again.status_code == 200 and 'name="enterprise_id"' not in again.get_data(as_text=True)
    cancelled = browser.follow(browser.submit(again, decision="deny"))
    params = location_params(cancelled)
    assert params["error"] == "access_denied" and params["state"] == request.state
    assert "code" not in params


def test_tampered_enterprise_choice_is_not_honoured(app: Flask, browser: Browser) -> None:
    # RFC 6749 10.12-style integrity: a person acts only for enterprises they represent.
    person = make_citizen(app, name="周八")
    own = make_enterprise(app, person, name="自己的公司")
    stranger = make_citizen(app, name="吴九")
    foreign = make_enterprise(app, stranger, name="别人的公司")
    rp = make_client(app, scope=SCOPE)

    request, page = to_enterprise_page(browser, rp, person)
    assert "别人的公司" not in page.get_data(as_text=True)
    tampered = choose(browser, page, foreign)
    html = tampered.get_data(as_text=True)
    assert tampered.status_code == 200 and 'name="enterprise_id"' in html  # asked again
    assert "别人的公司" not in html
    for junk in ("abc", "-1", "99999999"):
        tampered = browser.follow(browser.submit(tampered, enterprise_id=junk, decision="allow"))
        assert 'name="enterprise_id"' in tampered.get_data(as_text=True)
    tokens = finish(browser, rp, request, choose(browser, tampered, own))
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["name"] == "自己的公司" and claims["uscc"] != uscc_of(app, foreign)


def test_enterprise_choice_cannot_be_silent(app: Flask, browser: Browser) -> None:
    # OIDC Core 3.1.2.6: prompt=none when a choice is needed -> interaction_required.
    person = make_citizen(app)
    make_enterprise(app, person)
    rp = make_client(app, scope=SCOPE)
    tokens_for(browser, rp, person, scope="openid profile")
    silent = Authorization(rp.client_id, rp.redirect_uri, scope=SCOPE, extra={"prompt": "none"})
    params = location_params(browser.authorize(silent))
    assert params["error"] == "interaction_required" and "code" not in params


def test_enterprise_scope_not_registered_is_ignored(
    browser: Browser, rp: RegisteredClient, app: Flask
) -> None:
    # RFC 6749 3.3: the server may grant fewer scopes than requested; no enterprise here.
    person = make_citizen(app)
    make_enterprise(app, person)
    tokens = tokens_for(browser, rp, person, scope=SCOPE)
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["entity_type"] == "person" and "act" not in claims and "uscc" not in claims
