"""End to end: ``YihaoLogin`` signs a citizen in for a ``client_secret_post`` client and for a
``private_key_jwt`` client, configured only with ``YIHAO_*`` settings, against a real ``idp
serve``; then ``g.yihao.scopes``, ``g.yihao.refresh()`` and sign-out (revocation) with the same
client authentication. The provider accepts only the method a client was registered with
(docs/integration.md section 5), so an app that sent the secret the default way would fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from yihao.flask_rp import YihaoLogin, login_required

from tests.e2e.conftest import Provider, run_idp
from tests.e2e.test_sdk_flask import CALLBACK, sign_in
from tests.support.client_keys import write_client_key
from tests.support.person import Person

pytestmark = pytest.mark.e2e

REGISTERED = "openid profile"
#: ``phone`` is not in the registration: the provider drops it, and ``g.yihao.scopes`` says so.
REQUESTED = "openid profile phone"


def register(provider: Provider, name: str, *args: str) -> dict[str, Any]:
    return run_idp(
        provider.env,
        *("client", "add", "--name", name, "--scope", REGISTERED),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", CALLBACK, *args),
    )


@pytest.fixture(scope="module")
def post_client(provider: Provider) -> dict[str, Any]:
    return register(provider, "SDK client_secret_post", "--auth-method", "client_secret_post")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The relying party's private key as a JWK file (its kid is sent with each assertion)."""
    return write_client_key(tmp_path_factory.mktemp("rp-key"), "sdk-e2e-1")


@pytest.fixture(scope="module")
def jwt_client(provider: Provider, key_file: Path) -> dict[str, Any]:
    jwks = str(key_file.parent / "jwks.json")
    return register(
        provider, "SDK private_key_jwt", "--auth-method", "private_key_jwt", "--jwks-file", jwks
    )


def make_app(provider: Provider, **settings: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test only"
    app.config.update(YIHAO_ISSUER=provider.issuer, YIHAO_SCOPE=REQUESTED, **settings)
    YihaoLogin(app)

    @app.get("/private")
    @login_required
    def private() -> dict[str, Any]:
        return {"sub": g.yihao.subject.sub, "scopes": sorted(g.yihao.scopes)}

    @app.get("/refresh")
    @login_required
    def refresh() -> dict[str, Any]:
        before = g.yihao.access_token()
        tokens = g.yihao.refresh()
        after = g.yihao.access_token()  # the refreshed token, from the store
        return {"renewed": tokens.access_token != before, "stored": after == tokens.access_token}

    return app


def settings_for(
    method: str, post: dict[str, Any], jwt: dict[str, Any], key: Path
) -> dict[str, str]:
    if method == "client_secret_post":
        return {
            "YIHAO_CLIENT_ID": post["client_id"],
            "YIHAO_CLIENT_SECRET": post["client_secret"],
            "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "client_secret_post",
        }
    return {
        "YIHAO_CLIENT_ID": jwt["client_id"],
        "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD": "private_key_jwt",
        "YIHAO_CLIENT_PRIVATE_KEY_FILE": str(key),
    }


@pytest.mark.parametrize("method", ["client_secret_post", "private_key_jwt"])
def test_sign_in_refresh_and_sign_out_with_the_registered_method(
    provider: Provider,
    post_client: dict[str, Any],
    jwt_client: dict[str, Any],
    key_file: Path,
    method: str,
) -> None:
    app = make_app(provider, **settings_for(method, post_client, jwt_client, key_file))
    with app.test_request_context():
        assert YihaoLogin.relying_party().auth_method == method
    browser = app.test_client()
    assert sign_in(browser, Person(provider.citizen_number), "/private") == "/private"

    page = browser.get("/private")
    assert page.status_code == 200 and page.json is not None
    assert page.json["scopes"] == ["openid", "profile"]  # phone was asked for, not granted

    refreshed = browser.get("/refresh")
    assert refreshed.json == {"renewed": True, "stored": True}
    assert browser.get("/private").json == page.json  # the same login and grant

    bye = browser.get("/logout")  # revokes the refresh token, authenticating the same way
    assert bye.status_code == 302 and bye.headers["Location"].startswith(provider.issuer)
    assert browser.get("/private").status_code == 302


def test_a_client_secret_post_client_sending_basic_is_refused(
    provider: Provider, post_client: dict[str, Any]
) -> None:
    """Without the method setting the secret goes in HTTP Basic, which this client may not use:
    the sign-in fails at the token request (and the app says so, with no detail)."""
    app = make_app(
        provider,
        YIHAO_CLIENT_ID=post_client["client_id"],
        YIHAO_CLIENT_SECRET=post_client["client_secret"],
    )
    browser = app.test_client()
    to_provider = browser.get(browser.get("/private").headers["Location"])
    callback = Person(provider.citizen_number).sign_in(to_provider.headers["Location"])
    failed = browser.get(callback)
    assert failed.status_code == 502 and "Sign-in failed" in failed.get_data(as_text=True)
    assert browser.get("/private").status_code == 302
