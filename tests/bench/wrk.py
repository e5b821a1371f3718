"""Running ``wrk`` on the load core and reading its report.

Requests that are not a plain GET are written to a records file that ``lua/records.lua`` loads
once per wrk thread: line 1 the method, then header lines, a blank line, then one
``PATH<TAB>COOKIE<TAB>BODY`` record per line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).parent / "lua" / "records.lua"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_LATENCY = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class Load:
    """What one figure sends: a URL path, or a records file for ``lua/records.lua``."""

    path: str
    #: Records files; wrk invocation i (0 is the warm-up) reads the i-th, or the last one. In
    #: "once" mode each invocation needs its own file: wrk reads its file afresh each time.
    records: tuple[Path, ...] = ()
    mode: str = "cycle"
    connections: int = 16
    #: Seconds per measured run when the figure needs its own (else the suite's --seconds).
    seconds: float | None = None
    #: Already warmed up while it was prepared.
    warmed: bool = False


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    raw: str = field(repr=False)


def write_records(
    path: Path,
    method: str,
    headers: Mapping[str, str],
    records: Iterable[tuple[str, str | None, str]],
) -> Path:
    """A records file: each record is (path, cookie or None, body)."""
    lines = [method, *(f"{k}: {v}" for k, v in headers.items()), ""]
    for url, cookie, body in records:
        if any("\t" in part or "\n" in part for part in (url, cookie or "", body)):
            raise ValueError("a record may hold neither tabs nor newlines")
        lines.append(f"{url}\t{cookie or '-'}\t{body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def executable() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench does it)")
    return found


def run(base_url: str, load: Load, seconds: float, cpu: int | None, invocation: int) -> WrkResult:
    """One wrk run of ``seconds`` with one thread (pinned to ``cpu``) and --latency."""
    records = load.records[min(invocation, len(load.records) - 1)] if load.records else None
    command = [
        executable(),
        "-t1",
        f"-c{load.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if records is not None:
        command += ["-s", str(LUA)]
    command.append(base_url + load.path)
    if records is not None:
        command += ["--", str(records), load.mode, "1"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse(done.stdout)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(report: str) -> WrkResult:
    latency = {m.group(1): _ms(m.group(2), m.group(3)) for m in _LATENCY.finditer(report)}
    rate, total = _RATE.search(report), _TOTAL.search(report)
    if rate is None or total is None or "50" not in latency:
        raise RuntimeError(f"unreadable wrk report:\n{report}")
    non_2xx = _NON_2XX.search(report)
    socket = _SOCKET.search(report)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1e3,
        rate=float(rate.group(1)),
        p50_ms=latency["50"],
        p99_ms=latency.get("99", latency["50"]),
        errors=errors,
        raw=report,
    )
