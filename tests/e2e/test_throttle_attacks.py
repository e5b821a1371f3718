"""Attacks on password sign-in against the real server (``idp serve``, 2 workers), with the
throttling counters in the database and in Redis.

The server trusts one proxy hop (``IDP_PROXY_HOPS=1``) and is reached directly, so each request
names its client address in ``X-Forwarded-For`` as nginx would; one test instead connects from
127.0.0.2, another loopback address. Hashes are counted by the ``sign_in_failed`` security events
the server logs (one per password checked and found wrong), never by timing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text

from idp.app import database_uri
from idp.config import load_settings
from idp.store.crypto import FieldCipher
from idp.store.subjects import person_index
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    HTTP_TIMEOUT,
    REDIRECT_URI,
    _fresh_database,
    _set_up,
    provider_env,
    run_idp,
    serving,
)
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import Authorization, csrf_of
from tests.support.identities import new_id_number
from tests.support.processes import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = "not the password at all"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class Target:
    base_url: str
    client_id: str
    env: dict[str, str]
    log: Path
    backend: str

    @property
    def origin(self) -> str:
        """The issuer's origin, which every form post names (a host name: passkeys need one)."""
        return self.env["IDP_ISSUER"]

    def account_failures(self, number: str) -> int:
        """The number's account counter, read where the server keeps it."""
        settings = load_settings(self.env)
        key = "account:" + person_index(FieldCipher(settings.data_key, settings.index_key), number)
        if self.backend == "redis":
            found = redis.Redis.from_url(REDIS_URL).hget(
                settings.session_key_prefix + "throttle:" + key, "count"
            )
            return int(found or 0)
        engine = create_engine(database_uri(settings.database_url))
        try:
            with engine.connect() as connection:
                count = connection.execute(
                    text("SELECT count FROM throttle_counters WHERE key = :key"), {"key": key}
                ).scalar()
        finally:
            engine.dispose()
        return int(count or 0)

    def events(self, event: str, address: str) -> int:
        """How many ``event`` security lines the server logged for this masked address."""
        found = 0
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("security "):
                record: dict[str, Any] = json.loads(line.removeprefix("security "))
                found += record["event"] == event and record.get("address") == address
        return found


@pytest.fixture(scope="module", params=["database", "redis"])
def target(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.ConnectionError as exc:
            pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    for url in _fresh_database(database_url, tmp_path_factory):
        instance = tmp_path_factory.mktemp("throttle-instance")
        port = free_port()
        # WebAuthn refuses an IP address as RP ID; the server is still reached at 127.0.0.1.
        env = provider_env(url, f"http://localhost:{port}", instance)
        env["IDP_PROXY_HOPS"] = "1"  # as behind nginx: the client's address in X-Forwarded-For
        if request.param == "redis":
            env["IDP_REDIS_URL"] = REDIS_URL
            env["IDP_SESSION_KEY_PREFIX"] = f"yihao-e2e-{secrets.token_hex(6)}:"
        _number, client = _set_up(env, instance)
        log = instance / "server.log"
        with serving(env, port, log) as node:
            yield Target(node.base_url, client["client_id"], env, log, request.param)


def _register(target: Target) -> str:
    number = new_id_number()
    run_idp(
        target.env,
        *("person", "add", "--id-number", number, "--name", "王五", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    return number


def _address(first: int) -> str:
    """A client address whose masked form (``first.<second>.*.*``) no other test uses."""
    return (
        f"{first}.{secrets.randbelow(200) + 10}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    )


def _masked(address: str) -> str:
    return ".".join(address.split(".")[:2]) + ".*.*"


@dataclass
class LoginForm:
    http: requests.Session
    action: str
    csrf: str
    origin: str


def _login_form(target: Target, http: requests.Session | None = None) -> LoginForm:
    """A fresh browser's login page for a new authorization request."""
    http = http or requests.Session()
    query = Authorization(target.client_id, REDIRECT_URI, scope="openid").query()
    page = http.get(f"{target.base_url}/authorize?{query}", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text[:300]
    action = FORM_ACTION.search(page.text)
    assert action
    return LoginForm(http, target.base_url + action.group(1), csrf_of(page.text), target.origin)


def _submit(form: LoginForm, number: str, password: str, address: str | None) -> requests.Response:
    headers = {"Origin": form.origin}
    if address:
        headers["X-Forwarded-For"] = address
    return form.http.post(
        form.action,
        data={"csrf_token": form.csrf, "username": number, "password": password},
        headers=headers,
        allow_redirects=False,
        timeout=HTTP_TIMEOUT * 3,
    )


def _normalised(response: requests.Response, number: str) -> tuple[int, str]:
    body = response.text.replace(number, "NUMBER")
    body = re.sub(r'value="[^"]{40,}"', "", body)  # the CSRF token
    body = re.sub(r"[/?]interaction[/=][^\"]+", "", body)  # the interaction id
    return response.status_code, body


def test_concurrent_wrong_passwords_for_one_number_all_count(target: Target) -> None:
    number = _register(target)
    before = target.account_failures(number)
    # Spread over 50 addresses, as a distributed guesser would, so that no address limit refuses
    # them: what is tested is that racing failures are all counted.
    forms = [_login_form(target) for _ in range(50)]
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda form: _submit(form, number, WRONG, _address(11)), forms))
    assert [a.status_code for a in answers] == [401] * 50, target.log.read_text()[-3000:]
    assert target.account_failures(number) - before == 50


def test_a_flood_from_one_address_is_refused_before_hashing(target: Target) -> None:
    attacker = _address(198)
    limit = load_settings(target.env).login_address_limit
    forms = [_login_form(target) for _ in range(3 * limit)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda form: _submit(form, new_id_number(), WRONG, attacker), forms)
        )
    statuses = [a.status_code for a in answers]
    assert statuses.count(401) == limit and statuses.count(429) == 2 * limit
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)
    # Each 401 was one hash, and no refused attempt was hashed.
    assert target.events("sign_in_failed", _masked(attacker)) == limit
    # Each refusal by the login step is logged; the gate logs its first refusal of a window only.
    assert 1 <= target.events("throttled", _masked(attacker)) < 2 * limit


def test_known_and_unknown_numbers_are_indistinguishable(target: Target) -> None:
    known, unknown = _register(target), new_id_number()
    free = load_settings(target.env).login_free_failures
    address = _address(172)
    seen = {}
    for number in (known, unknown):
        form = _login_form(target)
        # fresh, failing, then throttled
        seen[number] = [
            _normalised(_submit(form, number, WRONG, address), number) for _ in range(free + 1)
        ]
    assert seen[known] == seen[unknown]
    assert [status for status, _ in seen[known]] == [401] * free + [429]


class _FromAddress(HTTPAdapter):
    """Connects from another local address, as another machine on the network would."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def test_the_owner_elsewhere_is_not_throttled_by_the_attacker(target: Target) -> None:
    number = _register(target)
    attacker = _address(192)
    limit = load_settings(target.env).login_address_limit
    forms = [_login_form(target) for _ in range(limit + 5)]
    answers = [_submit(form, number, WRONG, attacker) for form in forms]
    assert answers[-1].status_code == 429  # the attacker's address is held up
    owner = requests.Session()
    owner.mount("http://", _FromAddress("127.0.0.2"))
    signed_in = _submit(_login_form(target, owner), number, PASSWORD, None)
    assert signed_in.status_code in (302, 303), signed_in.text[:300]
    assert "/authorize/resume/" in signed_in.headers["Location"]


def _json_post(
    http: requests.Session, target: Target, path: str, csrf: str, address: str, body: Any
) -> requests.Response:
    headers = {"Origin": target.origin, "X-CSRFToken": csrf, "X-Forwarded-For": address}
    return http.post(target.base_url + path, json=body, headers=headers, timeout=HTTP_TIMEOUT)


def _add_passkey(target: Target, number: str, address: str) -> SoftAuthenticator:
    """Sign in with the password and add a passkey on the account page, as the owner would."""
    http = requests.Session()
    assert _submit(_login_form(target, http), number, PASSWORD, address).status_code == 302
    account = http.get(f"{target.base_url}/account", timeout=HTTP_TIMEOUT)
    assert account.status_code == 200, account.text[:300]
    csrf, authenticator = csrf_of(account.text), SoftAuthenticator()
    options = _json_post(http, target, "/account/passkeys/options", csrf, address, {})
    assert options.status_code == 200, options.text[:300]
    credential = authenticator.create(options.json(), target.origin)
    added = _json_post(
        http, target, "/account/passkeys", csrf, address, {"name": "手机", "credential": credential}
    )
    assert added.status_code == 200, added.text[:300]
    return authenticator


def test_a_number_under_attack_signs_in_with_its_passkey(target: Target) -> None:
    # Issue 11: while its password path is throttled, even for an attacker behind the owner's
    # own address (one NAT) that used up the address's attempts, the owner's passkey signs in.
    number, shared = _register(target), _address(172)
    authenticator = _add_passkey(target, number, shared)
    limit = load_settings(target.env).login_address_limit
    answers = [_submit(_login_form(target), number, WRONG, shared) for _ in range(limit + 2)]
    assert answers[-1].status_code == 429
    owner = requests.Session()
    page = owner.get(
        f"{target.base_url}/authorize?"
        + Authorization(target.client_id, REDIRECT_URI, scope="openid").query(),
        timeout=HTTP_TIMEOUT,
    )
    found = re.search(r'data-options="(/interaction/[^"]+)/options"', page.text)
    assert found, "no passkey button on the login page"
    passkey, csrf = found.group(1), csrf_of(page.text)
    refused = owner.post(
        target.base_url + passkey.removesuffix("/passkey"),
        data={"csrf_token": csrf, "username": number, "password": PASSWORD},
        headers={"Origin": target.origin, "X-Forwarded-For": shared},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert refused.status_code == 429  # the password, even the right one, waits here
    options = _json_post(owner, target, passkey + "/options", csrf, shared, {})
    assert options.status_code == 200, options.text[:300]
    assertion = authenticator.get(options.json(), target.origin)
    signed_in = _json_post(owner, target, passkey, csrf, shared, {"credential": assertion})
    assert signed_in.status_code == 200, signed_in.text[:300]
    assert signed_in.json()["redirect"].startswith("/authorize/resume/")
