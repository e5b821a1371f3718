"""End to end: ``yihao.flask_rp`` in a tiny Flask app (driven by Flask's test client) whose
``YihaoLogin`` talks to a real ``idp serve`` over loopback HTTP, and through nginx terminating TLS.

The person's browser is two things here, as it would be one in life: Flask's test client for the
relying service's pages, and ``requests`` (``Person``) for the provider's pages. The redirect to
the provider is taken from the app's ``/login`` response, and the provider's final redirect (the
callback URL on ``http://localhost``) is handed back to the test client.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from yihao.flask_rp import (
    MemoryStore,
    SqliteStore,
    StoredLogin,
    TokenStore,
    YihaoLogin,
    login_required,
    safe_next,
    store_key,
)
from yihao.oidc import RelyingParty, TokenError, Tokens

from tests.e2e.conftest import CITIZEN_NAME, Provider, run_idp
from tests.e2e.test_sdk_rp import query_of
from tests.support.person import Person

pytestmark = pytest.mark.e2e

CALLBACK = "http://localhost/callback"  # the default: the callback route's absolute URL
AFTER_LOGOUT = "http://localhost/"
SCOPES = "openid profile id_number"


@pytest.fixture(scope="module")
def client(shaped_provider: Provider) -> dict[str, Any]:
    return run_idp(
        shaped_provider.env,
        *("client", "add", "--name", "SDK Flask app", "--scope", SCOPES),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", CALLBACK, "--post-logout-redirect-uri", AFTER_LOGOUT),
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "logins.db")


def trust(provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    """``YihaoLogin`` makes its own ``requests`` session, which reads the CA file from
    ``REQUESTS_CA_BUNDLE``: the fixture's CA behind the TLS proxy, as an operator would set it."""
    if provider.ca_bundle:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", provider.ca_bundle)


def make_app(shaped_provider: Provider, client: dict[str, Any], store: TokenStore) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test only"
    app.config.update(
        YIHAO_ISSUER=shaped_provider.issuer,
        YIHAO_CLIENT_ID=client["client_id"],
        YIHAO_CLIENT_SECRET=client["client_secret"],
        YIHAO_SCOPE=SCOPES,
        YIHAO_POST_LOGOUT_REDIRECT_URI=AFTER_LOGOUT,
    )
    YihaoLogin(app, store=store)

    @app.get("/private")
    @login_required
    def private() -> dict[str, Any]:
        return {"sub": g.yihao.subject.sub, "name": g.yihao.subject.name}

    @app.get("/token")
    @login_required
    def token() -> str:
        access_token: str = g.yihao.access_token()
        return access_token

    @app.get("/me")
    @login_required
    def me() -> dict[str, Any]:
        info: dict[str, Any] = g.yihao.userinfo()
        return info

    return app


def session_of(app: Flask, browser: FlaskClient) -> dict[str, Any]:
    """The Flask session as the browser holds it: the signed cookie, decoded (none: empty)."""
    cookie = browser.get_cookie("session")
    if cookie is None:
        return {}
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, Any] = serializer.loads(cookie.value)
    return data


def sign_in(browser: FlaskClient, person: Person, page: str) -> str:
    """Follow ``page`` to the provider and back; the page the app sends the browser to at last."""
    to_login = browser.get(page)
    assert to_login.status_code == 302
    to_provider = browser.get(to_login.headers["Location"])
    assert to_provider.status_code == 302
    callback = person.sign_in(to_provider.headers["Location"])
    assert callback.startswith(CALLBACK + "?"), callback
    back = browser.get(callback)
    assert back.status_code == 302, back.get_data(as_text=True)
    return back.headers["Location"]


def test_login_session_refresh_userinfo_and_logout(
    shaped_provider: Provider,
    client: dict[str, Any],
    store: TokenStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust(shaped_provider, monkeypatch)
    app = make_app(shaped_provider, client, store)
    browser, person = (
        app.test_client(),
        Person(shaped_provider.citizen_number, http=shaped_provider.http()),
    )

    to_login = browser.get("/private?x=1")
    assert to_login.status_code == 302 and to_login.headers["Location"].startswith("/login?")
    assert sign_in(browser, person, "/private?x=1") == "/private?x=1"

    page = browser.get("/private?x=1")
    assert page.status_code == 200
    assert page.json is not None and page.json["name"] == CITIZEN_NAME
    sub = page.json["sub"]

    # The cookie holds a random session id and nothing personal; tokens stay on the server.
    cookie = session_of(app, browser)
    assert set(cookie) <= {"yihao.sid", "yihao.pending"} and not cookie.get("yihao.pending")
    key = store_key(cookie["yihao.sid"])
    stored = store.get(key)
    assert stored is not None and stored.claims["id_number"] == shaped_provider.citizen_number
    raw = json.dumps(cookie) + (browser.get_cookie("session").value or "")  # type: ignore[union-attr]
    for secret in (shaped_provider.citizen_number, stored.tokens.access_token, CITIZEN_NAME):
        assert secret not in raw
    assert stored.tokens.refresh_token is not None and stored.tokens.id_token is not None
    assert stored.tokens.refresh_token not in raw and stored.tokens.id_token not in raw

    # A live access token is used as it is; an expired one is refreshed, once, in the store.
    assert browser.get("/token").get_data(as_text=True) == stored.tokens.access_token
    expire(store, key)
    fresh = browser.get("/token").get_data(as_text=True)
    renewed = store.get(key)
    assert renewed is not None and fresh == renewed.tokens.access_token
    assert fresh != stored.tokens.access_token
    assert renewed.tokens.refresh_token != stored.tokens.refresh_token
    # The refresh's ID token (OIDC Core 12.2) replaces the first: the same session, for the hint.
    assert renewed.tokens.id_token not in (None, stored.tokens.id_token)
    me = browser.get("/me")
    assert me.status_code == 200 and me.json is not None and me.json["sub"] == sub

    # Logout: local login gone, refresh token revoked, browser sent to end the provider session.
    bye = browser.get("/logout")
    assert bye.status_code == 302
    end_session = bye.headers["Location"]
    assert end_session.startswith(shaped_provider.issuer + "/logout?")
    params = query_of(end_session)
    assert params["id_token_hint"] == renewed.tokens.id_token  # of the same session (sid)
    assert params["post_logout_redirect_uri"] == AFTER_LOGOUT
    assert store.get(key) is None and "yihao.sid" not in session_of(app, browser)
    assert browser.get("/private").status_code == 302
    with pytest.raises(TokenError) as revoked:
        relying_party_of(app).refresh(renewed.tokens.refresh_token or "")
    assert revoked.value.error == "invalid_grant"
    back = person.get(end_session)
    assert back.status_code == 302 and back.headers["Location"] == AFTER_LOGOUT


def relying_party_of(app: Flask) -> RelyingParty:
    with app.test_request_context():
        return YihaoLogin.relying_party()


def expire(store: TokenStore, key: str) -> None:
    def change(current: StoredLogin) -> StoredLogin:
        return replace(current, tokens=replace(current.tokens, expires_at=time.time() - 1))

    assert store.update(key, change) is not None


def test_callbacks_that_were_not_started_here_are_refused(
    shaped_provider: Provider, client: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(shaped_provider, monkeypatch)
    app = make_app(shaped_provider, client, MemoryStore())
    browser = app.test_client()
    assert browser.get("/callback?code=x&state=unknown").status_code == 400
    to_provider = browser.get("/login?next=https://evil.example/")
    assert to_provider.status_code == 302
    pending = session_of(app, browser)["yihao.pending"]
    assert [entry["next"] for entry in pending.values()] == ["/"]
    state = query_of(to_provider.headers["Location"])["state"]
    for _ in range(4):  # more tabs than are remembered: the oldest are forgotten first
        browser.get("/login")
    assert state not in session_of(app, browser)["yihao.pending"]
    browser.get("/login?next=/again")
    pending = session_of(app, browser)["yihao.pending"]
    assert len(pending) == 3 and "/again" in [entry["next"] for entry in pending.values()]
    state = query_of(browser.get("/login").headers["Location"])["state"]
    denied = browser.get(
        f"/callback?state={state}&error=access_denied&iss={shaped_provider.issuer}"
    )
    assert denied.status_code == 403 and denied.mimetype == "text/plain"
    assert "yihao.sid" not in session_of(app, browser)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/private?x=1", "/private?x=1"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/ok\r\nSet-Cookie: a=b", "/"),
        ("private", "/"),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept
    assert not urlsplit(safe_next(given)).netloc


def test_sqlite_store_serialises_updates_of_one_login(tmp_path: Path) -> None:
    """Two workers refreshing one login must not both spend the refresh token."""
    path = tmp_path / "logins.db"
    SqliteStore(path).put("k", StoredLogin(Tokens("a0", "r0", 0.0), {"sub": "s"}))
    entered = threading.Event()
    spent: list[str] = []

    def change(current: StoredLogin) -> StoredLogin:
        entered.set()
        time.sleep(0.2)  # the other worker tries to update meanwhile
        spent.append(current.tokens.refresh_token or "")
        n = len(spent)
        return replace(current, tokens=Tokens(f"a{n}", f"r{n}", 0.0))

    first = threading.Thread(target=lambda: SqliteStore(path).update("k", change))
    first.start()
    entered.wait(5)
    SqliteStore(path).update("k", change)
    first.join(5)
    assert spent == ["r0", "r1"]  # the second saw the first's new refresh token
    final = SqliteStore(path).get("k")
    assert final is not None and final.tokens.refresh_token == "r2"
    assert SqliteStore(path).delete("k") == final and SqliteStore(path).get("k") is None


def test_memory_store_serialises_updates_of_one_login() -> None:
    memory = MemoryStore()
    memory.put("k", StoredLogin(Tokens("a0", "r0", 0.0), {"sub": "s"}))
    spent: list[str] = []

    def change(current: StoredLogin) -> StoredLogin:
        time.sleep(0.05)
        spent.append(current.tokens.refresh_token or "")
        return replace(current, tokens=Tokens("a", f"r{len(spent)}", 0.0))

    workers = [threading.Thread(target=memory.update, args=("k", change)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(5)
    assert spent == ["r0", "r1", "r2"]
