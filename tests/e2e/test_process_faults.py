"""``idp serve`` under process faults: workers killed again and again, a worker that cannot start,
the master killed outright, SIGTERM under load (issue 14, "Faults")."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from idp.credentials.catalogue import DEFAULT_CATALOGUE
from idp.wsgi_server import GRACEFUL_SECONDS, MAX_FAILED_STARTS
from tests.e2e.conftest import DISCOVERY_PATH, HTTP_TIMEOUT, Node, Provider, serving
from tests.support.processes import children, free_port

#: How long a replaced worker may take to appear and say it is ready.
READY_TIMEOUT = 15.0
#: How long the request under way at SIGTERM takes yet: well inside the grace period.
IN_FLIGHT_SECONDS = GRACEFUL_SECONDS / 2
#: The longest a healthy server may go without a successful answer while a worker is killed.
LONGEST_GAP = 1.5


@dataclass
class Load:
    """Clients hammering one URL from threads, each on its own keep-alive session."""

    url: str
    method: str = "GET"
    data: dict[str, str] | None = None
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    successes: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                try:
                    answer = session.request(
                        self.method, self.url, data=self.data, timeout=HTTP_TIMEOUT
                    )
                except requests.RequestException as exc:
                    self.errors.append(type(exc).__name__)
                    time.sleep(0.02)
                    continue
                self.statuses[answer.status_code] += 1
                if answer.status_code < 500:
                    self.successes.append(time.monotonic())

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time between ``start`` and ``end`` without an answer below 500."""
        times = [start, *sorted(t for t in self.successes if start < t < end), end]
        return max(b - a for a, b in itertools.pairwise(times))


@contextmanager
def hammering(load: Load, threads: int) -> Iterator[Load]:
    workers = [threading.Thread(target=load.client, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield load
    finally:
        load.stop.set()
        for worker in workers:
            worker.join(HTTP_TIMEOUT + 1)


def _ready(worker: int) -> bool:
    """Whether ``worker`` left its ready file (``idp.supervision.ready_directory``, which the
    server makes under the same TMPDIR as these tests')."""
    return any(Path(tempfile.gettempdir()).glob(f"idp-ready-*/{worker}"))


def _replacement(node: Node, gone: set[int], count: int) -> set[int]:
    """Wait until ``count`` workers run, none of them in ``gone``, all ready; return them."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        assert node.process.poll() is None, "the server stopped"
        now = children(node.process.pid)
        ready = all(_ready(pid) for pid in now)
        if len(now) == count and not now & gone and ready:
            return now
        time.sleep(0.05)
    raise AssertionError(f"no ready replacement within {READY_TIMEOUT} s: {now}")


def test_a_worker_killed_three_times_in_eight_seconds_is_replaced_each_time(
    provider: Provider, tmp_path: Path
) -> None:
    """Granian alone took this for a crash loop and stopped the healthy worker with it."""
    log = tmp_path / "server.log"
    with serving(provider.env, free_port(), log, workers=2) as node:
        workers = _replacement(node, set(), 2)
        killed: set[int] = set()
        started = time.monotonic()
        with hammering(Load(node.base_url + DISCOVERY_PATH), threads=4) as load:
            for _ in range(3):
                victim = max(workers)  # the newest: always the same slot after the first kill
                os.kill(victim, signal.SIGKILL)
                killed.add(victim)
                workers = _replacement(node, killed, 2)
            ended = time.monotonic()
        assert ended - started < 8, "the kills were not close together"
        assert node.process.poll() is None, log.read_text()[-3000:]
        assert not [code for code in load.statuses if code >= 500], load.statuses
        assert load.longest_gap(started, ended) < LONGEST_GAP, "the healthy worker stopped"
        answer = requests.get(node.base_url + DISCOVERY_PATH, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200
    assert "died while serving; replacing it" in log.read_text()


def test_a_worker_that_cannot_start_stops_the_server_and_says_why(
    provider: Provider, tmp_path: Path
) -> None:
    """The bound: a replacement that fails to start (here its catalogue file went bad after the
    server started) is retried a few times, then the server exits 1 rather than loop forever."""
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps(DEFAULT_CATALOGUE), encoding="utf-8")
    env = {**provider.env, "IDP_CATALOGUE_FILE": str(catalogue)}
    log = tmp_path / "server.log"
    with serving(env, free_port(), log, workers=2) as node:
        workers = _replacement(node, set(), 2)
        catalogue.write_text("not json", encoding="utf-8")
        os.kill(max(workers), signal.SIGKILL)
        node.process.wait(timeout=READY_TIMEOUT + GRACEFUL_SECONDS)
        text = log.read_text()
        assert node.process.returncode == 1, text[-3000:]
        assert f"failed to start {MAX_FAILED_STARTS} times in a row: crash loop" in text
        assert "could not be read as JSON" in text  # the worker's own reason, above it


def test_killing_the_master_takes_its_workers_and_frees_the_port(
    provider: Provider, tmp_path: Path
) -> None:
    """``kill -9`` of the master used to leave its workers answering, unsupervised."""
    port = free_port()
    with serving(provider.env, port, tmp_path / "first.log", workers=2) as node:
        workers = _replacement(node, set(), 2)
        try:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=HTTP_TIMEOUT)
            deadline = time.monotonic() + GRACEFUL_SECONDS + 2
            while _alive(workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(workers), "workers outlived their master"
        finally:
            _kill_group(node.process.pid)
    # What systemd's restart does next: a new server binds the same port and serves.
    with serving(provider.env, port, tmp_path / "second.log", workers=2) as again:
        answer = requests.get(again.base_url + DISCOVERY_PATH, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200


def test_sigterm_under_load_finishes_what_started_and_answers_no_5xx(
    provider: Provider, tmp_path: Path
) -> None:
    """A rolling restart's stop: requests under way are answered, nothing gets a 5xx, and the
    server is gone within its grace period."""
    with serving(provider.env, free_port(), tmp_path / "server.log", workers=2) as node:
        # This node's own token endpoint: the issuer in discovery names the fixture's node.
        token_url = node.base_url + urlsplit(_discovery(node)["token_endpoint"]).path
        wrong = {
            "grant_type": "client_credentials",
            "client_id": provider.client_id,
            "client_secret": "wrong",
        }
        with hammering(Load(token_url, "POST", wrong), threads=4) as load:
            time.sleep(1.0)
            in_flight = _half_sent_token_request(token_url)
            time.sleep(0.2)
            stopped = time.monotonic()
            os.kill(node.process.pid, signal.SIGTERM)
            time.sleep(IN_FLIGHT_SECONDS)
            in_flight.sendall(b"x")  # the body's last byte, well after the stop began
            answer = _read_to_end(in_flight)
            node.process.wait(timeout=GRACEFUL_SECONDS + 2)
            took = time.monotonic() - stopped
        in_flight.close()
        assert answer.startswith(b"HTTP/1.1 4") and b"invalid_client" in answer, answer[:300]
        assert sum(load.statuses.values()) > 0
        assert not [code for code in load.statuses if code >= 500], load.statuses
        assert took < GRACEFUL_SECONDS + 1, took
        assert node.process.returncode == 0


def _half_sent_token_request(token_url: str) -> socket.socket:
    """A token request whose body lacks its last byte: the server has it under way."""
    parts = urlsplit(token_url)
    body = b"grant_type=client_credentials&client_id=nobody&client_secret=x"
    head = (
        f"POST {parts.path} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 1}\r\nConnection: close\r\n\r\n"
    ).encode()
    connection = socket.create_connection((parts.hostname, parts.port), timeout=HTTP_TIMEOUT)
    connection.sendall(head + body)
    return connection


def _discovery(node: Node) -> dict[str, str]:
    found: dict[str, str] = requests.get(
        node.base_url + DISCOVERY_PATH, timeout=HTTP_TIMEOUT
    ).json()
    return found


def _read_to_end(connection: socket.socket) -> bytes:
    """All the server sends until it closes (the request said ``Connection: close``)."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _alive(pids: set[int]) -> bool:
    """Whether any of ``pids`` still runs (a zombie does not)."""
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            return True
    return False


def _kill_group(pid: int) -> None:
    """What a failed test leaves: the server's group, killed (its id is the master's pid)."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
