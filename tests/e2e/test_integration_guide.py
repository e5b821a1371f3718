"""Every Python sample in docs/integration.md, run as written against a real provider.

Samples are the fenced ``python`` blocks, each announced by ``<!-- sample: NAME -->``. A block
without a name fails the first test, so no sample can stay untested. A sample runs with the
names the guide says it expects (its environment variables, or the ``api`` session and ``ident``
of the e-certificate samples) and is then driven the way a developer would drive it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc.jwk import RSAKey
from yihao import qr
from yihao.flask_rp import SESSION_ID, YihaoLogin, store_key
from yihao.oidc import RelyingParty

from tests.e2e.conftest import HTTP_TIMEOUT, Provider, run_idp
from tests.support.identities import new_uscc
from tests.support.person import Person

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
SAMPLE = re.compile(r"<!-- sample: ([a-z0-9-]+) -->\n```python\n(.*?)\n```", re.S)
BLOCK = re.compile(r"```python\n")
APP_BASE = "http://127.0.0.1:8000"


def samples() -> dict[str, str]:
    return dict(SAMPLE.findall(GUIDE.read_text(encoding="utf-8")))


def run(name: str, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(samples()[name], f"integration.md:{name}", "exec"), namespace)  # noqa: S102
    return namespace


def test_every_python_sample_is_named() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert len(BLOCK.findall(text)) == len(SAMPLE.findall(text)) == len(samples()) == 8


@pytest.fixture(scope="module")
def web_client(provider: Provider) -> dict[str, Any]:
    return run_idp(
        provider.env,
        *("client", "add", "--name", "指南示例 Guide", "--scope", "openid profile"),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", f"{APP_BASE}/callback", "--post-logout-redirect-uri", f"{APP_BASE}/"),
    )


@pytest.fixture()
def app_env(
    monkeypatch: pytest.MonkeyPatch, provider: Provider, web_client: dict[str, Any]
) -> Iterator[None]:
    monkeypatch.setenv("APP_SECRET_KEY", "guide-test-secret")
    monkeypatch.setenv("YIHAO_ISSUER", provider.issuer)
    monkeypatch.setenv("YIHAO_CLIENT_ID", web_client["client_id"])
    monkeypatch.setenv("YIHAO_CLIENT_SECRET", web_client["client_secret"])
    yield


def _sign_in(app: Any, provider: Provider, start: str) -> Any:
    """Browser at the app (Flask test client) and at the provider (requests), like a person."""
    browser = app.test_client()
    response = browser.get(start)
    while response.status_code == 302 and not response.headers["Location"].startswith("http"):
        response = browser.get(response.headers["Location"])
    callback = Person(provider.citizen_number).sign_in(response.headers["Location"])
    assert callback.startswith(f"{APP_BASE}/callback?"), callback
    back = browser.get(callback.removeprefix(APP_BASE))
    assert back.status_code == 302, back.get_data(as_text=True)
    return browser


@pytest.mark.usefixtures("app_env")
def test_the_sdk_quick_start_signs_a_citizen_in(provider: Provider) -> None:
    app = run("quickstart", {"__name__": "guide_quickstart"})["app"]
    browser = _sign_in(app, provider, "/")
    page = browser.get("/").get_data(as_text=True)
    assert f"你好，{provider.citizen_name}" in page


@pytest.mark.usefixtures("app_env")
def test_the_scope_and_refresh_sample_refreshes_and_sends_a_revoked_grant_to_sign_in(
    provider: Provider,
) -> None:
    app = run("refresh-scope", run("quickstart", {"__name__": "guide_refresh"}))["app"]
    browser = _sign_in(app, provider, "/granted")
    with browser.session_transaction() as cookie:
        key = store_key(cookie[SESSION_ID])
    store = app.extensions["yihao"].store
    before = store.get(key)
    assert browser.get("/granted").get_data(as_text=True) == "openid profile"
    after = store.get(key)
    assert after.tokens.refresh_token not in (None, before.tokens.refresh_token)
    with app.test_request_context():  # the person withdraws: here, the grant is revoked
        YihaoLogin.relying_party().revoke(after.tokens.refresh_token, "refresh_token")
    again = browser.get("/granted")
    assert again.status_code == 302 and again.headers["Location"] == "/login?next=/granted"
    assert store.get(key) is None


@pytest.mark.usefixtures("app_env")
def test_the_authlib_example_signs_in_reads_userinfo_and_signs_out(provider: Provider) -> None:
    app = run("authlib-rp", {"__name__": "guide_authlib"})["app"]
    browser = _sign_in(app, provider, "/login")
    assert f"Hello {provider.citizen_name}" in browser.get("/").get_data(as_text=True)
    me = browser.get("/me").get_json()
    assert me["name"] == provider.citizen_name and me["sub"]
    out = browser.get("/logout")
    assert out.headers["Location"].startswith(provider.issuer + "/logout?")
    assert "id_token_hint=" in out.headers["Location"]


def test_the_private_key_jwt_variation_authenticates(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = RSAKey.generate_key(2048)
    (tmp_path / "rp-private.pem").write_bytes(key.as_pem(private=True))
    jwks = tmp_path / "rp-jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    client = run_idp(
        provider.env,
        *("client", "add", "--name", "指南 JWT", "--scope", "openid"),
        *("--grant-type", "client_credentials", "--auth-method", "private_key_jwt"),
        *("--jwks-file", str(jwks)),
    )
    meta = requests.get(
        provider.issuer + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT
    ).json()
    monkeypatch.chdir(tmp_path)
    names = {
        "CLIENT_ID": client["client_id"],
        "SCOPE": "openid",
        "REDIRECT_URI": f"{APP_BASE}/callback",
        "meta": meta,
        "OAuth2Session": OAuth2Session,
    }
    session = run("private-key-jwt", names)["client"]
    token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert token["access_token"] and "refresh_token" not in token


def test_the_e_certificate_samples_issue_and_verify_offline(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redirect = "http://127.0.0.1:9/guide/cb"
    made = run_idp(
        provider.env,
        *("client", "add", "--name", "指南证照", "--scope", "openid credentials"),
        *("--allow-reserved", "credentials"),
        *("--redirect-uri", redirect),
    )
    rp = RelyingParty(provider.issuer, made["client_id"], redirect, made["client_secret"])
    started = rp.start(scope="openid credentials")
    login = rp.finish(Person(provider.citizen_number).sign_in(started.url), started)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {login.tokens.access_token}"
    listing = api.get(provider.issuer + "/credentials", timeout=HTTP_TIMEOUT).json()
    ident = next(c["identifier"] for c in listing["certificates"] if c["type"] == "id_card")
    issued = run("issue", {"ISSUER": provider.issuer, "api": api, "ident": ident})
    assert issued["text"].startswith("YH1:")
    png = io.BytesIO()
    qr.render(issued["text"]).save(png, format="PNG")
    (tmp_path / "root-ca.pem").write_bytes((provider.certs_dir / "root-ca.pem").read_bytes())
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with redirect_stdout(printed):
        result = run("verify", {"ISSUER": provider.issuer, "camera_frame_png": png.getvalue()})[
            "result"
        ]
    assert result.valid, result.details
    assert result.fields["name"] == provider.citizen_name
    assert printed.getvalue().startswith("id_card.housing_fund 1.2.156.3005.2.")


def test_the_fapi2_samples_sign_an_enterprise_in_with_par_dpop_and_private_key_jwt(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run("fapi2-keys", {})
    run_idp(
        provider.env,
        *("enterprise", "add", "--uscc", new_uscc(), "--name", "指南银行客户有限公司"),
        *("--legal-rep-id-number", provider.citizen_number),
    )
    bank = run_idp(
        provider.env,
        *("client", "add", "--name", "指南 FAPI 2.0", "--scope", "openid enterprise"),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--profile", "fapi2", "--auth-method", "private_key_jwt"),
        *("--jwks-file", "bank-jwks.json", "--redirect-uri", f"{APP_BASE}/callback"),
    )
    monkeypatch.setenv("APP_SECRET_KEY", "guide-test-secret")
    monkeypatch.setenv("YIHAO_ISSUER", provider.issuer)
    monkeypatch.setenv("YIHAO_CLIENT_ID", bank["client_id"])
    app = run("fapi2-app", {"__name__": "guide_fapi2"})["app"]
    login = app.test_client().get("/login")
    pushed = dict(parse_qsl(urlsplit(login.headers["Location"]).query))
    assert set(pushed) == {"client_id", "request_uri"}  # RFC 9126 4: PAR, nothing else
    browser = _sign_in(app, provider, "/")
    answer = browser.get("/").get_json()
    assert answer["enterprise"] and answer["acting"] and answer["mandate"] is None
    with browser.session_transaction() as cookie:
        stored = app.extensions["yihao"].store.get(store_key(cookie[SESSION_ID]))
    copied = requests.get(  # RFC 9449 7.1: worthless as a bearer token
        provider.issuer + "/userinfo",
        headers={"Authorization": f"Bearer {stored.tokens.access_token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert copied.status_code == 401 and copied.headers["WWW-Authenticate"].startswith("DPoP")
