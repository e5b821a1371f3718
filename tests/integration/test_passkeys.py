"""Passkeys (idp.auth.webauthn, idp.web.passkeys) over Flask's test client, with a software
authenticator whose responses can be bent: the options asked of the browser, adding, listing and
removing, signing in without a number, and the refusals (another origin, a replay, a counter that
went back, a user handle of someone else, a disabled person, no user verification)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect
from werkzeug.test import TestResponse

from idp.app import create_app
from idp.auth.session import current_login
from idp.config import Settings
from idp.store.db import db, utcnow
from idp.store.migrate import downgrade, upgrade
from idp.store.models import Passkey, Person
from tests.conftest import Citizen, RegisteredClient, make_citizen
from tests.support.authenticator import SoftAuthenticator, b64url
from tests.support.browser import ORIGIN, Authorization, Browser, csrf_of
from tests.support.passkeys import account_csrf, add_passkey, post_json, signed_in_browser

COOKIE = "yihao_session"


class Pending:
    """A relying party's sign-in waiting at the login page, in a browser no one signed in on."""

    def __init__(self, app: Flask, rp: RegisteredClient, address: str = "127.0.0.1") -> None:
        self.browser = Browser(app.test_client())
        self.browser.http.environ_base["REMOTE_ADDR"] = address
        self.request = Authorization(rp.client_id, rp.redirect_uri)
        self.page = page = self.browser.authorize(self.request)
        html = page.get_data(as_text=True)
        found = re.search(r'data-options="/interaction/([^/"]+)/passkey/options"', html)
        assert found, "no passkey button on the login page"
        self.uid = found.group(1)
        self.csrf = csrf_of(html)

    def options(self) -> dict[str, Any]:
        response = post_json(self.browser, f"/interaction/{self.uid}/passkey/options", self.csrf)
        assert response.status_code == 200, response.get_data(as_text=True)
        found: dict[str, Any] = response.get_json()
        return found

    def answer(self, assertion: dict[str, Any]) -> TestResponse:
        response: TestResponse = post_json(
            self.browser, f"/interaction/{self.uid}/passkey", self.csrf, {"credential": assertion}
        )
        return response

    def sign_in(
        self, authenticator: SoftAuthenticator, origin: str = ORIGIN, **changes: Any
    ) -> TestResponse:
        return self.answer(authenticator.get(self.options(), origin, **changes))

    def signed_in(self) -> bool:
        return self.browser.get("/account").status_code == 200


@pytest.fixture()
def holder(app: Flask) -> Citizen:
    return make_citizen(app, name="赵六")


def test_registration_asks_for_a_discoverable_verified_credential_of_any_attachment(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    browser = signed_in_browser(app, holder, rp)
    options = post_json(browser, "/account/passkeys/options", account_csrf(browser)).get_json()
    assert options["rp"]["id"] == "localhost"
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required" and selection["userVerification"] == "required"
    # No authenticatorAttachment: a phone over the hybrid transport (the QR code) may answer.
    assert "authenticatorAttachment" not in selection
    assert options["user"]["name"].count("*") == 8 and holder.number not in str(options)
    with app.app_context():
        person = db.session.get(Person, holder.person_id)
        assert person is not None
        assert options["user"]["id"] not in (b64url(str(person.id).encode()), person.public_id)
    assert len(options["user"]["id"]) == 43 and options["excludeCredentials"] == []


def test_a_citizen_adds_lists_and_removes_passkeys(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    browser = signed_in_browser(app, holder, rp)
    authenticator = SoftAuthenticator()
    added = add_passkey(browser, authenticator, "  我的   手机 ")
    assert added.status_code == 200 and added.get_json()["redirect"] == "/account?passkey=added"
    page = browser.get("/account").get_data(as_text=True)
    assert "我的 手机" in page
    # The next registration excludes the one this person has.
    options = post_json(browser, "/account/passkeys/options", account_csrf(browser)).get_json()
    assert options["excludeCredentials"] == [
        {
            "id": b64url(authenticator.credentials[0].id),
            "type": "public-key",
            "transports": ["internal", "hybrid"],
        }
    ]
    with app.app_context():
        passkey = db.session.query(Passkey).filter_by(person_id=holder.person_id).one()
        assert passkey.transports == "internal hybrid" and passkey.sign_count == 0
        passkey_id = passkey.id
    removed = browser.http.post(
        f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": account_csrf(browser)}
    )
    assert removed.status_code == 302 and removed.headers["Location"].endswith("passkey=removed")
    with app.app_context():
        assert db.session.get(Passkey, passkey_id) is None


def test_a_malformed_registration_is_a_clear_refusal(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    browser = signed_in_browser(app, holder, rp)
    csrf = account_csrf(browser)
    for body in ({"credential": "x"}, {"credential": {"id": 1}}, {"name": ["x"]}):
        post_json(browser, "/account/passkeys/options", csrf)
        refused = post_json(browser, "/account/passkeys", csrf, body)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid"
    # Transports the browser should never send are dropped; a name of another type is text.
    options = post_json(browser, "/account/passkeys/options", csrf).get_json()
    credential = SoftAuthenticator().create(options, ORIGIN)
    credential["response"]["transports"] = [["usb"], {"x": 1}, 7, "warp-drive", "usb"]
    added = post_json(browser, "/account/passkeys", csrf, {"name": 5, "credential": credential})
    assert added.status_code == 200
    with app.app_context():
        passkey = db.session.query(Passkey).filter_by(person_id=holder.person_id).one()
        assert passkey.transports == "usb" and passkey.name == "5"


def test_one_person_cannot_remove_anothers_passkey(
    app: Flask, holder: Citizen, citizen: Citizen, rp: RegisteredClient
) -> None:
    owner = signed_in_browser(app, holder, rp)
    assert add_passkey(owner, SoftAuthenticator()).status_code == 200
    with app.app_context():
        passkey_id = db.session.query(Passkey).filter_by(person_id=holder.person_id).one().id
    other = signed_in_browser(app, citizen, rp)
    other.http.post(
        f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": account_csrf(other)}
    )
    with app.app_context():
        assert db.session.get(Passkey, passkey_id) is not None


def test_a_passkey_signs_in_without_a_number_and_the_request_carries_on(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    assert add_passkey(signed_in_browser(app, holder, rp), authenticator).status_code == 200
    pending = Pending(app, rp)
    options = pending.options()
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    answered = pending.answer(authenticator.get(options, ORIGIN))
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert answered.get_json()["redirect"] == f"/authorize/resume/{pending.uid}"
    # The person consented before, so the resumed request goes straight back to the service.
    back = pending.browser.follow(pending.browser.get(answered.get_json()["redirect"]))
    assert back.status_code == 302 and "code=" in back.headers["Location"]
    cookie = pending.browser.http.get_cookie(COOKIE)
    assert cookie is not None
    with app.test_request_context(headers={"Cookie": f"{COOKIE}={cookie.value}"}):
        signed_in = current_login()
        assert signed_in is not None and signed_in.person.id == holder.person_id
        assert signed_in.amr == ("hwk", "mfa")
    with app.app_context():
        passkey = db.session.query(Passkey).filter_by(person_id=holder.person_id).one()
        assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_number_under_attack_still_signs_in_with_its_passkey(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    # Issue 11: a passkey sign-in is never throttled by password failures, not even when the
    # attacker shares the owner's address (one NAT) and has used up that address's attempts.
    authenticator = SoftAuthenticator()
    assert add_passkey(signed_in_browser(app, holder, rp), authenticator).status_code == 200
    shared = "192.0.2.44"
    limit = app.extensions["yihao"].throttle.policy.address_limit
    for number in [holder.number] * limit:
        attacker = Browser(app.test_client())
        attacker.http.environ_base["REMOTE_ADDR"] = shared
        page = attacker.authorize(Authorization(rp.client_id, rp.redirect_uri))
        assert attacker.submit(page, username=number, password="guess").status_code in (401, 429)
    pending = Pending(app, rp, address=shared)
    refused = pending.browser.submit(pending.page, username=holder.number, password=holder.password)
    assert refused.status_code == 429  # the password path is throttled for this number here
    answered = pending.sign_in(authenticator)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert pending.signed_in()


def test_an_assertion_for_another_origin_is_refused(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), authenticator)
    pending = Pending(app, rp)
    refused = pending.sign_in(authenticator, origin="https://localhost.evil.example")
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid"
    assert not pending.signed_in()


def test_a_registration_for_another_origin_or_without_user_verification_is_refused(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    browser = signed_in_browser(app, holder, rp)
    assert add_passkey(browser, SoftAuthenticator(), origin="http://127.0.0.1").status_code == 400
    assert add_passkey(browser, SoftAuthenticator(user_verified=False)).status_code == 400
    with app.app_context():
        assert db.session.query(Passkey).filter_by(person_id=holder.person_id).count() == 0


def test_a_replayed_assertion_is_refused(app: Flask, holder: Citizen, rp: RegisteredClient) -> None:
    authenticator = SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), authenticator)
    first = Pending(app, rp)
    assertion = authenticator.get(first.options(), ORIGIN)
    assert first.answer(assertion).status_code == 200
    # The challenge was spent: the same answer again, and again after new options, fails.
    again = Pending(app, rp)
    assert again.answer(assertion).get_json()["error"] == "expired"
    again.options()
    assert again.answer(assertion).get_json()["error"] == "invalid"
    assert not again.signed_in()


def test_a_challenge_is_spent_by_a_failed_answer_too(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), authenticator)
    pending = Pending(app, rp)
    options = pending.options()
    assert pending.answer(authenticator.get(options, "https://evil.example")).status_code == 400
    late = pending.answer(authenticator.get(options, ORIGIN))
    assert late.get_json()["error"] == "expired" and not pending.signed_in()


def test_a_counter_that_goes_back_is_refused(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), authenticator)
    assert Pending(app, rp).sign_in(authenticator).status_code == 200
    authenticator.credentials[-1].sign_count = 0  # a clone of the key, made before that use
    cloned = Pending(app, rp)
    assert cloned.sign_in(authenticator).status_code == 400 and not cloned.signed_in()


def test_a_passkey_without_a_counter_signs_in_again_and_again(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    synced = SoftAuthenticator(counts=False)  # synced passkeys keep no counter (always 0)
    add_passkey(signed_in_browser(app, holder, rp), synced)
    for _ in range(2):
        assert Pending(app, rp).sign_in(synced).status_code == 200


def test_a_user_handle_of_someone_else_is_refused(
    app: Flask, holder: Citizen, citizen: Citizen, rp: RegisteredClient
) -> None:
    mine, theirs = SoftAuthenticator(), SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), mine)
    add_passkey(signed_in_browser(app, citizen, rp), theirs)
    mine.credentials[-1].user_handle = theirs.credentials[-1].user_handle
    pending = Pending(app, rp)
    assert pending.sign_in(mine).status_code == 400 and not pending.signed_in()


def test_a_disabled_persons_passkey_does_not_sign_in(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    add_passkey(signed_in_browser(app, holder, rp), authenticator)
    with app.app_context():
        person = db.session.get(Person, holder.person_id)
        assert person is not None
        person.disabled_at = utcnow()
        db.session.commit()
    pending = Pending(app, rp)
    refused = pending.sign_in(authenticator)
    assert refused.status_code == 403 and refused.get_json()["error"] == "disabled"
    assert not pending.signed_in()


def test_a_removed_passkey_no_longer_signs_in(
    app: Flask, holder: Citizen, rp: RegisteredClient
) -> None:
    authenticator = SoftAuthenticator()
    browser = signed_in_browser(app, holder, rp)
    add_passkey(browser, authenticator)
    with app.app_context():
        passkey_id = db.session.query(Passkey).filter_by(person_id=holder.person_id).one().id
    browser.http.post(
        f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": account_csrf(browser)}
    )
    pending = Pending(app, rp)
    assert pending.sign_in(authenticator).get_json()["error"] == "unknown"


def test_the_json_endpoints_need_the_token_the_origin_and_a_pending_sign_in(
    app: Flask, rp: RegisteredClient
) -> None:
    pending = Pending(app, rp)
    url = f"/interaction/{pending.uid}/passkey/options"
    assert pending.browser.http.post(url, json={}).status_code == 400  # no CSRF token
    from_elsewhere = pending.browser.http.post(
        url, json={}, headers={"X-CSRFToken": pending.csrf, "Origin": "https://evil.example"}
    )
    assert from_elsewhere.status_code == 400
    unknown = post_json(pending.browser, "/interaction/nope/passkey/options", pending.csrf)
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "expired"
    garbage = pending.answer({"id": "x", "rawId": 5})
    assert garbage.status_code == 400 and garbage.get_json()["error"] in ("expired", "invalid")
    pending.options()
    assert pending.answer({"id": "x", "rawId": 5}).get_json()["error"] == "invalid"
    not_json = pending.browser.http.post(
        f"/interaction/{pending.uid}/passkey", data="x", headers={"X-CSRFToken": pending.csrf}
    )
    assert not_json.status_code == 400
    signed_out = post_json(Browser(app.test_client()), "/account/passkeys/options", pending.csrf)
    assert signed_out.status_code in (400, 401)


def test_an_issuer_on_an_ip_address_offers_no_passkeys(
    settings: Settings, app: Flask, rp: RegisteredClient
) -> None:
    on_ip = create_app(replace(settings, issuer="http://127.0.0.1:5000"))
    page = Browser(on_ip.test_client()).authorize(Authorization(rp.client_id, rp.redirect_uri))
    assert page.status_code == 200 and "passkey" not in page.get_data(as_text=True)


def test_the_passkeys_migration_goes_down_and_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    upgrade(url)
    downgrade(url, "0009")
    assert "passkeys" not in inspect(create_engine(url)).get_table_names()
    upgrade(url)
    assert "passkeys" in inspect(create_engine(url)).get_table_names()
