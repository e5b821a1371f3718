"""The systemd units in deploy/ are what systemd accepts and start commands that exist: the
provider's `idp serve` and the purge that one node per day runs, from a timer whose unit is there.
(The nginx site file is run by the end-to-end TLS tests, tests/support/tls.py.) And the
operations guide, whose runbook they serve, names only `idp` commands that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from idp.cli import main
from idp.wsgi_server import GRACEFUL_SECONDS, KEEPALIVE_IDLE_SECONDS

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
NGINX_SITE = UNITS.parent / "nginx" / "yihao.conf"
#: nginx's keepalive_timeout for upstream connections when the site sets none.
NGINX_DEFAULT_UPSTREAM_IDLE = 60
INSTALLED_IDP = "/opt/yihao/venv/bin/idp"

Unit = dict[str, dict[str, list[str]]]


def _unit(name: str) -> Unit:
    """Sections and their settings; a setting given twice keeps both values, as systemd does."""
    sections: Unit = {}
    current: dict[str, list[str]] = {}
    for raw in (UNITS / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def _parsed_by_idp(command_line: str) -> click.Context:
    """The command line as the `idp` command would parse it (an unknown option raises)."""
    argv = shlex.split(command_line)
    assert argv[0] == INSTALLED_IDP
    command: click.Command = main
    args = argv[1:]
    while isinstance(command, click.Group):
        command, args = command.commands[args[0]], args[1:]
    return command.make_context(command.name or "", args)


def test_the_provider_unit_runs_idp_serve_on_loopback_hardened() -> None:
    service = _unit("yihao.service")["Service"]
    context = _parsed_by_idp(service["ExecStart"][0])
    assert context.command.name == "serve" and context.params["host"] == "127.0.0.1"
    assert service["EnvironmentFile"] == ["/etc/yihao/yihao.env"]
    assert service["User"] == ["yihao"] and service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"] and service["CapabilityBoundingSet"] == [""]
    assert service["RestartPreventExitStatus"] == ["2"]  # a refused configuration: no loop
    # Every process of the service is stopped with it, workers a dead master left included.
    assert service["KillMode"] == ["control-group"]
    assert int(service["TimeoutStopSec"][0]) > GRACEFUL_SECONDS


def test_nginx_gives_up_idle_upstream_connections_before_the_provider_does() -> None:
    """Else nginx may send a request down a connection as ``idp serve`` closes it: no answer."""
    upstream = re.search(r"upstream yihao \{(.*?)\}", NGINX_SITE.read_text(), re.DOTALL)
    assert upstream is not None
    found = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    idle = int(found.group(1)) if found else NGINX_DEFAULT_UPSTREAM_IDLE
    assert idle < KEEPALIVE_IDLE_SECONDS


def test_the_purge_timer_starts_a_purge_that_runs_once_per_cluster() -> None:
    timer = _unit("yihao-purge.timer")["Timer"]
    (target,) = timer["Unit"]
    assert (UNITS / target).is_file()
    service = _unit(target)["Service"]
    assert service["Type"] == ["oneshot"]
    context = _parsed_by_idp(service["ExecStart"][0])
    assert context.command.name == "purge" and context.params["once_per_cluster"]
    assert service["EnvironmentFile"] == _unit("yihao.service")["Service"]["EnvironmentFile"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` with ExecStart pointed at this checkout's idp (it checks that the
    program exists); it reports a bad value only as a warning, so any line about our units fails."""
    idp = shutil.which("idp", path=str(Path(__file__).resolve().parents[2] / ".venv" / "bin"))
    if idp is None:
        pytest.skip("no .venv/bin/idp to stand in for the installed one")
    for unit in UNITS.iterdir():
        text = unit.read_text(encoding="utf-8").replace(INSTALLED_IDP, idp)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [line for line in done.stderr.splitlines() if "yihao" in line]
    assert done.returncode == 0 and not ours, done.stderr


def test_the_operations_guide_names_only_idp_commands_that_exist() -> None:
    """The runbook and the tables tell operators what to type: every `idp X Y` is a command."""
    guide = (UNITS.parents[1] / "docs" / "operations.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bidp ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", guide))
    assert {"db re-encrypt", "db purge", "certs make-root", "person unlock"} <= named
    for words in sorted(named):
        command: click.Command = main
        for word in words.split():
            if not isinstance(command, click.Group):
                break
            assert word in command.commands, f"idp {words}"
            command = command.commands[word]
