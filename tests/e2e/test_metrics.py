"""``/metrics`` from the real ``idp serve`` with two Granian workers, on plain HTTP and behind
nginx: a real login moves the counters, and every scrape, whichever worker answers it, reports
the sum over both workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from authlib.common.security import generate_token

from tests.e2e.conftest import HTTP_TIMEOUT, Provider
from tests.e2e.test_oidc_client import UserAgent, new_client, obtain_code, redemption
from tests.support.metrics import Samples, moved, parse, value
from tests.support.processes import children

pytestmark = pytest.mark.e2e

#: Enough fresh connections that both workers answer some of them.
PROBES = 40
SIGN_INS = "idp_sign_ins_total"
REQUESTS = "idp_http_requests_total"


def scrape(provider: Provider) -> Samples:
    """One scrape on a connection of its own (so either worker may take it)."""
    with provider.http() as http:
        answer = http.get(provider.issuer + "/metrics", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200, answer.text[:300]
    return parse(answer.text)


def _metadata(provider: Provider) -> dict[str, Any]:
    with provider.http() as http:
        found: dict[str, Any] = http.get(
            provider.issuer + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT
        ).json()
    return found


def _server_pid(provider: Provider) -> int:
    """The ``idp serve`` process of this provider: the one whose log is the instance's."""
    log = str(provider.instance_dir / "server-a.log")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "fd" / "2") == log:
                    pid = int(entry.name)
                    if children(pid):
                        return pid
            except OSError:
                continue
    raise AssertionError("the server process was not found")


def _value_files(worker: int) -> set[Path]:
    """The metric files a worker holds open (prometheus_client keeps each one mapped)."""
    found = set()
    for fd in (Path("/proc") / str(worker) / "fd").iterdir():
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.suffix == ".db" and target.parent.name.startswith("idp-metrics-"):
            found.add(target)
    return found


def test_both_workers_write_to_one_directory(provider: Provider) -> None:
    for _ in range(PROBES):
        scrape(provider)
    workers = children(_server_pid(provider))
    assert len(workers) == 2, workers
    files = {worker: _value_files(worker) for worker in workers}
    directories = {path.parent for held in files.values() for path in held}
    assert len(directories) == 1, files  # one directory for the whole server
    for worker, held in files.items():
        assert any(path.name == f"counter_{worker}.db" for path in held), files


def test_a_real_login_moves_the_counters_summed_over_thechildren(
    shaped_provider: Provider,
) -> None:
    provider = shaped_provider
    metadata = _metadata(provider)
    before = scrape(provider)

    agent = UserAgent(provider)
    agent.http.verify, agent.http.trust_env = provider.verify, False
    assert _wrong_password(provider, metadata, agent) == 401
    code = obtain_code(provider, metadata, new_client(provider), agent)
    with provider.http() as http:
        token = http.post(
            metadata["token_endpoint"],
            data=redemption(provider, metadata["token_endpoint"], code),
            auth=(provider.client_id, provider.client_secret),
            timeout=HTTP_TIMEOUT,
        )
    assert token.status_code == 200, token.text
    for _ in range(PROBES):
        with provider.http() as http:
            assert http.get(provider.issuer + "/healthz", timeout=HTTP_TIMEOUT).ok

    # Every scrape, whichever worker answers it, sees the same sums.
    scrapes = [scrape(provider) for _ in range(6)]
    for after in scrapes:
        assert moved(before, after, SIGN_INS, method="password", result="success") == 1
        assert moved(before, after, SIGN_INS, method="password", result="failure") == 1
        assert moved(before, after, "idp_tokens_issued_total", grant_type="authorization_code") == 1
        healthz = moved(
            before, after, REQUESTS, endpoint="health.healthz", method="GET", status="200"
        )
        assert healthz == PROBES
    assert value(scrapes[-1], "idp_issuer_certificate_expiry_seconds", purpose="issuer") > 0


def _wrong_password(provider: Provider, metadata: dict[str, Any], agent: UserAgent) -> int:
    """One sign-in with a wrong password through a fresh authorization request; its status."""
    url, _state = new_client(provider).create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n"
    )
    response = agent.get(url)
    while response.status_code in (302, 303):
        response = agent.get(urljoin(response.url, response.headers["Location"]))
    assert 'name="password"' in response.text, response.text[:300]
    wrong = agent.submit(response, username=provider.citizen_number, password="not the password")
    return wrong.status_code
