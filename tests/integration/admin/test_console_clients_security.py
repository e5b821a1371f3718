"""The console's view of issue 13 for a service: its security profile and PAR, set when it is
registered or edited (the same task and rules as the admin API and ``idp client add``), and its
token-exchange policies, which only an admin adds or removes."""

from __future__ import annotations

import json
import re

from flask import Flask
from joserfc.jwk import ECKey
from werkzeug.test import TestResponse

from idp.admin import clients, exchange
from idp.admin.roles import CLI, Role
from tests.conftest import RegisteredClient
from tests.integration.admin.conftest import last_action, make_operator, sign_in_to_console
from tests.support.browser import Browser, csrf_of

AUDIENCE = "https://tax.example/api"


def _text(page: TestResponse) -> str:
    return page.get_data(as_text=True)


def _post(browser: Browser, url: str, **fields: str) -> TestResponse:
    """Post a console form (the token from the page before) and follow to the next page."""
    token = csrf_of(_text(browser.get("/admin/")))
    return browser.follow(browser.http.post(url, data={"csrf_token": token, **fields}))


def _key_set() -> str:
    key = ECKey.generate_key("P-256", parameters={"kid": "console-test"})
    return json.dumps({"keys": [key.as_dict(private=False)]})


def _register(browser: Browser, **fields: str) -> TestResponse:
    return _post(
        browser,
        "/admin/clients",
        name="电子税务局",
        redirect_uris="https://tax.example/callback",
        scope="openid",
        **fields,
    )


def _client_id(page: TestResponse) -> str:
    found = re.search(r'id="client-id">([^<]+)<', _text(page))
    assert found, _text(page)[:500]
    return found.group(1)


def test_a_fapi2_service_is_registered_from_the_console_and_must_use_par(
    app: Flask, browser: Browser
) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    form = _text(browser.get("/admin/clients"))
    assert 'name="profile"' in form and 'value="fapi2"' in form and 'name="jwks"' in form
    page = _register(browser, auth_method="private_key_jwt", jwks=_key_set(), profile="fapi2")
    client_id = _client_id(page)
    with app.app_context():
        shown = clients.show_client(CLI, client_id)
    assert shown["profile"] == "fapi2" and shown["require_pushed_authorization_requests"]
    html = _text(browser.get(f"/admin/clients/{client_id}"))
    assert re.search(r'id="client-profile">FAPI 2\.0', html)
    assert re.search(r'id="client-par">必须使用<', html)


def test_a_service_with_keys_is_put_under_fapi2_by_an_edit(app: Flask, browser: Browser) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    client_id = _client_id(_register(browser, auth_method="private_key_jwt", jwks=_key_set()))
    page = f"/admin/clients/{client_id}"
    assert re.search(r'id="client-par">无需使用<', _text(browser.get(page)))
    kept = {
        "name": "电子税务局",
        "redirect_uris": "https://tax.example/callback",
        "scope": "openid",
    }
    edited = _post(browser, page + "/edit", **kept, profile="fapi2")
    assert 'role="status"' in _text(edited) and re.search(
        r'id="client-par">必须使用<', _text(edited)
    )
    assert last_action(app, "client.edit").after["profile"] == "fapi2"
    with app.app_context():
        assert clients.show_client(CLI, client_id)["profile"] == "fapi2"


def test_the_registration_rules_refuse_a_fapi2_service_with_a_secret_or_bad_keys(
    app: Flask, browser: Browser
) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    # FAPI 2.0 SP 5.3.2.1: no shared secret; the rule is the registration's, shown as a refusal.
    secret = _register(browser, auth_method="client_secret_basic", profile="fapi2")
    assert secret.status_code == 200 and 'role="alert"' in _text(secret)
    assert "private_key_jwt" in _text(secret)
    for bad in ("{not json", "[1, 2]", "[" * 100_000):
        refused = _register(browser, auth_method="private_key_jwt", jwks=bad, profile="fapi2")
        assert refused.status_code == 200 and 'role="alert"' in _text(refused)
        assert "JWK" in _text(refused)
    unknown = _register(browser, profile="fapi3")
    assert unknown.status_code == 200 and 'role="alert"' in _text(unknown)


def test_par_is_required_from_registration_and_switched_by_an_edit(
    app: Flask, browser: Browser
) -> None:
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    client_id = _client_id(_register(browser, auth_method="client_secret_basic", require_par="on"))
    with app.app_context():
        assert clients.show_client(CLI, client_id)["require_pushed_authorization_requests"]
    page = f"/admin/clients/{client_id}"
    kept = {
        "name": "电子税务局",
        "redirect_uris": "https://tax.example/callback",
        "scope": "openid",
    }
    off = _post(browser, page + "/edit", **kept)  # the box left unticked: PAR no longer needed
    assert 'role="status"' in _text(off) and re.search(r'id="client-par">无需使用<', _text(off))
    assert last_action(app, "client.edit").after["require_pushed_authorization_requests"] is False
    on = _post(browser, page + "/edit", **kept, require_par="on")
    assert 'role="status"' in _text(on)
    with app.app_context():
        assert clients.show_client(CLI, client_id)["require_pushed_authorization_requests"]
    # A secret-holding service cannot become fapi2 by an edit either: the same rules.
    refused = _post(browser, page + "/edit", **kept, require_par="on", profile="fapi2")
    assert 'role="alert"' in _text(refused)
    with app.app_context():
        assert clients.show_client(CLI, client_id)["profile"] == ""


def test_an_admin_adds_and_removes_an_exchange_policy_on_the_client_page(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, admin, totp)
    page = f"/admin/clients/{rp.client_id}"
    assert "exchange-policies" in _text(browser.get(page))
    added = _post(browser, page + "/exchange-policies", audience=AUDIENCE, scope="profile openid")
    assert 'role="status"' in _text(added) and AUDIENCE in _text(added)
    assert last_action(app, "exchange_policy.add").actor_kind == "person"
    again = _post(browser, page + "/exchange-policies", audience=AUDIENCE, scope="openid")
    assert again.status_code == 200 and 'role="alert"' in _text(again)  # one per audience
    unknown = _post(browser, page + "/exchange-policies", audience="x", scope="admin:admin")
    assert unknown.status_code == 200 and 'role="alert"' in _text(unknown)
    with app.app_context():
        listed = exchange.list_policies(CLI, rp.client_id)["items"]
    assert [(p["audience"], p["scope"]) for p in listed] == [(AUDIENCE, "openid profile")]
    removed = _post(browser, page + "/exchange-policies/remove", audience=AUDIENCE)
    assert 'role="status"' in _text(removed) and "此服务不能交换令牌" in _text(removed)
    gone = _post(browser, page + "/exchange-policies/remove", audience=AUDIENCE)
    assert gone.status_code == 200 and 'role="alert"' in _text(gone)
    with app.app_context():
        assert exchange.list_policies(CLI, rp.client_id)["total"] == 0


def test_a_client_manager_sees_the_policies_but_cannot_change_them(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    with app.app_context():
        exchange.add_policy(CLI, rp.client_id, AUDIENCE, ["openid"])
    manager, totp = make_operator(app, Role.CLIENT_MANAGER)
    sign_in_to_console(browser, manager, totp)
    page = f"/admin/clients/{rp.client_id}"
    html = _text(browser.get(page))
    assert AUDIENCE in html and "/exchange-policies" not in html  # listed, no forms
    refused = _post(browser, page + "/exchange-policies/remove", audience=AUDIENCE)
    assert refused.status_code == 200 and 'role="alert"' in _text(refused)
    with app.app_context():
        assert exchange.list_policies(CLI, rp.client_id)["total"] == 1


def test_the_exchange_forms_need_their_csrf_token(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    admin, totp = make_operator(app, Role.ADMIN)
    sign_in_to_console(browser, admin, totp)
    url = f"/admin/clients/{rp.client_id}/exchange-policies"
    answer = browser.http.post(url, data={"audience": AUDIENCE, "scope": "openid"})
    assert answer.status_code == 400
    with app.app_context():
        assert exchange.list_policies(CLI, rp.client_id)["total"] == 0
