"""idp.observability: the multiprocess directory of ``idp serve``, the sweep of dead workers'
live gauges, and the JSON log lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, g

from idp.observability.logs import REQUEST_ID, JsonLines
from idp.observability.metrics import MULTIPROC_ENV
from idp.observability.multiprocess import check_worker, metrics_directory, sweep_dead_workers

#: What ``idp serve`` does before Granian forks: the ``idp`` command imported, then the directory.
SERVE_START = """
import os, sys
import idp.cli  # everything the command imports, as `idp serve` has
from idp.observability.multiprocess import metrics_directory
with metrics_directory() as directory:
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory) and directory.is_dir()
    from prometheus_client import values
    assert values.ValueClass._multiprocess  # what a forked worker inherits
print(directory)
"""


def test_the_directory_is_set_before_prometheus_client_is_imported_then_removed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_START], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    directory = Path(done.stdout.strip())
    assert directory.name.startswith("idp-metrics-") and not directory.exists()


def test_the_directory_is_refused_once_prometheus_client_is_imported() -> None:
    import prometheus_client  # noqa: F401  (as a worker would have it, in memory)

    with pytest.raises(RuntimeError, match="imported before"), metrics_directory():
        pass
    assert MULTIPROC_ENV not in os.environ


def test_a_worker_refuses_to_serve_metrics_it_could_not_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    check_worker()  # no directory: single-process metrics, fine
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    with pytest.raises(RuntimeError, match="imported before"):
        check_worker()


def test_the_live_gauges_of_exited_workers_are_swept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    mine = os.getpid()
    names = [
        f"gauge_livesum_{exited.pid}.db",
        f"counter_{exited.pid}.db",
        f"gauge_livesum_{mine}.db",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    sweep_dead_workers()
    # A dead worker's counts stay in the sums; only its "now" values go.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


def test_a_log_line_is_json_naming_its_request() -> None:
    app = Flask(__name__)
    formatter = JsonLines()
    with app.test_request_context("/x"):
        setattr(g, REQUEST_ID, "0123456789abcdef")
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.LogRecord(
                "idp.web.errors", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
            )
        line = json.loads(formatter.format(record))
    assert line["request_id"] == "0123456789abcdef"
    assert (line["level"], line["logger"], line["message"]) == (
        "error",
        "idp.web.errors",
        "failed here",
    )
    assert "ValueError: boom" in line["exception"]
    outside = logging.LogRecord("idp.oauth", logging.WARNING, __file__, 1, "gave up", (), None)
    assert json.loads(formatter.format(outside)) == {
        "level": "warning",
        "logger": "idp.oauth",
        "message": "gave up",
        "request_id": None,
    }
