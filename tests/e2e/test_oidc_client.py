"""End to end: a real ``idp serve`` on a loopback port, driven by Authlib's OAuth 2.0 client as the
relying party and by ``requests`` as the person's browser, on SQLite and PostgreSQL.

The redirect URI (``http://127.0.0.1:9/cb``) is never contacted: the browser stops at the first
redirect that leaves the provider and hands its URL to the client, as a real browser would.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e.conftest import DISCOVERY_PATH, HTTP_TIMEOUT, Provider, free_port, serving
from tests.support.browser import csrf_of, origin_of

pytestmark = pytest.mark.e2e

T = TypeVar("T")

FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
#: Redirects and pages a single authorization may pass through (login, consent, resumes).
MAX_STEPS = 12
#: Rounds of each race; every round must come out the same way.
ROUNDS = 5


class UserAgent:
    """The person's browser: follows the provider's redirects, fills in the login and consent
    forms, and stops at the first redirect that leaves the provider."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.http = requests.Session()
        self.pages: list[str] = []

    def get(self, url: str, **params: str) -> requests.Response:
        return self.http.get(url, params=params, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def authorize(self, url: str) -> str:
        """Open an authorization URL and return the URL the provider finally sends the browser to
        outside itself (the client's redirect URI, with the response parameters)."""
        response = self.get(url)
        for _ in range(MAX_STEPS):
            if response.status_code in (302, 303):
                location = urljoin(response.url, response.headers["Location"])
                if urlsplit(location).netloc != urlsplit(response.url).netloc:
                    return location
                response = self.get(location)
                continue
            page = response.text
            assert response.status_code == 200, f"{response.status_code}: {page[:500]}"
            if 'name="password"' in page:
                self.pages.append("login")
                response = self.submit(
                    response,
                    username=self.provider.citizen_number,
                    password=self.provider.citizen_password,
                )
            elif 'name="decision"' in page:
                self.pages.append("consent")
                response = self.submit(response, decision="allow")
            else:
                raise AssertionError(f"unexpected page: {page[:500]}")
        raise AssertionError(f"no redirect to the client after {MAX_STEPS} steps")

    def submit(self, response: requests.Response, **fields: str) -> requests.Response:
        action = FORM_ACTION.search(response.text)
        assert action, "no form on the page"
        return self.http.post(
            urljoin(response.url, html.unescape(action.group(1))),
            data={"csrf_token": csrf_of(response.text), **fields},
            headers={"Origin": origin_of(response.url)},  # as a browser does on a form post
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture()
def metadata(provider: Provider) -> dict[str, Any]:
    response = requests.get(provider.issuer + DISCOVERY_PATH, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["issuer"] == provider.issuer
    return document


def new_client(provider: Provider) -> OAuth2Session:
    return OAuth2Session(
        provider.client_id,
        provider.client_secret,
        scope=provider.scope,
        redirect_uri=provider.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        default_timeout=HTTP_TIMEOUT,
    )


@dataclass
class Code:
    code: str
    verifier: str
    nonce: str


def obtain_code(
    provider: Provider, metadata: dict[str, Any], client: OAuth2Session, agent: UserAgent
) -> Code:
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = agent.authorize(url)
    assert callback.startswith(provider.redirect_uri + "?"), callback
    params = query_of(callback)
    assert params["state"] == state and params["iss"] == provider.issuer, params
    return Code(params["code"], verifier, nonce)


def id_token_claims(
    provider: Provider, metadata: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    """Verify an ID token against the published JWKS and the OIDC Core 3.1.3.7 rules."""
    jwks = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT)
    assert jwks.status_code == 200
    token = jwt.decode(
        id_token,
        KeySet.import_key_set(jwks.json()),
        algorithms=metadata["id_token_signing_alg_values_supported"],
    )
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        at_hash={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def half_hash(value: str) -> str:
    """``at_hash`` for an RS256 or ES256 ID token (OIDC Core 3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


def basic(provider: Provider) -> tuple[str, str]:
    return (provider.client_id, provider.client_secret)


def introspect(provider: Provider, metadata: dict[str, Any], token: str) -> dict[str, Any]:
    response = requests.post(
        metadata["introspection_endpoint"],
        data={"token": token},
        auth=basic(provider),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def together(*calls: Callable[[], T]) -> list[T]:
    """Run the calls on their own threads, released at once by a barrier; their results."""
    barrier = threading.Barrier(len(calls), timeout=HTTP_TIMEOUT)
    results: list[T | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3 * HTTP_TIMEOUT)
        assert not thread.is_alive(), "a request thread did not finish"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def token_call(provider: Provider, url: str, data: dict[str, str]) -> Callable[[], Answer]:
    """A token endpoint POST on its own connection, to be run later."""
    session = requests.Session()

    def call() -> Answer:
        response = session.post(url, data=data, auth=basic(provider), timeout=HTTP_TIMEOUT)
        return Answer(response.status_code, response.json())

    return call


def redemption(provider: Provider, url: str, code: Code) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": provider.redirect_uri,
        "code_verifier": code.verifier,
    }


def test_code_flow_with_a_real_client(provider: Provider, metadata: dict[str, Any]) -> None:
    client = new_client(provider)
    agent = UserAgent(provider)

    # Authorization request; the browser signs in and consents.
    verifier, nonce = generate_token(48), generate_token(16)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = agent.authorize(url)
    # Consent is shown unless an earlier test on this provider already granted it.
    assert agent.pages in (["login", "consent"], ["login"]), agent.pages
    assert callback.startswith(provider.redirect_uri + "?"), callback
    params = query_of(callback)
    assert params["iss"] == provider.issuer  # RFC 9207 2
    assert params["state"] == state

    # Token request: Authlib parses the callback (checking state) and sends the PKCE verifier.
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    assert token["token_type"].lower() == "bearer"
    claims = id_token_claims(provider, metadata, token["id_token"], nonce)
    assert claims["at_hash"] == half_hash(token["access_token"])
    assert provider.citizen_number not in str(claims)

    # UserInfo with the access token the session now holds.
    info = client.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["phone_number"] == "13800000000"

    # Refresh: a new refresh token every time.
    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert refreshed["access_token"] != token["access_token"]
    new_access = refreshed["access_token"]
    assert introspect(provider, metadata, new_access)["active"] is True

    # Revocation (RFC 7009), then introspection (RFC 7662) with client authentication.
    revoked = client.revoke_token(
        metadata["revocation_endpoint"], token=new_access, token_type_hint="access_token"
    )
    assert revoked.status_code == 200, revoked.text
    introspected = client.introspect_token(metadata["introspection_endpoint"], token=new_access)
    assert introspected.status_code == 200
    assert introspected.json()["active"] is False
    gone = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {new_access}"},
        timeout=HTTP_TIMEOUT,
    )
    assert gone.status_code == 401

    # The refresh token that was already used is refused.
    with pytest.raises(OAuthError) as replay:
        client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert replay.value.error == "invalid_grant"

    # RP-initiated logout with id_token_hint: straight back to the registered URI, with state.
    logout_state = generate_token(8)
    logout = agent.get(
        metadata["end_session_endpoint"],
        id_token_hint=token["id_token"],
        post_logout_redirect_uri=provider.post_logout_redirect_uri,
        state=logout_state,
    )
    assert logout.status_code == 302, logout.text[:500]
    location = logout.headers["Location"]
    assert location.startswith(provider.post_logout_redirect_uri + "?"), location
    assert query_of(location)["state"] == logout_state

    # The provider session is over: a silent authorization request needs a login.
    silent_url, silent_state = client.create_authorization_url(
        metadata["authorization_endpoint"],
        code_verifier=generate_token(48),
        nonce=generate_token(16),
        prompt="none",
    )
    silent = agent.get(silent_url)
    assert silent.status_code == 302, silent.text[:500]
    assert silent.headers["Location"].startswith(provider.redirect_uri + "?")
    answer = query_of(silent.headers["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == silent_state and answer["iss"] == provider.issuer


def test_two_concurrent_redemptions_of_one_code_leave_no_live_token(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    # RFC 6749 4.1.2: a code used twice is denied and what it yielded is revoked. Racing
    # redemptions are a use twice: one is refused outright, and the other's tokens are either
    # refused too or already revoked, depending on which side of the revocation it saved them.
    client, agent = new_client(provider), UserAgent(provider)
    url = metadata["token_endpoint"]
    for _ in range(ROUNDS):
        code = obtain_code(provider, metadata, client, agent)
        data = redemption(provider, url, code)
        answers = together(token_call(provider, url, data), token_call(provider, url, data))
        assert [a.status for a in answers].count(200) <= 1, answers
        assert all(a.body["error"] == "invalid_grant" for a in answers if a.status == 400), answers
        for winner in (a for a in answers if a.status == 200):
            for token in (winner.body["access_token"], winner.body["refresh_token"]):
                assert introspect(provider, metadata, token)["active"] is False


def test_reusing_a_redeemed_code_revokes_its_tokens(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    client, agent = new_client(provider), UserAgent(provider)
    url = metadata["token_endpoint"]
    code = obtain_code(provider, metadata, client, agent)
    first = token_call(provider, url, redemption(provider, url, code))()
    assert first.status == 200, first
    assert introspect(provider, metadata, first.body["access_token"])["active"] is True

    again = token_call(provider, url, redemption(provider, url, code))()
    assert again.status == 400 and again.body["error"] == "invalid_grant", again
    # RFC 6749 4.1.2: the tokens issued for the code are revoked.
    assert introspect(provider, metadata, first.body["access_token"])["active"] is False
    assert introspect(provider, metadata, first.body["refresh_token"])["active"] is False


def test_two_concurrent_refreshes_with_one_token_at_most_one_wins(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    client, agent = new_client(provider), UserAgent(provider)
    url = metadata["token_endpoint"]
    for _ in range(ROUNDS):
        code = obtain_code(provider, metadata, client, agent)
        tokens = token_call(provider, url, redemption(provider, url, code))()
        assert tokens.status == 200, tokens
        data = {"grant_type": "refresh_token", "refresh_token": tokens.body["refresh_token"]}
        answers = together(token_call(provider, url, data), token_call(provider, url, data))
        assert sum(a.status == 200 for a in answers) <= 1, answers
        for answer in answers:
            assert answer.status == 200 or answer.body["error"] == "invalid_grant", answer

        replay = token_call(provider, url, data)()
        assert replay.status == 400 and replay.body["error"] == "invalid_grant", replay


def test_a_code_from_one_node_is_redeemed_at_another(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    """Two ``idp serve`` processes sharing the database and secrets: nothing lives in a node."""
    client, agent = new_client(provider), UserAgent(provider)
    code = obtain_code(provider, metadata, client, agent)
    token_path = urlsplit(metadata["token_endpoint"]).path
    userinfo_path = urlsplit(metadata["userinfo_endpoint"]).path
    with serving(
        provider.env, free_port(), provider.instance_dir / "server-b.log", workers=1
    ) as node_b:
        url = node_b.base_url + token_path
        answer = token_call(provider, url, redemption(provider, url, code))()
        assert answer.status == 200, answer
        info = requests.get(
            node_b.base_url + userinfo_path,
            headers={"Authorization": f"Bearer {answer.body['access_token']}"},
            timeout=HTTP_TIMEOUT,
        )
        assert info.status_code == 200, info.text
    claims = id_token_claims(provider, metadata, answer.body["id_token"], code.nonce)
    assert claims["sub"] == info.json()["sub"]
    # And node A knows the token node B issued.
    assert introspect(provider, metadata, answer.body["access_token"])["active"] is True
