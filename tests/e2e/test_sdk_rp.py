"""End to end: the SDK's ``RelyingParty`` against a real ``idp serve`` on a loopback port, on
plain HTTP and behind nginx terminating TLS (``shaped_provider``).

The citizen's browser is ``requests`` (``Person``): it follows the provider's redirects, fills in
the login, enterprise and consent forms, and stops at the first redirect that leaves the
provider, whose URL it hands to ``RelyingParty.finish`` as a real browser would hand it to the
relying service. The redirect URIs are never contacted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jws
from yihao.oidc import (
    AuthorizationError,
    AuthorizationStart,
    DiscoveryError,
    IdTokenError,
    IdTokenReason,
    Login,
    RelyingParty,
    TokenError,
    UserInfoError,
)

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    CITIZEN_NAME,
    Provider,
    free_port,
    provider_env,
    run_idp,
    serving,
)
from tests.support.identities import new_id_number, new_uscc
from tests.support.person import Person

pytestmark = pytest.mark.e2e

REDIRECT_URI = "http://127.0.0.1:9/sdk-rp/cb"
POST_LOGOUT_URI = "http://127.0.0.1:9/sdk-rp/bye"
SCOPES = "openid profile phone enterprise"
ENTERPRISE_NAME = "一号通行测试有限公司"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with some query parameters replaced, or removed when given None."""
    params = {**query_of(url), **changes}
    kept = {k: v for k, v in params.items() if v is not None}
    return url.split("?", 1)[0] + "?" + urlencode(kept)


@dataclass(frozen=True)
class Registered:
    client_id: str
    client_secret: str | None


def register(env: dict[str, str], *args: str) -> Registered:
    made = run_idp(env, "client", "add", *args)
    return Registered(made["client_id"], made.get("client_secret"))


@pytest.fixture(scope="module")
def client(shaped_provider: Provider) -> Registered:
    return register(
        shaped_provider.env,
        *("--name", "SDK relying party", "--scope", SCOPES),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", REDIRECT_URI, "--post-logout-redirect-uri", POST_LOGOUT_URI),
    )


@pytest.fixture(scope="module")
def enterprise(shaped_provider: Provider) -> str:
    """An enterprise the e2e citizen represents; its USCC."""
    uscc = new_uscc()
    run_idp(
        shaped_provider.env,
        *("enterprise", "add", "--uscc", uscc, "--name", ENTERPRISE_NAME),
        *("--legal-rep-id-number", shaped_provider.citizen_number),
    )
    return uscc


def relying_party(shaped_provider: Provider, client: Registered, **options: Any) -> RelyingParty:
    options.setdefault("scope", "openid profile phone")
    options.setdefault("session", shaped_provider.http())
    return RelyingParty(
        shaped_provider.issuer, client.client_id, REDIRECT_URI, client.client_secret, **options
    )


def person(shaped_provider: Provider) -> Person:
    return Person(
        shaped_provider.citizen_number, shaped_provider.citizen_password, shaped_provider.http()
    )


def sign_in(rp: RelyingParty, browser: Person, **start: Any) -> tuple[AuthorizationStart, str]:
    started = rp.start(**start)
    return started, browser.sign_in(started.url)


def login(rp: RelyingParty, browser: Person, **start: Any) -> Login:
    started, callback = sign_in(rp, browser, **start)
    return rp.finish(callback, started)


def test_sign_in_userinfo_refresh_revoke_and_logout(
    shaped_provider: Provider, client: Registered
) -> None:
    rp, browser = relying_party(shaped_provider, client), person(shaped_provider)
    started = rp.start(max_age=600)
    query = query_of(started.url)
    assert query["code_challenge_method"] == "S256" and query["max_age"] == "600"
    assert query["nonce"] == started.nonce and query["state"] == started.state
    assert started.code_verifier not in started.url
    callback = browser.sign_in(started.url)
    assert callback.startswith(REDIRECT_URI + "?") and query_of(callback)["iss"] == rp.issuer

    signed_in = rp.finish(callback, started)
    subject = signed_in.subject
    assert subject.entity_type == "person" and subject.name == CITIZEN_NAME
    assert subject.enterprise is None and subject.acting is None
    assert signed_in.claims["sub"] == subject.sub and signed_in.claims["nonce"] == started.nonce
    assert signed_in.claims["phone_number"] == "13800000000"
    tokens = signed_in.tokens
    assert tokens.scope is not None and set(tokens.scope.split()) == {"openid", "profile", "phone"}
    assert tokens.expires_at is not None and 0 < tokens.expires_at - time.time() <= 600
    assert tokens.access_token not in repr(signed_in) and CITIZEN_NAME not in repr(signed_in)

    info = rp.userinfo(tokens.access_token, expected_sub=subject.sub)
    assert info["sub"] == subject.sub and info["name"] == CITIZEN_NAME
    with pytest.raises(UserInfoError):
        rp.userinfo(tokens.access_token, expected_sub="someone-else")

    assert tokens.refresh_token is not None
    fresh = rp.refresh(tokens.refresh_token, subject=subject.sub)
    assert fresh.refresh_token not in (None, tokens.refresh_token)
    assert fresh.access_token != tokens.access_token
    # OIDC Core 12.2: a new ID token about the same sign-in, validated by refresh() itself.
    assert fresh.id_token is not None and fresh.id_token != tokens.id_token
    again = rp.validate_id_token(fresh.id_token)
    assert again["sub"] == subject.sub and again["sid"] == signed_in.claims["sid"]
    with pytest.raises(TokenError) as stale:  # the previous access token stopped working
        rp.userinfo(tokens.access_token)
    assert stale.value.error == "invalid_token" and tokens.access_token not in str(stale.value)
    assert rp.userinfo(fresh.access_token)["sub"] == subject.sub

    assert fresh.refresh_token is not None
    rp.revoke(fresh.refresh_token, "refresh_token")  # RFC 7009: ends the whole grant
    with pytest.raises(TokenError) as revoked:
        rp.refresh(fresh.refresh_token)
    assert revoked.value.error == "invalid_grant"
    with pytest.raises(TokenError):
        rp.userinfo(fresh.access_token)

    assert tokens.id_token is not None
    bye = browser.get(rp.logout_url(tokens.id_token, POST_LOGOUT_URI, state="s-1"))
    assert bye.status_code == 302, bye.text[:500]
    assert bye.headers["Location"] == POST_LOGOUT_URI + "?state=s-1"
    silent, answer = sign_in(rp, browser, prompt="none")  # the provider session is over
    with pytest.raises(AuthorizationError) as ended:
        rp.finish(answer, silent)
    assert ended.value.error == "login_required"


def test_authorization_responses_are_checked_before_use(
    shaped_provider: Provider, client: Registered
) -> None:
    rp, browser = relying_party(shaped_provider, client), person(shaped_provider)
    started, answer = sign_in(rp, browser, prompt="none")  # no session: an error response
    assert query_of(answer)["error"] == "login_required"
    cases: list[tuple[str | dict[str, str], AuthorizationStart, str]] = [
        (answer, rp.start(), "state_mismatch"),
        (with_query(answer, iss="https://evil.example"), started, "issuer_mismatch"),
        (with_query(answer, iss=None), started, "missing_issuer"),  # RFC 9207 2.4
        (answer + "&state=" + started.state, started, "duplicate_parameter"),
        (query_of(answer), started, "login_required"),  # a parsed query works too
    ]
    for callback, pending, error in cases:
        with pytest.raises(AuthorizationError) as caught:
            rp.finish(callback, pending)
        assert caught.value.error == error


def test_each_id_token_check_rejects_a_real_token(
    shaped_provider: Provider, client: Registered
) -> None:
    browser = person(shaped_provider)
    rp = relying_party(shaped_provider, client)

    started, callback = sign_in(rp, browser)
    other_nonce = replace(started, nonce=rp.start().nonce)
    assert rejection(lambda: rp.finish(callback, other_nonce)) is IdTokenReason.NONCE

    late = relying_party(shaped_provider, client, clock=lambda: time.time() + 3600)
    assert rejection(lambda: login(late, browser)) is IdTokenReason.EXPIRED

    early = relying_party(shaped_provider, client, clock=lambda: time.time() - 3600)
    assert rejection(lambda: login(early, browser)) is IdTokenReason.ISSUED_AT

    # max_age=60 with a clock 400 s ahead: the token is still valid, the sign-in too old.
    ahead = relying_party(shaped_provider, client, clock=lambda: time.time() + 400)
    assert rejection(lambda: login(ahead, browser, max_age=60)) is IdTokenReason.AUTH_TIME

    # Another client's relying party: a real token, but not for us.
    theirs = RelyingParty(
        shaped_provider.issuer,
        shaped_provider.client_id,
        shaped_provider.redirect_uri,
        shaped_provider.client_secret,
        shaped_provider.scope,
        session=shaped_provider.http(),
    )
    id_token = login(theirs, browser).tokens.id_token
    assert id_token is not None
    assert rejection(lambda: rp.validate_id_token(id_token)) is IdTokenReason.AUDIENCE


def rejection(call: Callable[[], object]) -> IdTokenReason:
    with pytest.raises(IdTokenError) as caught:
        call()
    return caught.value.reason


def test_an_enterprise_login_names_the_person_acting(
    shaped_provider: Provider, client: Registered, enterprise: str
) -> None:
    rp, browser = relying_party(shaped_provider, client), person(shaped_provider)
    as_person = login(rp, browser).subject
    signed_in = login(rp, browser, scope="openid profile enterprise")
    subject = signed_in.subject
    assert subject.entity_type == "enterprise" and subject.sub != as_person.sub
    assert subject.enterprise is not None and subject.enterprise.uscc == enterprise
    assert subject.enterprise.name == ENTERPRISE_NAME == subject.name
    assert subject.acting is not None
    assert subject.acting.sub == as_person.sub and subject.acting.name == CITIZEN_NAME
    assert "gender" not in signed_in.claims  # the top level never carries the person's claims


def test_discovery_is_cached_and_checked(shaped_provider: Provider, client: Registered) -> None:
    fetched: list[str] = []
    http = shaped_provider.http()
    http.hooks["response"].append(lambda response, *a, **k: fetched.append(response.url))
    now = [time.time()]
    rp = relying_party(
        shaped_provider, client, session=http, discovery_ttl=300, clock=lambda: now[0]
    )
    rp.start()
    rp.start()
    assert len(fetched) == 1
    now[0] += 301
    rp.start()
    assert len(fetched) == 2
    assert rp.metadata.iss_parameter_supported and "RS256" in rp.metadata.id_token_algs

    impostor = RelyingParty(
        shaped_provider.issuer + "/", client.client_id, REDIRECT_URI, session=shaped_provider.http()
    )
    with pytest.raises(DiscoveryError):  # OIDC Discovery 4.3: the issuer must match exactly
        impostor.start()


def test_a_public_client_with_es256_id_tokens(shaped_provider: Provider) -> None:
    public = register(
        shaped_provider.env,
        *("--name", "SDK public client", "--public", "--id-token-alg", "ES256"),
        *("--scope", "openid profile", "--redirect-uri", REDIRECT_URI),
    )
    assert public.client_secret is None
    rp = relying_party(shaped_provider, public, scope="openid profile")
    signed_in = login(rp, person(shaped_provider))
    assert signed_in.tokens.id_token is not None
    assert header_of(signed_in.tokens.id_token)["alg"] == "ES256"
    assert signed_in.subject.name == CITIZEN_NAME


def header_of(token: str) -> dict[str, Any]:
    return dict(jws.extract_compact(token.encode()).protected)


@dataclass(frozen=True)
class Isolated:
    """A provider of its own, whose key rotation cannot disturb the shared one's tests."""

    issuer: str
    env: dict[str, str]
    client: Registered
    citizen: str


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Isolated]:
    """Two workers with a 1 s key cache (the least allowed), so a rotation is in effect a second
    after ``idp keys rotate``; the shared provider's 30 s cache would make the test wait that long.
    Both workers must publish the new key before either signs with it."""
    instance = tmp_path_factory.mktemp("sdk-rotation")
    port = free_port()
    env = provider_env(f"sqlite:///{instance / 'yihao.db'}", f"http://127.0.0.1:{port}", instance)
    env["IDP_KEY_CACHE_SECONDS"] = "1"
    run_idp(env, "db", "upgrade")
    number = new_id_number()
    run_idp(
        env,
        *("person", "add", "--id-number", number, "--name", CITIZEN_NAME, "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    registered = register(env, "--name", "rotation", "--redirect-uri", REDIRECT_URI)
    with serving(env, port, Path(instance) / "server.log", workers=2) as node:
        yield Isolated(node.base_url, env, registered, number)


def test_a_rotated_signing_key_is_fetched_without_a_new_relying_party(
    isolated: Isolated,
) -> None:
    fetched: list[str] = []
    http = requests.Session()
    http.hooks["response"].append(lambda response, *a, **k: fetched.append(response.url))
    rp = RelyingParty(
        isolated.issuer,
        isolated.client.client_id,
        REDIRECT_URI,
        isolated.client.client_secret,
        session=http,
    )
    browser = Person(isolated.citizen)
    before = login(rp, browser).tokens.id_token
    jwks_uri = rp.metadata.jwks_uri
    assert before is not None and fetched.count(jwks_uri) == 1

    rotated = run_idp(isolated.env, "keys", "rotate")["new_keys"]
    time.sleep(2.2)  # the new key signs once it is two cache periods (1 s here) old
    after = login(rp, browser).tokens.id_token
    assert after is not None and header_of(after)["kid"] in rotated
    assert header_of(after)["kid"] != header_of(before)["kid"]
    assert fetched.count(jwks_uri) == 2  # one refetch, on meeting the unknown kid
