"""A real Yihao server for end-to-end tests: ``idp`` subprocesses on a loopback port.

The provider is set up the way an operator would do it, with the ``idp`` command only: migrate,
create the e-certificate PKI, register a citizen (with an ID-card record in the population
registry) and a client, then ``idp serve`` (Granian, several workers). Each database parameter
gets its own fresh database, separate from the one the integration tests use.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from idp.config import new_secret
from tests.conftest import PASSWORD, _postgres_database
from tests.support.identities import new_id_number
from tests.support.processes import free_port, idp_executable
from tests.support.tls import Certificates, make_certificates, nginx

#: How long a server may take to answer its discovery document after start.
START_TIMEOUT = 20.0
#: How long a server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 5.0
#: Every HTTP call in these tests gives up after this many seconds.
HTTP_TIMEOUT = 10.0
#: How long one ``idp`` operator command may run.
COMMAND_TIMEOUT = 60.0

REDIRECT_URI = "http://127.0.0.1:9/cb"
POST_LOGOUT_URI = "http://127.0.0.1:9/bye"
SCOPE = "openid profile phone"
DISCOVERY_PATH = "/.well-known/openid-configuration"
CITIZEN_NAME = "李四"
#: Debian's Chromium (``make chromium``), which Playwright drives in the browser tests.
CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium stalls trying to reach Google's servers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def run_idp(env: dict[str, str], *args: str, stdin: str | None = None) -> dict[str, Any]:
    """Run one ``idp ... --json`` command and return its JSON output; fail on a non-zero exit."""
    done = subprocess.run(
        [idp_executable(), *args, "--json"],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"idp {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass(frozen=True)
class Node:
    """One running ``idp serve`` process."""

    base_url: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(env: dict[str, str], port: int, log: Path, workers: int = 2) -> Iterator[Node]:
    """Run ``idp serve`` in its own process group until the block ends."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                idp_executable(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                "4",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_ready(process, base_url, log)
        yield Node(base_url, process)
    finally:
        _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"idp serve exited {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(base_url + DISCOVERY_PATH, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"idp serve did not answer in {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server runs in its own session, so its group id is its pid: this reaches the server's
    # workers too, and nothing else.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@dataclass(frozen=True)
class Provider:
    """A running provider, its registered client and citizen, and how to start more nodes."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    scope: str
    citizen_number: str
    citizen_name: str
    citizen_password: str
    env: dict[str, str]
    instance_dir: Path
    #: IDP_CERTS_DIR: the development root CA (``root-ca.pem``) that counters pin.
    certs_dir: Path
    #: ``verify`` for ``requests``: the fixture CA's file behind the TLS proxy, else True.
    verify: str | bool = True

    @property
    def ca_bundle(self) -> str | None:
        """The CA file clients must trust for this shape, or None on plain HTTP."""
        return self.verify if isinstance(self.verify, str) else None

    def http(self) -> requests.Session:
        """A ``requests`` session that trusts this provider's certificate (and no other CA)."""
        session = requests.Session()
        session.verify = self.verify
        # Else REQUESTS_CA_BUNDLE and friends from the environment would override ``verify``.
        session.trust_env = False
        return session


def _fresh_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'yihao.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def e2e_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The e2e server's database, separate from the one the integration tests use."""
    yield from _fresh_database(database_url, tmp_path_factory)


@pytest.fixture(scope="session")
def tls_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The TLS-proxied server's own database: each issuer registers the wallet at its own URL."""
    yield from _fresh_database(database_url, tmp_path_factory)


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """One throwaway CA and server certificate per run; Chromium is started pinning its key."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _set_up(env: dict[str, str], instance: Path) -> tuple[str, dict[str, Any]]:
    """What an operator does before the first start; the citizen's number and the client."""
    run_idp(env, "db", "upgrade")
    run_idp(env, "certs", "init")
    number = new_id_number()
    run_idp(
        env,
        *("person", "add", "--id-number", number, "--name", CITIZEN_NAME, "--phone", "13800000000"),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    imported = run_idp(
        env, "registry", "import", "resident_id", str(id_card_export(instance, number))
    )
    assert imported["created"] == 1 and not imported["rejected"], imported
    client = run_idp(
        env,
        *("client", "add", "--name", "e2e", "--scope", SCOPE),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--redirect-uri", REDIRECT_URI, "--post-logout-redirect-uri", POST_LOGOUT_URI),
    )
    assert client["client_id"] and client["client_secret"], client
    return number, client


def provider_env(database_url: str, issuer: str, instance: Path) -> dict[str, str]:
    """The environment of a provider under test: this one's, without any IDP_* of the caller's,
    in testing mode with fresh secrets and a cheap Argon2id, its files under ``instance``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(
        {
            "IDP_ENV": "testing",
            "IDP_DATABASE_URL": database_url,
            "IDP_ISSUER": issuer,
            "IDP_INSTANCE_DIR": str(instance),
            "IDP_SECRET_KEY": new_secret(),
            "IDP_DATA_KEY": new_secret(),
            "IDP_INDEX_KEY": new_secret(),
            "IDP_ARGON2_MEMORY_KIB": "1024",
            "IDP_ARGON2_TIME_COST": "1",
            "IDP_CERTS_DIR": str(instance / "certs"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextmanager
def _running(
    database_url: str, instance: Path, certificates: Certificates | None, host: str = "127.0.0.1"
) -> Iterator[Provider]:
    """``idp serve`` on a loopback port; with ``certificates``, behind nginx terminating TLS.
    ``host`` is the issuer's host name for the same loopback address."""
    port = free_port()
    proxy_port = free_port() if certificates else None
    issuer = f"https://{host}:{proxy_port}" if proxy_port else f"http://{host}:{port}"
    env = provider_env(database_url, issuer, instance)
    if certificates:
        env["IDP_PROXY_HOPS"] = "1"  # nginx is the one proxy in front
    number, client = _set_up(env, instance)
    with ExitStack() as stack:
        node = stack.enter_context(serving(env, port, instance / "server-a.log"))
        if certificates and proxy_port:
            stack.enter_context(nginx(instance / "nginx", proxy_port, node.base_url, certificates))
        yield Provider(
            issuer=issuer,
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            redirect_uri=REDIRECT_URI,
            post_logout_redirect_uri=POST_LOGOUT_URI,
            scope=SCOPE,
            citizen_number=number,
            citizen_name=CITIZEN_NAME,
            citizen_password=PASSWORD,
            env=env,
            instance_dir=instance,
            certs_dir=instance / "certs",
            verify=str(certificates.ca) if certificates else True,
        )


@pytest.fixture(scope="session")
def provider(e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider on plain HTTP, straight from ``idp serve``."""
    with _running(e2e_database_url, tmp_path_factory.mktemp("e2e-instance"), None) as running:
        yield running


@pytest.fixture(scope="session")
def tls_provider(
    tls_database_url: str, tmp_path_factory: pytest.TempPathFactory, tls_certificates: Certificates
) -> Iterator[Provider]:
    """The production shape: nginx terminating TLS, ``IDP_PROXY_HOPS=1``, an https issuer."""
    instance = tmp_path_factory.mktemp("e2e-tls-instance")
    with _running(tls_database_url, instance, tls_certificates) as running:
        yield running


@pytest.fixture(scope="session", params=["http", "https-nginx"])
def shaped_provider(request: pytest.FixtureRequest, database_url: str) -> Provider:
    """Each shape in turn: every browser flow over plain HTTP has its twin through the proxy.
    (``database_url`` is named so that pytest parametrises over the databases here too.)"""
    name = "provider" if request.param == "http" else "tls_provider"
    found: Provider = request.getfixturevalue(name)
    return found


@pytest.fixture(scope="session", params=["http", "https-nginx"])
def named_provider(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    tls_certificates: Certificates,
) -> Iterator[Provider]:
    """Like ``shaped_provider``, with the issuer on ``localhost`` instead of ``127.0.0.1``:
    WebAuthn refuses an IP address as RP ID (L3 5.1.2), so the passkey tests need a host name
    (the TLS certificate covers it, and ``http://localhost`` is a secure context in Chromium)."""
    certificates = tls_certificates if request.param == "https-nginx" else None
    for url in _fresh_database(database_url, tmp_path_factory):
        instance = tmp_path_factory.mktemp("e2e-localhost-instance")
        with _running(url, instance, certificates, host="localhost") as running:
            yield running


@pytest.fixture(scope="session")
def chromium(tls_certificates: Certificates) -> Iterator[Browser]:
    """Chromium accepting exactly the TLS proxy's key: Chromium takes no CA file on its command
    line, so the fixture's server key is pinned by its SPKI hash instead (certificate errors for
    any other key still fail)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "Run `make chromium` (as root), or `make test`, which installs it first.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                f"--ignore-certificate-errors-spki-list={tls_certificates.spki_sha256}",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def id_card_export(instance: Path, number: str) -> Path:
    """A one-row population registry export (the columns of ``idp/demo_registries``)."""
    path = instance / "resident_id.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "id_number",
                "name",
                "ethnicity",
                "address",
                "issuing_authority",
                "valid_from",
                "valid_until",
            ]
        )
        writer.writerow(
            [
                number,
                CITIZEN_NAME,
                "汉",
                "北京市朝阳区建国路1号",
                "北京市公安局朝阳分局",
                "2020-01-01",
                "长期",
            ]
        )
    return path
