"""Server-side sessions (idp.sessions): the same rules on both stores, the table and Redis."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from idp.app import create_app
from idp.config import Settings
from idp.sessions.store import SessionRecord, SessionStore, digest_of, seal, unseal
from idp.web.reflected import MAX_ECHOED
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client
from tests.support.browser import Authorization, Browser, csrf_of
from tests.support.oidc import id_token_claims, tokens_for
from tests.support.redis_prefix import REDIS_URL, redis_prefix

COOKIE = "yihao_session"
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(scope="module", params=["database", "redis"])
def store_app(request: pytest.FixtureRequest, app: Flask, settings: Settings) -> Iterator[Flask]:
    """The provider on each session store; Redis keys under a prefix of this run, removed after."""
    if request.param == "database":
        yield app
        return
    with redis_prefix() as prefix:
        yield create_app(replace(settings, session_store=REDIS_URL, session_key_prefix=prefix))


def _store(app: Flask) -> SessionStore:
    found: SessionStore = app.extensions["yihao_sessions"]
    return found


def _browser(app: Flask, user_agent: str = DESKTOP_UA) -> Browser:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return Browser(client)


def _cookie(browser: Browser) -> str:
    cookie = browser.http.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def _with_cookie(app: Flask, value: str) -> Browser:
    other = _browser(app)
    other.http.set_cookie(COOKIE, value, domain="localhost")
    return other


def _record(app: Flask, cookie: str) -> SessionRecord | None:
    with app.app_context():
        return _store(app).load(digest_of(cookie), int(time.time()))


def _signed_in(browser: Browser) -> bool:
    return browser.get("/account").status_code == 200


@pytest.fixture()
def person(store_app: Flask) -> Citizen:
    return make_citizen(store_app)


@pytest.fixture()
def client(store_app: Flask) -> RegisteredClient:
    return make_client(store_app)


def test_a_cookie_copied_before_sign_out_is_useless_after(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    browser = _browser(store_app)
    tokens_for(browser, client, person)
    copied = _cookie(browser)
    assert _signed_in(_with_cookie(store_app, copied))

    page = browser.get("/account").get_data(as_text=True)
    assert (
        browser.http.post("/account/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    )

    assert browser.http.get_cookie(COOKIE) is None
    assert _record(store_app, copied) is None
    assert not _signed_in(_with_cookie(store_app, copied))


def test_the_cookie_is_an_opaque_id_and_the_store_holds_neither_it_nor_the_hint(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    browser = _browser(store_app)
    long_state = "s" * MAX_ECHOED  # the longest state accepted; a signed cookie grew by all of it
    request = Authorization(
        client.client_id, client.redirect_uri, extra={"login_hint": person.number}
    )
    request.state = long_state
    page = browser.authorize(request)
    assert person.number in page.get_data(as_text=True)  # the hint reached the login form
    cookie = _cookie(browser)
    assert len(cookie) == 43 and person.number not in cookie  # 256 random bits, nothing else
    with store_app.app_context():
        assert _store(store_app).load(cookie, int(time.time())) is None  # keyed by a digest
    record = _record(store_app, cookie)
    assert record is not None and record.person_id is None
    assert person.number.encode() not in record.sealed and b"sss" not in record.sealed
    assert person.number in str(unseal(cookie, record.sealed))  # opens only with the cookie
    assert unseal(secrets.token_urlsafe(32), record.sealed) == {}


def test_signing_in_replaces_the_session_under_a_new_id(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    # Session fixation: an id known before sign-in must not be signed in after it.
    browser = _browser(store_app)
    page = browser.authorize(Authorization(client.client_id, client.redirect_uri))
    before = _cookie(browser)
    browser.follow(browser.submit(page, username=person.number, password=person.password))
    after = _cookie(browser)
    assert after != before
    assert _record(store_app, before) is None
    assert not _signed_in(_with_cookie(store_app, before))
    assert _signed_in(browser)


def test_the_session_ends_at_its_absolute_lifetime(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    browser = _browser(store_app)
    id_token = tokens_for(browser, client, person)["id_token"]
    record = _record(store_app, _cookie(browser))
    assert record is not None and record.auth_time is not None
    ttl = store_app.extensions["yihao"].settings.session_ttl
    assert record.expires_at == record.auth_time + ttl
    assert id_token_claims(browser, id_token)["sid"] == record.sid
    browser.get("/account")  # activity does not extend it
    again = _record(store_app, _cookie(browser))
    assert again is not None and again.expires_at == record.expires_at
    with store_app.app_context():
        digest = digest_of(_cookie(browser))
        assert _store(store_app).load(digest, record.expires_at - 1) is not None
        assert _store(store_app).load(digest, record.expires_at) is None


def test_a_pending_interaction_expires(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    browser = _browser(store_app)
    page = browser.authorize(Authorization(client.client_id, client.redirect_uri))
    action = page.request.path
    assert browser.get(action).status_code == 200
    cookie = _cookie(browser)
    record = _record(store_app, cookie)
    assert record is not None
    data = unseal(cookie, record.sealed)
    ttl = store_app.extensions["yihao"].settings.interaction_ttl
    for pending in data["interactions"].values():
        pending["started"] -= ttl + 1
    with store_app.app_context():
        _store(store_app).save(digest_of(cookie), replace(record, sealed=seal(cookie, data)))
    assert browser.get(action).status_code == 400  # "This sign-in has expired"


def test_the_account_page_lists_sessions_and_ends_one_or_all(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    desk, phone = _browser(store_app, DESKTOP_UA), _browser(store_app, PHONE_UA)
    tokens_for(desk, client, person)
    tokens_for(phone, client, person)
    html = desk.get("/account").get_data(as_text=True)
    assert "Firefox · Windows" in html and "Chrome Mobile · Android" in html
    assert "127.0.*.*" in html and "127.0.0.1" not in html
    phone_record = _record(store_app, _cookie(phone))
    assert phone_record is not None
    end_phone = f"/account/sessions/{phone_record.sid}/end"
    assert desk.http.post(end_phone, data={}).status_code == 400  # CSRF
    assert _signed_in(phone)

    assert desk.http.post(end_phone, data={"csrf_token": csrf_of(html)}).status_code == 302
    assert not _signed_in(phone) and _signed_in(desk)

    tokens_for(phone, client, person)
    html = desk.get("/account").get_data(as_text=True)
    everywhere = desk.http.post("/account/sessions/end-all", data={"csrf_token": csrf_of(html)})
    assert everywhere.status_code == 302
    assert not _signed_in(phone) and not _signed_in(desk)


def test_one_person_cannot_end_anothers_session(
    store_app: Flask, person: Citizen, client: RegisteredClient
) -> None:
    other = make_citizen(store_app)
    mine, theirs = _browser(store_app), _browser(store_app)
    tokens_for(mine, client, person)
    tokens_for(theirs, client, other)
    their_record = _record(store_app, _cookie(theirs))
    assert their_record is not None
    html = mine.get("/account").get_data(as_text=True)
    mine.http.post(f"/account/sessions/{their_record.sid}/end", data={"csrf_token": csrf_of(html)})
    assert _signed_in(theirs)
    # Not a session id: refused before any store sees it (PostgreSQL would refuse NUL in text).
    for bad in ("%00" * 32, "x" * 32, "a" * 500):
        answer = mine.http.post(f"/account/sessions/{bad}/end", data={"csrf_token": csrf_of(html)})
        assert answer.status_code == 302
    assert _signed_in(mine)
