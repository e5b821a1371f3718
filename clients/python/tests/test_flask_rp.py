"""``YihaoLogin``'s settings for client authentication, and ``g.yihao.refresh()`` / ``.scopes``.

The provider's token endpoint is the suite's loopback server (``server`` in conftest.py), so the
refresh requests checked here are the ones that went over HTTP: which refresh token was spent,
where the client's credential travelled. A login is placed in the store as ``/callback`` would
leave it (the sign-in itself runs against the real provider in tests/e2e/test_sdk_flask.py).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sdk_world import Seen, Served
from yihao.flask_rp import SESSION_ID, MemoryStore, StoredLogin, YihaoLogin, store_key
from yihao.oidc import ConfigurationError, TokenError, Tokens

CLIENT = "flask-rp-test"
SECRET = "flask-s3cret-for-tests"
BROWSER_SESSION = "browser-session-id"
GRANTED = "openid profile id_number"
KEY = RSAKey.generate_key(2048, parameters={"kid": "flask-rp-1"})
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def make_app(issuer: str, store: MemoryStore, **settings: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test only", YIHAO_ISSUER=issuer, YIHAO_CLIENT_ID=CLIENT)
    app.config.update(settings)
    YihaoLogin(app, store=store)

    @app.get("/refresh")
    def refresh() -> Any:
        try:
            tokens: Tokens = g.yihao.refresh()
        except TokenError as exc:
            return {"error": exc.error}, 401
        # The same request sees the new grant: scopes are read from the store.
        return {"access_token": tokens.access_token, "scopes": sorted(g.yihao.scopes)}

    @app.get("/scopes")
    def scopes() -> Any:
        return {"scopes": sorted(g.yihao.scopes)}

    @app.get("/token")
    def token() -> str:
        access_token: str = g.yihao.access_token()
        return access_token

    return app


def signed_in(app: Flask, store: MemoryStore, refresh: str | None = "rt1") -> FlaskClient:
    """A browser with a login as ``/callback`` leaves it: tokens stored, an id in the cookie."""
    tokens = Tokens("at1", refresh, time.time() + 600, GRANTED, "id-token-1")
    store.put(store_key(BROWSER_SESSION), StoredLogin(tokens, {"sub": "pairwise-1"}))
    browser = app.test_client()
    with browser.session_transaction() as cookie:
        cookie[SESSION_ID] = BROWSER_SESSION
    return browser


def refreshes(server: Served) -> list[Seen]:
    return [seen for seen in server.seen if seen.method == "POST" and seen.path == "/token"]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def test_refresh_spends_the_stored_token_and_stores_the_new_ones(
    server: Served, store: MemoryStore
) -> None:
    app = make_app(server.play_provider(scope="openid profile"), store, YIHAO_CLIENT_SECRET=SECRET)
    browser = signed_in(app, store)
    assert browser.get("/scopes").json == {"scopes": ["id_number", "openid", "profile"]}
    # A live access token is not refreshed by access_token(); refresh() does it at once.
    assert browser.get("/token").get_data(as_text=True) == "at1" and not refreshes(server)

    answer = browser.get("/refresh")
    assert answer.status_code == 200
    # The provider narrowed the grant: the app sees it in the same request and afterwards.
    assert answer.json == {"access_token": "at", "scopes": ["openid", "profile"]}
    assert browser.get("/scopes").json == {"scopes": ["openid", "profile"]}
    [sent] = refreshes(server)
    assert sent.form["grant_type"] == "refresh_token" and sent.form["refresh_token"] == "rt1"
    assert "scope" not in sent.form  # RFC 6749 6: the grant keeps its scope
    stored = store.get(store_key(BROWSER_SESSION))
    assert stored is not None
    assert (stored.tokens.access_token, stored.tokens.refresh_token) == ("at", "rt2")
    assert stored.tokens.id_token == "id-token-1"  # none came back: kept for id_token_hint

    browser.get("/refresh")
    assert [seen.form["refresh_token"] for seen in refreshes(server)] == ["rt1", "rt2"]


def test_a_refresh_answer_without_scope_keeps_the_granted_scope(
    server: Served, store: MemoryStore
) -> None:
    issuer = server.play_provider()
    server.json("/token", {"access_token": "at", "token_type": "Bearer", "refresh_token": "rt2"})
    app = make_app(issuer, store, YIHAO_CLIENT_SECRET=SECRET)
    answer = signed_in(app, store).get("/refresh")
    assert answer.json == {"access_token": "at", "scopes": ["id_number", "openid", "profile"]}


def test_a_refused_refresh_ends_the_local_login(server: Served, store: MemoryStore) -> None:
    issuer = server.play_provider()
    server.json("/token", {"error": "invalid_grant"}, status=400)
    app = make_app(issuer, store, YIHAO_CLIENT_SECRET=SECRET)
    browser = signed_in(app, store)
    assert browser.get("/refresh").json == {"error": "invalid_grant"}
    assert store.get(store_key(BROWSER_SESSION)) is None


def test_a_login_without_a_refresh_token_cannot_refresh(server: Served, store: MemoryStore) -> None:
    app = make_app(server.play_provider(), store, YIHAO_CLIENT_SECRET=SECRET)
    browser = signed_in(app, store, refresh=None)
    assert browser.get("/refresh").json == {"error": "login_required"}
    assert not refreshes(server) and store.get(store_key(BROWSER_SESSION)) is not None


def test_client_secret_post_is_taken_from_the_settings(server: Served, store: MemoryStore) -> None:
    app = make_app(
        server.play_provider(),
        store,
        YIHAO_CLIENT_SECRET=SECRET,
        YIHAO_TOKEN_ENDPOINT_AUTH_METHOD="client_secret_post",
    )
    signed_in(app, store).get("/refresh")
    [sent] = refreshes(server)
    assert "Authorization" not in sent.headers
    assert sent.form["client_id"] == CLIENT and sent.form["client_secret"] == SECRET


def test_the_secret_alone_is_client_secret_basic(server: Served, store: MemoryStore) -> None:
    app = make_app(server.play_provider(), store, YIHAO_CLIENT_SECRET=SECRET)
    signed_in(app, store).get("/refresh")
    [sent] = refreshes(server)
    expected = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert sent.headers["Authorization"] == expected and "client_secret" not in sent.form


@pytest.mark.parametrize(("method", "form"), [(None, "pem"), ("private_key_jwt", "jwk")])
def test_private_key_jwt_signs_with_the_key_file(
    server: Served, store: MemoryStore, tmp_path: Path, method: str | None, form: str
) -> None:
    key_file = tmp_path / f"rp-private.{form}"
    if form == "pem":
        key_file.write_bytes(KEY.as_pem(private=True))
    else:
        key_file.write_text(json.dumps(KEY.as_dict(private=True)))
    settings: dict[str, Any] = {"YIHAO_CLIENT_PRIVATE_KEY_FILE": str(key_file)}
    if method is not None:
        settings["YIHAO_TOKEN_ENDPOINT_AUTH_METHOD"] = method
    app = make_app(server.play_provider(), store, **settings)
    with app.test_request_context():
        assert YihaoLogin.relying_party().auth_method == "private_key_jwt"
    signed_in(app, store).get("/refresh")
    [sent] = refreshes(server)
    assert "Authorization" not in sent.headers and "client_secret" not in sent.form
    assert sent.form["client_assertion_type"] == ASSERTION_TYPE  # RFC 7523 2.2
    public = RSAKey.import_key(KEY.as_dict(private=False))
    assertion = jwt.decode(sent.form["client_assertion"], public, algorithms=["RS256"])
    # A PEM names no key; a JWK's kid is sent, for a client registered with several keys.
    assert assertion.header.get("kid") == (KEY.kid if form == "jwk" else None)
    assert assertion.claims["iss"] == assertion.claims["sub"] == CLIENT


def key_file_of(tmp_path: Path, key: RSAKey | ECKey | None = KEY) -> str:
    path = tmp_path / "key.pem"
    if key is not None:
        path.write_bytes(key.as_pem(private=True))
    return str(path)


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "private_key_jwt"}, "needs the client's private key"),
        ({"YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "client_secret_post"}, "needs the client secret"),
        ({"YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "client_secret_jwt"}, "is not one of"),
        ({"YIHAO_CLIENT_SECRET": SECRET, "KEY": KEY}, "private_key_jwt uses no client secret"),
        (
            {
                "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "client_secret_basic",
                "YIHAO_CLIENT_SECRET": SECRET,
                "KEY": KEY,
            },
            "only used with private_key_jwt",
        ),
        ({"KEY": None}, "cannot read the private key file"),
        ({"KEY": ECKey.generate_key("P-384")}, "RSA or EC P-256"),
    ],
)
def test_settings_that_cannot_work_stop_init_app(
    tmp_path: Path, settings: dict[str, Any], complaint: str
) -> None:
    if "KEY" in settings:
        settings["YIHAO_CLIENT_PRIVATE_KEY_FILE"] = key_file_of(tmp_path, settings.pop("KEY"))
    app = Flask(__name__)
    app.config.update(YIHAO_ISSUER="http://127.0.0.1:9", YIHAO_CLIENT_ID=CLIENT, **settings)
    with pytest.raises(ConfigurationError, match=complaint) as refused:
        YihaoLogin(app)
    message = str(refused.value)
    assert "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD" in message
    assert "YIHAO_CLIENT_PRIVATE_KEY_FILE" in message
    assert SECRET not in message and "BEGIN" not in message


ASKED = {"verification": {"trust_framework": None}, "claims": {"business_registration": None}}
VERIFIED = {"userinfo": {"verified_claims": ASKED}}


@pytest.mark.parametrize("setting", [VERIFIED, json.dumps(VERIFIED)], ids=["dict", "text"])
def test_the_claims_request_goes_with_every_sign_in(
    server: Served, store: MemoryStore, setting: Any
) -> None:
    # OIDC Core 5.5: the claims parameter, compact JSON, from Python config or the environment.
    app = make_app(server.play_provider(), store, YIHAO_CLIENT_SECRET=SECRET, YIHAO_CLAIMS=setting)
    answer = app.test_client().get("/login")
    assert answer.status_code == 302
    sent = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert json.loads(sent["claims"]) == VERIFIED
    assert " " not in sent["claims"]


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [("{not json", "not valid JSON"), ('["userinfo"]', "must be a JSON object")],
)
def test_a_claims_request_that_is_not_an_object_stops_init_app(
    setting: str, complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        make_app("http://127.0.0.1:9", MemoryStore(), YIHAO_CLAIMS=setting)


def test_without_the_setting_no_claims_parameter_is_sent(
    server: Served, store: MemoryStore
) -> None:
    app = make_app(server.play_provider(), store, YIHAO_CLIENT_SECRET=SECRET)
    answer = app.test_client().get("/login")
    assert "claims" not in dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
