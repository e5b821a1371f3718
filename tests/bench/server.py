"""The provider under test: a fresh database, set up with ``idp`` commands only, then ``idp serve``
(Granian) pinned to one core, with its memory and CPU time read from /proc.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from idp.config import new_secret
from tests.support.identities import new_id_number, new_uscc
from tests.support.processes import free_port, idp_executable

#: Where a fresh benchmark database is created (trust auth); override with YIHAO_BENCH_PG.
PG_ADMIN = os.environ.get("YIHAO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START_TIMEOUT = 30.0
PASSWORD = "bench horse battery staple"
REDIRECT_URI = "http://127.0.0.1:9/cb"
ID_CARD_COLUMNS = (
    "id_number",
    "name",
    "ethnicity",
    "address",
    "issuing_authority",
    "valid_from",
    "valid_until",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@contextmanager
def database(work: Path, wanted: str = "auto") -> Iterator[tuple[str, str]]:
    """(kind, URL): a fresh PostgreSQL database dropped afterwards, else a SQLite file."""
    sqlite = "sqlite", f"sqlite:///{work / 'yihao.db'}"
    if wanted == "sqlite":
        yield sqlite
        return
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if wanted == "postgresql":
            raise SystemExit(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}") from None
        print(f"PostgreSQL not reachable at {PG_ADMIN} ({exc}); using SQLite", file=sys.stderr)
        yield sqlite
        return
    name = f"bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        version = admin.execute("SHOW server_version").fetchone()
        kind = f"postgresql {version[0] if version else '?'}"
        DATABASE_BACKENDS.update(admin=admin, name=name)
        yield kind, PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        DATABASE_BACKENDS.clear()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


#: The admin connection and name of the benchmark database while it exists.
DATABASE_BACKENDS: dict[str, Any] = {}


def pin_database_backends(cpu: int) -> int:
    """Move the PostgreSQL backends serving the benchmark database (and only those) to ``cpu``,
    so the database does not share the server's core, as if it ran on its own host. Returns how
    many were moved; backends started later stay where the scheduler puts them."""
    if not DATABASE_BACKENDS:
        return 0
    rows = DATABASE_BACKENDS["admin"].execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DATABASE_BACKENDS["name"],)
    )
    moved = 0
    for (pid,) in rows.fetchall():
        try:
            os.sched_setaffinity(pid, {cpu})
            moved += 1
        except OSError:  # not ours to move (no privilege), or gone
            pass
    return moved


@dataclass(frozen=True)
class Registered:
    client_id: str
    client_secret: str


@dataclass
class Setup:
    """What ``idp`` commands created: the issuer, clients and citizens."""

    issuer: str
    port: int
    env: dict[str, str]
    work: Path
    clients: dict[str, Registered] = field(default_factory=dict)
    citizens: list[str] = field(default_factory=list)
    password: str = PASSWORD


def run_idp(env: dict[str, str], *args: str, stdin: str | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [idp_executable(), *args, "--json"],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"idp {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def server_env(work: Path, database_url: str, port: int) -> dict[str, str]:
    """Production mode: the three secrets given, the OWASP Argon2id defaults (IDP_ARGON2_* unset),
    an http issuer on loopback (production accepts it; TLS would end at a reverse proxy), an
    issuer code of its own, and SQLite allowed for the single-node runs on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(
        {
            "IDP_ENV": "production",
            "IDP_DATABASE_URL": database_url,
            "IDP_ISSUER": f"http://127.0.0.1:{port}",
            "IDP_INSTANCE_DIR": str(work / "instance"),
            "IDP_CERTS_DIR": str(work / "certs"),
            "IDP_SECRET_KEY": new_secret(),
            "IDP_DATA_KEY": new_secret(),
            "IDP_INDEX_KEY": new_secret(),
            "IDP_ISSUER_CODE": new_uscc(),
            "IDP_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",  # never called: no one registers
            "IDP_ALLOW_SQLITE": "1",
            # The flood figure names client addresses in X-Forwarded-For, as nginx would.
            "IDP_PROXY_HOPS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def provision(work: Path, database_url: str, citizens: int = 4) -> Setup:
    port = free_port()
    env = server_env(work, database_url, port)
    setup = Setup(f"http://127.0.0.1:{port}", port, env, work)
    run_idp(env, "db", "upgrade")
    run_idp(env, "certs", "init")
    for index in range(citizens):
        number = new_id_number()
        run_idp(
            env,
            *("person", "add", "--id-number", number, "--name", f"测试{index}"),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        setup.citizens.append(number)
    imported = run_idp(env, "registry", "import", "resident_id", str(_id_cards(work, setup)))
    if imported["created"] != citizens:
        raise SystemExit(f"registry import: {imported}")
    cc = ("--grant-type", "client_credentials", "--scope", "openid")
    code = ("--grant-type", "authorization_code", "--grant-type", "refresh_token")
    setup.clients["cc_opaque"] = _client(env, "--name", "bench cc opaque", *cc)
    setup.clients["cc_jwt"] = _client(
        env, "--name", "bench cc jwt", *cc, "--access-token-format", "jwt"
    )
    setup.clients["code"] = _client(
        env, "--name", "bench rp", *code, "--scope", "openid profile phone", "--redirect-uri",
        REDIRECT_URI,
    )  # fmt: skip
    setup.clients["credentials"] = _client(
        env, "--name", "bench wallet", *code, "--scope", "openid credentials", "--redirect-uri",
        REDIRECT_URI, "--allow-reserved", "credentials",
    )  # fmt: skip
    return setup


def _client(env: dict[str, str], *args: str) -> Registered:
    made = run_idp(env, "client", "add", *args)
    return Registered(made["client_id"], made["client_secret"])


def _id_cards(work: Path, setup: Setup) -> Path:
    path = work / "resident_id.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ID_CARD_COLUMNS)
        for index, number in enumerate(setup.citizens):
            address, authority = "北京市朝阳区建国路1号", "北京市公安局朝阳分局"
            writer.writerow(
                [number, f"测试{index}", "汉", address, authority, "2020-01-01", "长期"]
            )
    return path


class Server:
    """``taskset -c CPU idp serve``: the server in its own session, so one signal reaches it all."""

    def __init__(self, setup: Setup, workers: int, threads: int, cpu: int | None) -> None:
        self.setup = setup
        self.workers = workers
        self.threads = threads
        self.log = setup.work / f"server-{workers}x{threads}.log"
        command = [idp_executable(), "serve", "--host", "127.0.0.1", "--port", str(setup.port)]
        command += ["--workers", str(workers), "--threads", str(threads)]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                env=setup.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = self.setup.issuer + "/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"idp serve exited:\n{self.log.read_text()[-4000:]}")
            try:
                if requests.get(url, timeout=1).status_code == 200 and self._all_workers_up():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SystemExit(f"idp serve did not answer in {START_TIMEOUT} s")

    def _all_workers_up(self) -> bool:
        return len(self.worker_pids()) >= self.workers

    def worker_pids(self) -> list[int]:
        """The server workers: the main process's children (found by their parent pid in /proc)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return sorted(found)

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of the master and each worker, MiB (VmRSS from /proc)."""
        found = {"master": _rss(self.process.pid)}
        for index, pid in enumerate(self.worker_pids()):
            found[f"worker{index}"] = _rss(pid)
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the master and workers so far."""
        return sum(_cpu(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _rss(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * PAGE_SIZE / 2**20


def _cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def core_busy() -> dict[int, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    found: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(v) for v in values]
            idle = ticks[3] + ticks[4]
            found[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return found


def calibrate(database_url: str, cpu: int | None) -> dict[str, float]:
    """What this machine charges for the operating-system work every request does: a system call,
    and (on PostgreSQL) one ``SELECT 1`` round trip, in microseconds of wall and of CPU time,
    measured from the server core before the server starts."""
    before = os.sched_getaffinity(0)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        found = {"syscall_us": _per_call(os.getppid, 100_000)[0]}
        if database_url.startswith("postgresql"):
            with psycopg.connect(database_url, autocommit=True) as conn:
                wall, cpu_time = _per_call(lambda: conn.execute("SELECT 1").fetchone(), 2000)
            found["pg_round_trip_us"], found["pg_round_trip_cpu_us"] = wall, cpu_time
        return found
    finally:
        os.sched_setaffinity(0, before)


def _per_call(call: Any, count: int) -> tuple[float, float]:
    for _ in range(count // 10):
        call()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    return (
        (time.perf_counter() - wall) / count * 1e6,
        (time.process_time() - cpu) / count * 1e6,
    )
