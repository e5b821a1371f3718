"""The provider benchmark suite (``make bench``; never part of ``make test``).

A fresh database (PostgreSQL when reachable, else SQLite) is set up with ``idp`` commands, then
``idp serve`` (Granian, production mode, OWASP Argon2id) runs pinned to CPU 0 while ``wrk`` and
this driver run on CPU 1. Each wrk figure is warmed up, then measured ``--runs`` times for
``--seconds``; the median run is reported with its p50/p99 latency. The authorization-code login
is timed step by step by a sequential client; the e-certificate figures come from
bench_credentials. See docs/performance.md for what each figure means.

    python -m tests.bench.run [--workers 2 --threads 4] [--only discovery,refresh]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import bench_credentials, bench_flood, flows, wrk
from tests.bench.server import (
    Server,
    Setup,
    calibrate,
    core_busy,
    database,
    pin_database_backends,
    provision,
)

RESULTS = Path(__file__).parent / "results"
SERVER_CPU, LOAD_CPU = 0, 1
WARM_UP_SECONDS = 1.0
#: Refresh tokens prepared per second of refresh measurement, per unit of the estimated rate.
REFRESH_MARGIN = 1.6
#: At most this long is spent minting refresh tokens (keeps the suite under six minutes).
REFRESH_MINT_BUDGET = 90.0
#: Refresh tokens for the warm-up, whose rate sizes the rest.
REFRESH_WARM_UP_TOKENS = 600
#: Issuance bodies per wrk invocation: over twice what one 5 s run issued (171/s, performance.md);
#: a run that runs out reports failed requests.
ISSUE_BODIES_PER_RUN = 2000


@dataclass(frozen=True)
class Target:
    value: float
    unit: str
    higher_is_better: bool = True

    def gap(self, measured: float) -> tuple[bool, str]:
        """Whether the target is met, and the measured value's distance from it, in %."""
        met = measured >= self.value if self.higher_is_better else measured <= self.value
        return met, f"{(measured / self.value - 1) * 100:+.0f}%"


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    target: Target | None
    prepare: Callable[[Context], wrk.Load]


@dataclass
class Context:
    setup: Setup
    server: Server
    work: Path
    args: argparse.Namespace
    memory: MemorySampler


class MemorySampler:
    """The highest RSS of the master and of each worker seen while a figure runs (5 Hz)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak: dict[str, float] = {}
        #: Per figure: the highest total RSS (master + workers) seen while it ran.
        self.by_figure: dict[str, float] = {}
        self.figure = "idle"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            found = self.server.rss_mb()
            for name, mb in found.items():
                self.peak[name] = max(self.peak.get(name, 0.0), mb)
            total = sum(found.values())
            self.by_figure[self.figure] = max(self.by_figure.get(self.figure, 0.0), total)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --- what each figure sends ---------------------------------------------------------------------


def _get(path: str) -> Callable[[Context], wrk.Load]:
    return lambda ctx: wrk.Load(path, connections=ctx.args.connections)


def _client_credentials(kind: str) -> Callable[[Context], wrk.Load]:
    def prepare(ctx: Context) -> wrk.Load:
        client = ctx.setup.clients[kind]
        flows.client_tokens(ctx.setup, client, 1)  # fails loudly if the grant is refused
        records = wrk.write_records(
            ctx.work / f"{kind}.records",
            "POST",
            {
                "Authorization": flows.basic(client),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            [("/token", None, "grant_type=client_credentials")],
        )
        return wrk.Load("/token", (records,), connections=ctx.args.connections)

    return prepare


def _introspection(ctx: Context) -> wrk.Load:
    """A resource server asking about citizens' access tokens (each a different one)."""
    client = ctx.setup.clients["code"]
    tokens = flows.many_tokens(ctx.setup, client, "openid", 200)
    records = wrk.write_records(
        ctx.work / "introspect.records",
        "POST",
        {
            "Authorization": flows.basic(client),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        [("/introspect", None, f"token={t['access_token']}") for t in tokens],
    )
    return wrk.Load("/introspect", (records,), connections=ctx.args.connections)


def _refresh(ctx: Context) -> wrk.Load:
    """Single-use refresh tokens, one grant each. A first batch is the warm-up, and its rate sizes
    one file of tokens per run, with a margin (a run that runs out reports failed requests).
    Minting is slow (~100/s here), so it stops after REFRESH_MINT_BUDGET seconds and the runs are
    shortened to what the tokens cover."""
    client = ctx.setup.clients["code"]
    cpu = LOAD_CPU if ctx.args.pin else None
    headers = {
        "Authorization": flows.basic(client),
        "Content-Type": "application/x-www-form-urlencoded",
    }

    def write(index: int, tokens: list[str]) -> Path:
        body = "grant_type=refresh_token&refresh_token="
        records = [("/token", None, body + token) for token in tokens]
        return wrk.write_records(ctx.work / f"refresh-{index}.records", "POST", headers, records)

    began = time.perf_counter()

    def mint(count: int) -> list[str]:
        made = flows.many_tokens(
            ctx.setup, client, "openid", count, deadline=began + REFRESH_MINT_BUDGET
        )
        return [t["refresh_token"] for t in made]

    first = write(0, mint(REFRESH_WARM_UP_TOKENS))
    warm = wrk.Load("/token", (first,), mode="once", connections=ctx.args.connections)
    warmed = wrk.run(ctx.setup.issuer, warm, WARM_UP_SECONDS, cpu, 0)
    # Refused requests mean the warm-up ran out of tokens: the real rate is higher still.
    rate = (warmed.requests - warmed.errors) / warmed.seconds * REFRESH_MARGIN
    rate *= 2 if warmed.errors else 1
    seconds = ctx.args.seconds
    tokens = mint(int(rate * seconds * ctx.args.runs))
    print(
        f"  prepared {len(tokens) + REFRESH_WARM_UP_TOKENS} refresh tokens in "
        f"{time.perf_counter() - began:.1f} s"
    )
    if len(tokens) < int(rate * seconds * ctx.args.runs):
        seconds = max(1.0, float(int(len(tokens) / rate / ctx.args.runs)))
        print(f"  runs shortened to {seconds:.0f} s")
    share = len(tokens) // ctx.args.runs
    files = [write(i + 1, tokens[i * share : (i + 1) * share]) for i in range(ctx.args.runs)]
    return wrk.Load(
        "/token",
        (files[0], *files),  # invocation 0 would be the warm-up, done above
        mode="once",
        connections=ctx.args.connections,
        seconds=seconds,
        warmed=True,
    )


def _issuance(ctx: Context) -> wrk.Load:
    """Each body spends a nonce of its own, so every wrk invocation reads a file of fresh bodies
    once, made just before the figure (the proofs stay good for 120 s)."""
    client = ctx.setup.clients["credentials"]
    token = flows.many_tokens(ctx.setup, client, "openid credentials", 1)[0]["access_token"]
    flows.check_issue(ctx.setup, token, flows.issuance_bodies(ctx.setup, token, 1)[0])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    files = [
        wrk.write_records(
            ctx.work / f"issue-{index}.records",
            "POST",
            headers,
            [("/credentials/issue", None, body) for body in bodies],
        )
        for index, bodies in enumerate(
            flows.issuance_bodies(ctx.setup, token, ISSUE_BODIES_PER_RUN)
            for _ in range(ctx.args.runs + 1)  # file 0 is the warm-up's
        )
    ]
    return wrk.Load(
        "/credentials/issue", tuple(files), mode="once", connections=ctx.args.connections
    )


def _password_logins(ctx: Context) -> wrk.Load:
    records = wrk.write_records(
        ctx.work / "login.records",
        "POST",
        # A browser names the page's origin on every form post (idp/web/csrf.py checks it).
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": ctx.setup.issuer},
        flows.login_forms(ctx.setup),
    )
    # Every worker thread busy with a password check, and no more (each costs 19 MiB).
    return wrk.Load("/interaction", (records,), connections=ctx.server.workers * ctx.server.threads)


FIGURES = [
    Figure(
        "discovery",
        "discovery document",
        Target(6500, "req/s"),
        _get("/.well-known/openid-configuration"),
    ),
    Figure("jwks", "JWKS", Target(10_000, "req/s"), _get("/jwks.json")),
    Figure(
        "cc_opaque",
        "client_credentials, opaque",
        Target(3500, "req/s"),
        _client_credentials("cc_opaque"),
    ),
    Figure(
        "cc_jwt", "client_credentials, JWT", Target(2300, "req/s"), _client_credentials("cc_jwt")
    ),
    Figure("introspection", "introspection", Target(3500, "req/s"), _introspection),
    Figure("refresh", "refresh-token grant", None, _refresh),
    Figure("issuance", "e-certificate issuance", None, _issuance),
    Figure("password_login", "password logins (Argon2id)", Target(30, "req/s"), _password_logins),
]
#: A refresh "in ~1.4 ms" of one server core: compared as core-milliseconds per refresh.
REFRESH_TARGET = Target(1.4, "ms", higher_is_better=False)
AUTH_CODE_TARGET = Target(11.0, "ms", higher_is_better=False)
VERIFY_TARGET = Target(0.5, "x raw ES256")
WORKER_MEMORY_TARGET = Target(150.0, "MiB", higher_is_better=False)
#: Real users' sign-in rate during a 10x credential-stuffing flood, as a share of the unloaded one.
FLOOD_TARGET = Target(0.8, "x unloaded")


# --- measuring --------------------------------------------------------------------------------


@contextmanager
def watching(server: Server) -> Iterator[dict[str, float]]:
    """Server CPU seconds and the server core's busy share over the block."""
    found: dict[str, float] = {}
    cpu, busy = server.cpu_seconds(), core_busy()
    yield found
    after = core_busy()
    found["server_cpu_s"] = server.cpu_seconds() - cpu
    used, total = (after[SERVER_CPU][i] - busy[SERVER_CPU][i] for i in (0, 1))
    found["server_core_busy"] = used / total if total else 0.0


def measure(ctx: Context, figure: Figure) -> dict[str, Any]:
    load = figure.prepare(ctx)
    cpu = LOAD_CPU if ctx.args.pin else None
    seconds = load.seconds or ctx.args.seconds
    if not load.warmed:
        wrk.run(ctx.setup.issuer, load, WARM_UP_SECONDS, cpu, 0)
    runs = []
    for index in range(ctx.args.runs):
        if cpu is not None:
            pin_database_backends(cpu)
        with watching(ctx.server) as usage:
            result = wrk.run(ctx.setup.issuer, load, seconds, cpu, index + 1)
        runs.append(
            {
                "rate": result.rate,
                "requests": result.requests,
                "seconds": result.seconds,
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                "errors": result.errors,
                "server_cpu_ms_per_request": usage["server_cpu_s"] * 1e3 / max(1, result.requests),
                "server_core_busy": usage["server_core_busy"],
            }
        )
        if result.errors:
            print(f"  {figure.name}: {result.errors} failed requests", file=sys.stderr)
    median = sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]
    return {
        "label": figure.label,
        "connections": load.connections,
        "median": median,
        "runs": runs,
        "rates": [r["rate"] for r in runs],
    }


def run_figures(ctx: Context, names: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for figure in FIGURES:
        if figure.name not in names:
            continue
        print(f"- {figure.label} ...", flush=True)
        ctx.memory.figure = figure.name
        found[figure.name] = measure(ctx, figure)
        median = found[figure.name]["median"]
        print(
            f"  {median['rate']:.0f}/s p50 {median['p50_ms']:.2f} ms p99 {median['p99_ms']:.2f} ms"
            f", {median['server_cpu_ms_per_request']:.2f} server-CPU ms/req"
        )
    return found


# --- report -----------------------------------------------------------------------------------


def machine(database_kind: str, args: argparse.Namespace) -> dict[str, Any]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "database": database_kind,
        "server": f"idp serve, Granian {args.workers} workers x {args.threads} threads, "
        f"IDP_ENV=production, Argon2id defaults, pinned to CPU {SERVER_CPU}"
        if args.pin
        else "not pinned",
        "load": f"wrk 1 thread, pinned to CPU {LOAD_CPU}" if args.pin else "not pinned",
        "seconds_per_run": args.seconds,
        "runs": args.runs,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, latency, target, gap) for the printed table."""
    out: list[tuple[str, str, str, str, str]] = []
    figures = report["figures"]

    def gap(target: Target, value: float) -> str:
        met, distance = target.gap(value)
        return f"{'met' if met else 'MISSED'} {distance}"

    for figure in FIGURES:
        if figure.name not in figures:
            continue
        median = figures[figure.name]["median"]
        latency = f"p50 {median['p50_ms']:.1f} / p99 {median['p99_ms']:.1f} ms"
        measured = f"{median['rate']:,.0f}/s"
        if median["errors"]:
            measured += f" ({median['errors']} errors)"
        if figure.name == "refresh":
            per = 1e3 / median["rate"]
            out.append(
                (
                    figure.label,
                    f"{measured} = {per:.2f} ms",
                    latency,
                    "1.4 ms",
                    gap(REFRESH_TARGET, per),
                )
            )
            continue
        target = figure.target
        out.append(
            (
                figure.label,
                measured,
                latency,
                f"{target.value:,.0f}/s" if target else "-",
                gap(target, median["rate"]) if target else "-",
            )
        )
    code = report.get("authorization_code")
    if code:
        out.append(
            (
                "authorization-code login",
                f"{code['total_ms']:.1f} ms",
                f"login submit {code['steps_ms']['login submit']:.1f} ms, the other steps "
                f"{sum(code['steps_ms'].values()) - code['steps_ms']['login submit']:.1f} ms",
                "11 ms",
                gap(AUTH_CODE_TARGET, code["total_ms"]),
            )
        )
    flood = report.get("flood")
    if flood:
        out.append(
            (
                "sign-ins during a 10x flood",
                f"{flood['flooded_per_s']:.1f}/s = {flood['share']:.2f} x unloaded",
                f"unloaded {flood['unloaded_per_s']:.1f}/s, attacker "
                f"{flood['attacker_per_s']:.0f}/s {flood['attacker_answers']}",
                "0.8 x unloaded",
                gap(FLOOD_TARGET, flood["share"]),
            )
        )
    creds = report.get("credentials")
    if creds:
        speed = creds["speed"]
        raw = speed["raw_es256_verify_per_s"]
        for key, label in (
            ("verify_new_credential_per_s", "QR verify, first seen"),
            ("verify_seen_credential_per_s", "QR verify, re-presented"),
        ):
            ratio = speed[key] / raw
            out.append(
                (
                    label,
                    f"{speed[key]:,.0f}/s = {ratio:.2f} x raw",
                    f"raw ES256 verify {raw:,.0f}/s",
                    "0.5 x raw",
                    gap(VERIFY_TARGET, ratio),
                )
            )
    memory = report.get("memory_mb")
    if memory:
        workers = [v for k, v in memory["peak"].items() if k.startswith("worker")]
        worst = max(workers) if workers else 0.0
        out.append(
            (
                "server memory (peak RSS)",
                f"{worst:.0f} MiB/worker",
                f"idle {max(v for k, v in memory['idle'].items() if k != 'master'):.0f} "
                f"MiB/worker, master {memory['peak'].get('master', 0):.0f} MiB",
                "< 150 MiB/worker",
                gap(WORKER_MEMORY_TARGET, worst),
            )
        )
    return out


def print_table(report: dict[str, Any]) -> None:
    table = rows(report)
    heads = ("figure", "measured", "latency / detail", "target", "gap")
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(heads)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    code = report.get("authorization_code")
    if code:
        print("\nauthorization-code login, median ms per step:")
        for name, ms in code["steps_ms"].items():
            print(f"  {name:20} {ms:7.2f}")
    if "credentials" in report:
        print()
        bench_credentials.print_sizes(report["credentials"]["sizes"])


# --- main -------------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--logins", type=int, default=20, help="timed authorization-code logins")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated figures: "
        + ",".join(f.name for f in FIGURES)
        + ",authorization_code,flood,credentials",
    )
    parser.add_argument(
        "--database",
        choices=["auto", "postgresql", "sqlite"],
        default="auto",
        help="auto: PostgreSQL at YIHAO_BENCH_PG when reachable, else SQLite",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "bench.json")
    parser.add_argument("--keep-serving", action="store_true", help="for profiling: wait at end")
    args = parser.parse_args()
    args.pin = len(os.sched_getaffinity(0)) >= 2 and (os.cpu_count() or 1) >= 2
    return args


def main() -> None:
    args = arguments()
    started = time.monotonic()
    names = [n for n in args.only.split(",") if n] or [
        *(f.name for f in FIGURES),
        "authorization_code",
        "flood",
        "credentials",
    ]
    if args.pin:
        os.sched_setaffinity(0, {LOAD_CPU})  # this driver is part of the load, not the server
    else:
        print("fewer than 2 CPUs: server and load share the machine, unpinned", file=sys.stderr)
    wrk.executable()
    report: dict[str, Any] = {}
    signal.signal(signal.SIGTERM, _interrupted)  # stop the server and drop the database
    with (
        tempfile.TemporaryDirectory(prefix="yihao-bench-") as tmp,
        database(Path(tmp), args.database) as db,
    ):
        kind, url = db
        work = Path(tmp)
        print(f"database: {kind}; setting up with idp commands ...", flush=True)
        setup = provision(work, url)
        report["machine"] = machine(kind, args)
        report["machine"]["calibration"] = calibrate(url, SERVER_CPU if args.pin else None)
        server = Server(setup, args.workers, args.threads, SERVER_CPU if args.pin else None)
        memory = MemorySampler(server)
        try:
            report["memory_mb"] = {"idle": server.rss_mb()}
            memory.start()
            ctx = Context(setup, server, work, args, memory)
            report["figures"] = run_figures(ctx, names)
            if "authorization_code" in names:
                print("- authorization-code logins ...", flush=True)
                report["authorization_code"] = flows.authorization_code_logins(setup, args.logins)
            if "flood" in names:
                print("- legitimate sign-ins during a credential-stuffing flood ...", flush=True)
                ctx.memory.figure = "flood"
                report["flood"] = bench_flood.measure(
                    setup, args.seconds, server.workers * server.threads
                )
            memory.stop()
            report["memory_mb"]["peak"] = memory.peak
            report["memory_mb"]["peak_total_by_figure"] = memory.by_figure
            if args.keep_serving:
                print(f"serving at {setup.issuer} (pid {server.process.pid}); Ctrl-C to stop")
                _wait_forever()
        finally:
            server.stop()
    if "credentials" in names:
        print("- e-certificate sizes and offline verification ...", flush=True)
        report["credentials"] = bench_credentials.measure()
    report["suite_seconds"] = time.monotonic() - started
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(report)
    print(f"\n{_describe(report['machine'])}")
    calibration = report["machine"]["calibration"]
    print(
        "machine calibration (server core): "
        + ", ".join(f"{k} {v:.1f}" for k, v in calibration.items())
    )
    print(f"suite: {report['suite_seconds']:.0f} s; results in {args.output}")


def _describe(found: dict[str, Any]) -> str:
    return (
        f"{found['nproc']} x {found['cpu_model']}, Python {found['python']}, {found['database']}; "
        f"{found['server']}; {found['load']}"
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
