"""Legitimate sign-ins during a credential-stuffing flood (docs/performance.md).

Real users sign in (authorize, login page, right password) from addresses of their own while one
attacker address posts wrong passwords for random numbers at ten times the rate the users reach
on their own. The figure is the users' sign-ins per second under the flood as a share of their
unloaded rate; the throttle (idp.throttle) should refuse the flood before it costs hashes.
Both sides run in this driver's threads, on the load core; the server is told the client
addresses in ``X-Forwarded-For`` (``IDP_PROXY_HOPS=1``, as behind nginx).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.bench import flows
from tests.bench.server import Setup
from tests.support.identities import new_id_number

#: The attacker's rate, as a multiple of the users' unloaded sign-in rate (issue 11).
FLOOD_FACTOR = 10
ATTACKER = "203.0.113.66"
ATTACKER_THREADS = 8


def _login_page(setup: Setup, http: requests.Session) -> tuple[str, str]:
    started = flows.start(setup, setup.clients["code"], "openid")
    first = http.get(started.url, allow_redirects=False, timeout=flows.TIMEOUT)
    page = http.get(flows._redirect(first, 302), allow_redirects=False, timeout=flows.TIMEOUT)
    return flows._action(page), flows._csrf(page.text)


def _post(
    http: requests.Session, action: str, fields: dict[str, str], origin: str, address: str
) -> int:
    return http.post(
        action,
        data=fields,
        headers={"Origin": origin, "X-Forwarded-For": address},
        allow_redirects=False,
        timeout=flows.TIMEOUT,
    ).status_code


def _users(setup: Setup, seconds: float, threads: int) -> float:
    """Whole sign-ins per second, each by a new browser, ``threads`` users at once."""
    deadline = time.monotonic() + seconds
    done = [0] * threads

    def user(index: int) -> None:
        number = setup.citizens[index % len(setup.citizens)]
        address = f"10.1.{index // 250}.{index % 250 + 1}"
        while time.monotonic() < deadline:
            http = requests.Session()
            action, csrf = _login_page(setup, http)
            fields = {"csrf_token": csrf, "username": number, "password": setup.password}
            status = _post(http, action, fields, setup.issuer, address)
            if status != 302:
                raise RuntimeError(f"a real user's sign-in answered {status}")
            done[index] += 1

    began = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(user, range(threads)))
    return sum(done) / (time.monotonic() - began)


def _attacker(setup: Setup, rate: float, stop: threading.Event) -> Counter[int]:
    """Wrong passwords for random numbers from one address, paced to ``rate`` a second."""
    http = requests.Session()
    action, csrf = _login_page(setup, http)
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    began = time.monotonic()
    sent = [0]

    def flood() -> None:
        while not stop.is_set():
            with lock:
                due = began + sent[0] / rate
                sent[0] += 1
            time.sleep(max(0.0, due - time.monotonic()))
            fields = {"csrf_token": csrf, "username": new_id_number(), "password": "guess123"}
            status = _post(http, action, fields, setup.issuer, ATTACKER)
            with lock:
                answers[status] += 1

    with ThreadPoolExecutor(ATTACKER_THREADS) as pool:
        for _ in range(ATTACKER_THREADS):
            pool.submit(flood)
    return answers


def measure(setup: Setup, seconds: float, threads: int) -> dict[str, Any]:
    _users(setup, 1.0, threads)  # warm-up
    unloaded = _users(setup, seconds, threads)
    stop = threading.Event()
    rate = unloaded * FLOOD_FACTOR
    result: dict[str, Counter[int]] = {}
    attack = threading.Thread(target=lambda: result.update(a=_attacker(setup, rate, stop)))
    attack.start()
    time.sleep(1.0)  # the flood under way before the users are counted
    began = time.monotonic()
    loaded = _users(setup, seconds, threads)
    stop.set()
    attack.join()
    answers = result["a"]
    attacked = time.monotonic() - began + 1.0
    return {
        "unloaded_per_s": unloaded,
        "flooded_per_s": loaded,
        "share": loaded / unloaded,
        "attacker_per_s": sum(answers.values()) / attacked,
        "attacker_answers": {str(k): v for k, v in sorted(answers.items())},
        "users": threads,
    }
