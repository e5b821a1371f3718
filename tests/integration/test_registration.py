"""Self-registration and password reset through the pages, on the Flask test client with the
development outbox as the SMS sender: number + name against the registry, the code by SMS or from
the counter, the new password, then signed in; and what is refused on the way."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.auth.login import LoginFailure, authenticate
from idp.auth.one_time_codes import Purpose, format_activation_code, issue_activation_code
from idp.notify.sms import outbox
from idp.services import Services, services
from idp.store.subjects import find_person, person_index, read_person
from tests.conftest import PASSWORD, Citizen, RegisteredClient, make_citizen
from tests.integration.test_assurance import _enrol
from tests.support.browser import Authorization, Browser, csrf_of
from tests.support.identities import new_id_number
from tests.support.registry import OnRecord, put_on_record

NEW_PASSWORD = "lantern orchid 1987 quay"
CODE = re.compile(r"\b(\d{6})\b")


def start(browser: Browser, path: str, number: str, name: str, uid: str = "") -> TestResponse:
    page = browser.get(path + (f"?interaction={uid}" if uid else ""))
    assert page.status_code == 200
    return browser.submit(page, number=number, name=name, interaction=uid)


def send_sms(browser: Browser, flow: str = "register") -> TestResponse:
    page = browser.get(f"/{flow}/finish")
    return browser.http.post(
        f"/{flow}/send", data={"csrf_token": csrf_of(page.get_data(as_text=True))}
    )


def finish(
    browser: Browser,
    code: str,
    password: str = NEW_PASSWORD,
    flow: str = "register",
    again: str | None = None,
) -> TestResponse:
    page = browser.get(f"/{flow}/finish")
    data = {
        "csrf_token": csrf_of(page.get_data(as_text=True)),
        "code": code,
        "password": password,
        "password_again": password if again is None else again,
    }
    return browser.http.post(f"/{flow}/finish", data=data)


def sms_code(app: Flask, mobile: str) -> str:
    with app.app_context():
        messages = outbox(services().cipher, mobile)
        assert messages, "no SMS in the outbox"
        found = CODE.search(messages[0].text)
    assert found
    return found.group(1)


@pytest.fixture()
def on_record(app: Flask) -> OnRecord:
    return put_on_record(app)


@pytest.fixture(autouse=True)
def own_address(browser: Browser) -> None:
    """Each test's browser comes from an address of its own: SMS sends are counted per address
    for an hour, across the tests that share the database."""
    browser.http.environ_base["REMOTE_ADDR"] = "127." + ".".join(map(str, secrets.token_bytes(3)))


def test_register_with_the_sms_code_creates_the_account_and_signs_in(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    response = start(browser, "/register", on_record.number, on_record.name)
    assert response.status_code == 302 and on_record.number not in response.headers["Location"]
    page = browser.get("/register/finish").get_data(as_text=True)
    assert f"{on_record.mobile[:3]}****{on_record.mobile[-4:]}" in page
    assert on_record.mobile not in page
    assert send_sms(browser).status_code == 302
    done = finish(browser, sms_code(app, on_record.mobile))
    assert done.status_code == 302 and done.headers["Location"].endswith("/account")
    account = browser.get("/account")
    assert account.status_code == 200 and on_record.name in account.get_data(as_text=True)
    with app.app_context():
        svc = services()
        person = find_person(svc.cipher, on_record.number)
        assert person is not None
        record = read_person(svc.cipher, person)
        assert (record.name, record.contact.phone) == (on_record.name, on_record.mobile)
        assert (
            authenticate(
                svc.cipher, svc.passwords, svc.throttle, on_record.number, NEW_PASSWORD, "127.0.0.1"
            )
            == person
        )


def test_an_unknown_number_and_a_wrong_name_get_the_same_answer(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    unknown = new_id_number()  # on no registry
    wrong_name = start(browser, "/register", on_record.number, "赵敏敏")
    no_record = start(browser, "/register", unknown, on_record.name)
    assert wrong_name.status_code == no_record.status_code == 400
    first = wrong_name.get_data(as_text=True).replace(on_record.number, "N")
    second = no_record.get_data(as_text=True).replace(unknown, "N")
    assert first == second
    assert "do not match" in first or "不符合" in first


def test_a_registered_number_is_told_to_sign_in_or_reset(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    make_citizen(app, name=on_record.name, number=on_record.number)
    response = start(browser, "/register", on_record.number, on_record.name)
    assert response.status_code == 409
    assert "/recover" in response.get_data(as_text=True)


def test_registration_from_the_login_page_goes_back_to_the_interaction(
    app: Flask, browser: Browser, rp: RegisteredClient, on_record: OnRecord
) -> None:
    login = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    html = login.get_data(as_text=True)
    uid = re.search(r'/register\?interaction=([\w-]+)"', html)
    assert uid and "/recover?interaction=" in html
    start(browser, "/register", on_record.number, on_record.name, uid.group(1))
    send_sms(browser)
    done = finish(browser, sms_code(app, on_record.mobile))
    assert done.headers["Location"].endswith(f"/authorize/resume/{uid.group(1)}")


def test_a_weak_password_is_refused_before_the_code_is_spent(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    start(browser, "/register", on_record.number, on_record.name)
    send_sms(browser)
    code = sms_code(app, on_record.mobile)
    for weak in ("short", "woaini1314", "Password123", f"x{on_record.number}"):
        assert finish(browser, code, weak).status_code == 400, weak
    assert finish(browser, code, NEW_PASSWORD, again="something else").status_code == 400
    assert finish(browser, code).status_code == 302


def test_a_wrong_code_is_refused_and_five_burn_it(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    start(browser, "/register", on_record.number, on_record.name)
    send_sms(browser)
    code = sms_code(app, on_record.mobile)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(services_of(app).settings.one_time_code_attempts):
        assert finish(browser, wrong).status_code == 400
    refused = finish(browser, code)
    assert refused.status_code == 400
    with app.app_context():
        assert find_person(services().cipher, on_record.number) is None


def test_sms_sends_are_limited_per_number(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    start(browser, "/register", on_record.number, on_record.name)
    limit = services_of(app).settings.sms_per_number_hourly
    statuses = [send_sms(browser).status_code for _ in range(limit + 1)]
    assert statuses == [302] * limit + [429]


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["yihao"]
    return found


@pytest.fixture()
def two_per_address(app: Flask) -> Iterator[None]:
    svc = app.extensions["yihao"]
    app.extensions["yihao"] = replace(svc, settings=replace(svc.settings, sms_per_address_hourly=2))
    yield
    app.extensions["yihao"] = svc


def test_sms_sends_are_limited_per_address(
    app: Flask, browser: Browser, two_per_address: None
) -> None:
    statuses = []
    for _ in range(3):
        person = put_on_record(app)
        start(browser, "/register", person.number, person.name)
        statuses.append(send_sms(browser).status_code)
    assert statuses == [302, 302, 429]


def test_reset_with_a_counter_code_ends_every_session(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    citizen = make_citizen(app, name="钱七")
    elsewhere = Browser(app.test_client())
    elsewhere.sign_in_and_consent(
        Authorization(rp.client_id, rp.redirect_uri), citizen.number, citizen.password
    )
    assert elsewhere.get("/account").status_code == 200
    with app.app_context():
        svc = services()
        code = issue_activation_code(svc, Purpose.RESET, person_index(svc.cipher, citizen.number))
    assert start(browser, "/recover", citizen.number, "钱七").status_code == 302
    page = browser.get("/recover/finish").get_data(as_text=True)
    assert "Send the code" not in page and "发送验证码" not in page  # no mobile on record
    done = finish(browser, format_activation_code(code).lower(), flow="recover")
    assert done.status_code == 302
    assert browser.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302  # signed out there
    with app.app_context():
        svc = services()
        new = authenticate(
            svc.cipher, svc.passwords, svc.throttle, citizen.number, NEW_PASSWORD, "127.0.0.1"
        )
        old = authenticate(
            svc.cipher, svc.passwords, svc.throttle, citizen.number, PASSWORD, "127.0.0.1"
        )
        assert not isinstance(new, LoginFailure) and isinstance(old, LoginFailure)
    # the code was used: a second reset with it fails
    start(browser, "/recover", citizen.number, "钱七")
    assert finish(browser, code, flow="recover").status_code == 400


def test_a_reset_does_not_sign_in_past_the_authenticator_app(
    app: Flask, browser: Browser, rp: RegisteredClient
) -> None:
    # The reset proves the registry's mobile, not the second factor: a person with an
    # authenticator app is not signed in by it, and the new password alone still signs in no one.
    citizen = make_citizen(app, name="钱七")
    _enrol(app, citizen)
    with app.app_context():
        svc = services()
        code = issue_activation_code(svc, Purpose.RESET, person_index(svc.cipher, citizen.number))
    assert start(browser, "/recover", citizen.number, "钱七").status_code == 302
    assert finish(browser, format_activation_code(code), flow="recover").status_code == 302
    assert browser.get("/account").status_code == 302  # not signed in
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    asked = browser.follow(browser.submit(page, username=citizen.number, password=NEW_PASSWORD))
    assert asked.status_code == 200 and 'name="code"' in asked.get_data(as_text=True)
    assert browser.get("/account").status_code == 302


def test_a_register_code_does_not_reset(app: Flask, browser: Browser) -> None:
    citizen = make_citizen(app, name="孙八")
    with app.app_context():
        svc = services()
        code = issue_activation_code(
            svc, Purpose.REGISTER, person_index(svc.cipher, citizen.number)
        )
    start(browser, "/recover", citizen.number, "孙八")
    assert finish(browser, code, flow="recover").status_code == 400


def test_change_password_needs_the_current_one_and_ends_other_sessions(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    request = Authorization(rp.client_id, rp.redirect_uri)
    browser.sign_in_and_consent(request, citizen.number, citizen.password)
    other = Browser(app.test_client())
    other.sign_in_and_consent(request, citizen.number, citizen.password)
    page = browser.get("/account/password")
    wrong = browser.submit(
        page, current="not it at all", password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    assert wrong.status_code == 400
    common = browser.submit(
        page, current=citizen.password, password="iloveyou1314", password_again="iloveyou1314"
    )
    assert common.status_code == 400
    done = browser.submit(
        page, current=citizen.password, password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    assert done.status_code == 302
    assert browser.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_the_outbox_page_shows_masked_numbers(
    app: Flask, browser: Browser, on_record: OnRecord
) -> None:
    start(browser, "/register", on_record.number, on_record.name)
    send_sms(browser)
    page = browser.get("/dev/sms-outbox").get_data(as_text=True)
    assert f"{on_record.mobile[:3]}****{on_record.mobile[-4:]}" in page
    assert on_record.mobile not in page
