"""Interoperability with a certified relying-party library nobody here wrote: panva's
``openid-client`` 6.x (OpenID Certified) on Node.js, against a real ``idp serve``, on SQLite and
PostgreSQL, on plain HTTP and behind nginx terminating TLS (Node trusts the fixture's CA through
``NODE_EXTRA_CA_CERTS``).

``tests/e2e/node/rp.mjs`` is the relying party; every check of the provider's answers is the
library's own: the discovery document's issuer, ``state``, the RFC 9207 ``iss`` response
parameter, PKCE (S256), the ID token (signature against the JWKS, ``iss``, ``aud``, ``azp``,
``exp``, ``nonce``), the UserInfo ``sub`` and the refresh-token grant; for the FAPI 2.0 client,
``private_key_jwt`` and DPoP with the provider's nonces, which the library retries by itself.
The person's part is played by Debian's Chromium through Playwright: the login form, then consent.
The redirect URI is never contacted: the browser's request for it is answered inside Playwright,
and its URL, with the response parameters, goes to the relying party.

The Node dependencies come from ``make node-deps`` (``npm ci`` against the committed lock file);
tests never reach the network beyond loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from joserfc.jwk import ECKey
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import Provider, run_idp
from tests.support.client_keys import write_client_key

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).parent / "node"
RP_SCRIPT = NODE_DIR / "rp.mjs"
#: Never listened on: the browser's request for it is fulfilled by Playwright.
REDIRECT_URI = "http://127.0.0.1:9/node-cb"
SCOPE = "openid profile"
#: What the browser shows at the redirect URI.
CALLBACK_BODY = "callback reached"
#: How long one ``node rp.mjs`` command may run.
NODE_TIMEOUT = 30.0
#: Playwright gives up on any single wait after this many milliseconds.
STEP_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class NodeClient:
    """A confidential client registered for openid-client."""

    issuer: str
    client_id: str
    client_secret: str
    #: The CA file Node must trust behind the TLS proxy (NODE_EXTRA_CA_CERTS), else None.
    ca_bundle: str | None


@dataclass(frozen=True)
class Started:
    """What ``rp.mjs start`` keeps for the callback: the URL and its one-time values."""

    url: str
    state: str
    nonce: str
    verifier: str


def node_executable() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail(
            "node is not on PATH: this test runs panva's openid-client on Node.js 20. "
            "Install Node.js 20 and npm, then `make node-deps` (or `make test`).",
            pytrace=False,
        )
    if not (NODE_DIR / "node_modules" / "openid-client" / "package.json").is_file():
        pytest.fail(
            f"openid-client is not installed in {NODE_DIR}: run `make node-deps` "
            "(or `make test`, which runs it first).",
            pytrace=False,
        )
    return found


def run_rp(client: NodeClient, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if client.ca_bundle:  # behind the TLS proxy: trust the fixture's CA (and only it)
        env["NODE_EXTRA_CA_CERTS"] = client.ca_bundle
    return subprocess.run(
        [node_executable(), str(RP_SCRIPT), *args],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )


def rp_ok(client: NodeClient, *args: str) -> dict[str, Any]:
    done = run_rp(client, *args)
    assert done.returncode == 0, f"rp.mjs {args[0]} exited {done.returncode}:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def rp_fails(client: NodeClient, *args: str) -> str:
    """Run a command that must fail; its error message."""
    done = run_rp(client, *args)
    assert done.returncode == 1, (
        f"rp.mjs {args[0]} exited {done.returncode}, not 1:\n{done.stdout}\n{done.stderr}"
    )
    assert not done.stdout, done.stdout
    return done.stderr


@pytest.fixture(scope="module")
def node_client(shaped_provider: Provider) -> NodeClient:
    provider = shaped_provider
    node_executable()  # a missing Node.js or openid-client fails before anything else
    client = run_idp(
        provider.env,
        *("client", "add", "--name", "openid-client (Node.js)", "--scope", SCOPE),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", REDIRECT_URI),
    )
    assert client["client_id"] and client["client_secret"], client
    return NodeClient(
        provider.issuer, client["client_id"], client["client_secret"], provider.ca_bundle
    )


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser (no provider session) whose requests to the redirect URI never leave it."""
    context = chromium.new_context(locale="zh-CN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.route(_is_callback, _answer_callback)
    try:
        yield context.new_page()
    finally:
        context.close()


def _is_callback(url: str) -> bool:
    return url.startswith(REDIRECT_URI + "?")


def _answer_callback(route: Route) -> None:
    route.fulfill(status=200, content_type="text/plain", body=CALLBACK_BODY)


def start(client: NodeClient) -> Started:
    out = rp_ok(
        client, "start", client.issuer, client.client_id, client.client_secret, REDIRECT_URI, SCOPE
    )
    return Started(out["url"], out["state"], out["nonce"], out["verifier"])


def sign_in(page: Page, provider: Provider, url: str) -> str:
    """Open the authorization URL, sign in and allow; the URL the provider sent the browser to."""
    assert url.startswith(provider.issuer + "/"), url
    page.goto(url)
    page.locator("#username").fill(provider.citizen_number)
    page.locator("#password").fill(provider.citizen_password)
    page.locator("form button[type=submit]").click()
    # Consent is remembered per person and client: only the first sign-in asks for it.
    allow = page.locator('button[name="decision"][value="allow"]')
    expect(allow.or_(page.get_by_text(CALLBACK_BODY))).to_be_visible()
    if allow.is_visible():
        allow.click()
    page.wait_for_url(_is_callback)
    return page.url


def finish(client: NodeClient, callback: str, state: str, nonce: str, verifier: str) -> list[str]:
    return [
        "finish",
        client.issuer,
        client.client_id,
        client.client_secret,
        callback,
        state,
        nonce,
        verifier,
    ]


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (or removed, for None)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_openid_client_signs_in_reads_userinfo_and_refreshes(
    shaped_provider: Provider, node_client: NodeClient, page: Page
) -> None:
    provider = shaped_provider
    started = start(node_client)
    callback = sign_in(page, provider, started.url)
    params = dict(parse_qsl(urlsplit(callback).query))
    assert params["iss"] == provider.issuer and params["state"] == started.state, params

    result = rp_ok(
        node_client, *finish(node_client, callback, started.state, started.nonce, started.verifier)
    )

    claims = result["claims"]
    assert isinstance(claims["sub"], str) and claims["sub"]
    assert claims["iss"] == provider.issuer
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert node_client.client_id in aud
    assert claims["nonce"] == started.nonce
    userinfo = result["userinfo"]
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["name"] == provider.citizen_name
    refreshed = result["refreshed"]
    assert refreshed["has_access_token"] is True
    # OIDC Core 12.2, as openid-client checks it: a new ID token about the same sign-in.
    again = refreshed["id_token_claims"]
    for claim in ("sub", "auth_time", "acr", "amr"):
        assert again[claim] == claims[claim], claim
    assert claims["acr"] == "urn:yihao:acr:password" and claims["amr"] == ["pwd"]


def test_openid_client_rejects_what_it_must(
    shaped_provider: Provider, node_client: NodeClient, page: Page
) -> None:
    provider = shaped_provider
    started = start(node_client)
    callback = sign_in(page, provider, started.url)
    good = (started.state, started.nonce, started.verifier)

    # Refused before the token request, so the code stays unspent: the RFC 9207 iss parameter,
    # which the provider's metadata makes mandatory, and state.
    error = rp_fails(node_client, *finish(node_client, with_query(callback, iss=None), *good))
    assert '"iss"' in error and "missing" in error, error
    evil = with_query(callback, iss="http://127.0.0.1:1")
    error = rp_fails(node_client, *finish(node_client, evil, *good))
    assert '"iss"' in error, error
    error = rp_fails(node_client, *finish(node_client, callback, "not-the-state", *good[1:]))
    assert '"state"' in error, error

    # A wrong nonce is found in the ID token, after the code has been redeemed.
    error = rp_fails(
        node_client, *finish(node_client, callback, started.state, "not-the-nonce", *good[2:])
    )
    assert '"nonce"' in error, error
    # The code is one-time: with everything right, its second redemption is refused.
    error = rp_fails(node_client, *finish(node_client, callback, *good))
    assert "invalid_grant" in error, error


def _initial_access_token(provider: Provider) -> str:
    """What an operator hands a developer: a client-manager's API call, as the runbook says."""
    admin = run_idp(
        provider.env,
        *("client", "add", "--name", "onboarding desk", "--scope", "admin:client-manager"),
        *("--grant-type", "client_credentials", "--allow-reserved", "admin:client-manager"),
    )
    http = provider.http()
    token = http.post(
        provider.issuer + "/token",
        data={"grant_type": "client_credentials", "scope": "admin:client-manager"},
        auth=(admin["client_id"], admin["client_secret"]),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    issued = http.post(
        provider.issuer + "/admin/api/initial-access-tokens",
        json={"uses": 1, "note": "openid-client e2e"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    value: str = issued.json()["initial_access_token"]
    return value


def test_openid_client_registers_itself_then_signs_in(
    shaped_provider: Provider, page: Page
) -> None:
    """RFC 7591 with the library's own registration request, then the whole flow as that client;
    the initial access token is good for one registration only."""
    provider = shaped_provider
    node_executable()
    iat = _initial_access_token(provider)
    registered = rp_ok(
        NodeClient(provider.issuer, "", "", provider.ca_bundle),
        *("register", provider.issuer, iat, REDIRECT_URI, SCOPE),
    )
    assert set(registered["scope"].split()) == {"openid"}  # profile waits for an admin
    client = NodeClient(
        provider.issuer, registered["client_id"], registered["client_secret"], provider.ca_bundle
    )
    started = rp_ok(
        client,
        "start",
        client.issuer,
        client.client_id,
        client.client_secret,
        REDIRECT_URI,
        "openid",
    )
    callback = sign_in(page, provider, started["url"])
    result = rp_ok(
        client, *finish(client, callback, started["state"], started["nonce"], started["verifier"])
    )
    assert result["claims"]["aud"] in (client.client_id, [client.client_id])
    again = rp_fails(
        NodeClient(provider.issuer, "", "", provider.ca_bundle),
        *("register", provider.issuer, iat, REDIRECT_URI, SCOPE),
    )
    assert "invalid_token" in again or "401" in again


@pytest.fixture(scope="module")
def fapi2_profile(shaped_provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FAPI 2.0 client for rp.mjs: registered with ``--profile fapi2`` (private_key_jwt with its
    public key, PAR and DPoP required), and its profile file (the client's and the DPoP private
    keys) for ``fapi2-start``/``fapi2-finish``."""
    provider = shaped_provider
    node_executable()
    folder = tmp_path_factory.mktemp("fapi2-client")
    client_key = write_client_key(folder, "openid-client-fapi2")
    jwks = folder / "jwks.json"
    registered = run_idp(
        provider.env,
        *("client", "add", "--name", "openid-client FAPI 2.0", "--scope", SCOPE),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", REDIRECT_URI),
        *("--profile", "fapi2", "--auth-method", "private_key_jwt", "--jwks-file", str(jwks)),
    )
    profile = folder / "profile.json"
    profile.write_text(
        json.dumps(
            {
                "issuer": provider.issuer,
                "client_id": registered["client_id"],
                "client_key": json.loads(client_key.read_text()),
                "dpop_key": ECKey.generate_key("P-256").as_dict(private=True),
            }
        )
    )
    return profile


def test_openid_client_as_a_fapi2_client_with_par_private_key_jwt_and_dpop(
    shaped_provider: Provider, fapi2_profile: Path, page: Page
) -> None:
    """The FAPI 2.0 client's part: a pushed authorization request, private_key_jwt, DPoP-bound
    tokens with server nonces (IDP_DPOP_NONCE is on by default), UserInfo with the DPoP scheme,
    and a bound refresh."""
    provider = shaped_provider
    runner = NodeClient(provider.issuer, "", "", provider.ca_bundle)
    started = rp_ok(runner, "fapi2-start", str(fapi2_profile), REDIRECT_URI, SCOPE)
    # RFC 9126 4: what the browser carries is the client and the pushed request, nothing else.
    pushed = dict(parse_qsl(urlsplit(started["url"]).query))
    assert set(pushed) == {"client_id", "request_uri"}, pushed
    assert pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert [(e["path"], e["status"]) for e in started["exchanges"]][-1] == ("/par", 201)
    callback = sign_in(page, provider, started["url"])
    result = rp_ok(
        runner,
        *("fapi2-finish", str(fapi2_profile), callback),
        *(started["state"], started["nonce"], started["verifier"]),
    )

    assert result["token_type"].lower() == "dpop" == result["refreshed"]["token_type"].lower()
    assert result["userinfo"]["sub"] == result["claims"]["sub"]
    assert result["userinfo"]["name"] == provider.citizen_name
    assert result["refreshed"]["has_access_token"] is True
    # RFC 9449 8: the first proof had no nonce and was answered use_dpop_nonce; the library
    # retried with ours, and every later proof carried one and went through the first time.
    exchanges = [e for e in result["exchanges"] if e["path"] in ("/token", "/userinfo")]
    first, *rest = exchanges
    assert (first["path"], first["status"], first.get("error")) == ("/token", 400, "use_dpop_nonce")
    assert first["proof_nonce"] is None
    assert [(e["path"], e["status"]) for e in rest] == [
        ("/token", 200),
        ("/userinfo", 200),
        ("/token", 200),
    ]
    assert all(e["proof_nonce"] for e in rest), rest
    # RFC 9449 7.1: the refreshed token (the first one died with the refresh) is no bearer token.
    refused = provider.http().get(
        provider.issuer + "/userinfo",
        headers={"Authorization": f"Bearer {result['refreshed']['access_token']}"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("DPoP "), refused.headers
