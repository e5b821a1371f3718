"""The browser and the relying service, played by ``requests``: the authorization-code login step by
step (timed), and the tokens, login forms and certificates the wrk figures replay.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from yihao.holder import Holder

from tests.bench.server import REDIRECT_URI, Registered, Setup
from tests.support.browser import origin_of

TIMEOUT = 10.0
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
COOKIE = "yihao_session"


def basic(client: Registered) -> str:
    pair = f"{client.client_id}:{client.client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _csrf(page: str) -> str:
    found = _CSRF.search(page)
    if found is None:
        raise RuntimeError(f"no CSRF token in the page: {page[:300]}")
    return found.group(1) or found.group(2)


def _action(page: requests.Response) -> str:
    found = _ACTION.search(page.text)
    if found is None:
        raise RuntimeError(f"no form in the page: {page.text[:300]}")
    return urljoin(page.url, html.unescape(found.group(1)))


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class Started:
    url: str
    verifier: str
    state: str


def start(setup: Setup, client: Registered, scope: str, **extra: str) -> Started:
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(8)
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return Started(setup.issuer + "/authorize?" + urlencode(query), verifier, state)


def _code_of(location: str, started: Started) -> str:
    if not location.startswith(REDIRECT_URI):
        raise RuntimeError(f"unexpected redirect {location}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "code" not in query or query.get("state") != started.state:
        raise RuntimeError(f"no code in {location}")
    return query["code"]


def redeem(
    setup: Setup, client: Registered, code: str, verifier: str, http: Any = requests
) -> dict[str, Any]:
    response = http.post(
        setup.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={"Authorization": basic(client)},
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise RuntimeError(f"token endpoint: {response.status_code} {response.text[:300]}")
    tokens: dict[str, Any] = response.json()
    return tokens


class Browser:
    """One browser (cookie jar) going through the provider's pages, each request timed."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.steps: list[tuple[str, float]] = []

    def _timed(self, name: str, call: Callable[[], requests.Response]) -> requests.Response:
        began = time.perf_counter()
        response = call()
        self.steps.append((name, (time.perf_counter() - began) * 1e3))
        return response

    def get(self, name: str, url: str) -> requests.Response:
        return self._timed(name, lambda: self.http.get(url, allow_redirects=False, timeout=TIMEOUT))

    def post(self, name: str, page: requests.Response, fields: dict[str, str]) -> requests.Response:
        url, data = _action(page), {"csrf_token": _csrf(page.text), **fields}
        origin = {"Origin": origin_of(page.url)}
        return self._timed(
            name,
            lambda: self.http.post(
                url, data=data, headers=origin, allow_redirects=False, timeout=TIMEOUT
            ),
        )

    def login(self, setup: Setup, number: str, started: Started) -> str:
        """authorize -> login page -> password -> consent page -> allow -> code; the code."""
        location = self._follow("authorize", started.url)
        login_page = self.get("login page", location)
        if 'name="password"' not in login_page.text:
            raise RuntimeError(f"expected the login form: {login_page.text[:300]}")
        posted = self.post(
            "login submit", login_page, {"username": number, "password": setup.password}
        )
        location = _redirect(posted, 302)
        location = self._follow("resume to consent", location)
        if urlsplit(location).path.startswith("/interaction/"):
            consent = self.get("consent page", location)
            allowed = self.post("consent submit", consent, {"decision": "allow"})
            location = self._follow("resume to code", _redirect(allowed, 302))
        return _code_of(location, started)

    def _follow(self, name: str, url: str) -> str:
        return _redirect(self.get(name, url), 302)


def _redirect(response: requests.Response, status: int) -> str:
    if response.status_code != status:
        raise RuntimeError(f"{response.url}: {response.status_code} {response.text[:300]}")
    return urljoin(response.url, response.headers["Location"])


def authorization_code_logins(setup: Setup, count: int) -> dict[str, Any]:
    """``count`` whole logins, each by a new browser (no session), with consent asked every time
    (prompt=consent); the median of each step and of the totals, in ms of request time."""
    client = setup.clients["code"]
    per_step: dict[str, list[float]] = {}
    totals: list[float] = []
    for index in range(count + 1):  # the first one warms the workers up and is not counted
        browser = Browser()
        started = start(setup, client, "openid profile phone", prompt="consent")
        code = browser.login(setup, setup.citizens[index % len(setup.citizens)], started)
        began = time.perf_counter()
        tokens = redeem(setup, client, code, started.verifier, browser.http)
        browser.steps.append(("token", (time.perf_counter() - began) * 1e3))
        if "id_token" not in tokens or "refresh_token" not in tokens:
            raise RuntimeError(f"incomplete token response: {sorted(tokens)}")
        if index == 0:
            continue
        for name, ms in browser.steps:
            per_step.setdefault(name, []).append(ms)
        totals.append(sum(ms for _, ms in browser.steps))
    steps = {name: statistics.median(values) for name, values in per_step.items()}
    return {"logins": count, "steps_ms": steps, "total_ms": statistics.median(totals)}


def signed_in(setup: Setup, client: Registered, scope: str, number: str) -> requests.Session:
    """A browser session in which ``number`` is signed in and has consented to ``scope``."""
    browser = Browser()
    started = start(setup, client, scope)
    code = browser.login(setup, number, started)
    redeem(setup, client, code, started.verifier, browser.http)
    return browser.http


def silent_tokens(
    setup: Setup,
    client: Registered,
    scope: str,
    cookies: dict[str, str],
    count: int,
    deadline: float = float("inf"),
) -> list[dict[str, Any]]:
    """``count`` token responses through a signed-in session: authorize (no page) -> code ->
    token, or fewer if ``deadline`` (a perf_counter time) passes. Each is a new grant with its
    own refresh token."""
    http = requests.Session()
    http.cookies.update(cookies)
    found = []
    for _ in range(count):
        if time.perf_counter() > deadline:
            break
        started = start(setup, client, scope)
        response = http.get(started.url, allow_redirects=False, timeout=TIMEOUT)
        code = _code_of(_redirect(response, 302), started)
        found.append(redeem(setup, client, code, started.verifier, http))
    return found


def many_tokens(
    setup: Setup,
    client: Registered,
    scope: str,
    count: int,
    parallel: int = 6,
    deadline: float = float("inf"),
) -> list[dict[str, Any]]:
    session = signed_in(setup, client, scope, setup.citizens[0])
    cookies = {cookie.name: cookie.value or "" for cookie in session.cookies}
    shares = [count // parallel + (1 if i < count % parallel else 0) for i in range(parallel)]
    with ThreadPoolExecutor(parallel) as pool:
        parts = pool.map(
            lambda n: silent_tokens(setup, client, scope, cookies, n, deadline), shares
        )
    return [token for part in parts for token in part]


def login_forms(setup: Setup) -> list[tuple[str, str, str]]:
    """One filled-in login form per citizen, as (path, cookie, body) records for wrk.

    The session cookie that carries the pending interaction and the CSRF secret is signed, not
    stored on the server, so the same form can be posted again and again; each post is a whole
    password check (Argon2id), sign-in and redirect, exactly like a first one."""
    records = []
    client = setup.clients["code"]
    for number in setup.citizens:
        http = requests.Session()
        started = start(setup, client, "openid")
        first = http.get(started.url, allow_redirects=False, timeout=TIMEOUT)
        page = http.get(_redirect(first, 302), allow_redirects=False, timeout=TIMEOUT)
        if 'name="password"' not in page.text:
            raise RuntimeError("expected the login form")
        body = urlencode({"csrf_token": _csrf(page.text), "username": number})
        body += "&" + urlencode({"password": setup.password})
        cookie = f"{COOKIE}={http.cookies[COOKIE]}"
        records.append((urlsplit(_action(page)).path, cookie, body))
    return records


def issuance_bodies(setup: Setup, access_token: str, count: int) -> list[str]:
    """``count`` JSON bodies for POST /credentials/issue, cycling over the ID card's profiles.

    Each carries a key proof over a nonce of its own (nonces are single-use), so a body is good
    for one request, and for NONCE_TTL_SECONDS and the proof's iat window (120 s) at most.
    """
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {access_token}"
    response = http.get(setup.issuer + "/credentials", timeout=TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"/credentials: {response.status_code} {response.text[:300]}")
    held = response.json()["certificates"]
    if not held:
        raise RuntimeError("the citizen holds no certificate")
    holder = Holder()
    profiles = held[0]["profiles"]
    bodies = []
    for i in range(count):
        nonce = http.post(setup.issuer + "/credentials/nonce", timeout=TIMEOUT).json()["c_nonce"]
        body = {
            "identifier": held[0]["identifier"],
            "profile": profiles[i % len(profiles)],
            "proofs": {"jwt": [holder.proof(nonce, setup.issuer)]},
        }
        bodies.append(json.dumps(body))
    return bodies


def check_issue(setup: Setup, access_token: str, body: str) -> None:
    response = requests.post(
        setup.issuer + "/credentials/issue",
        data=body,
        headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise RuntimeError(f"/credentials/issue: {response.status_code} {response.text[:300]}")


def client_tokens(setup: Setup, client: Registered, count: int) -> list[str]:
    http = requests.Session()
    found = []
    for _ in range(count):
        response = http.post(
            setup.issuer + "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(client)},
            timeout=TIMEOUT,
        )
        if response.status_code != 200:
            raise RuntimeError(f"client_credentials: {response.status_code} {response.text}")
        found.append(response.json()["access_token"])
    return found
