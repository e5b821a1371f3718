"""Adding up Granian's workers: one directory of value files per ``idp serve`` start.

prometheus_client's multiprocess mode has each process write its values to memory-mapped files
in ``PROMETHEUS_MULTIPROC_DIR``, and the scrape reads them all. ``idp serve`` makes a fresh
directory before Granian forks its workers (so they inherit the variable and a respawned worker
writes beside its predecessor, whose counts stay), and removes it when the server stops: left-over
files from an earlier run would be added to the new one's. Gauges of live state (hashes waiting,
connections out) must forget a dead worker; a worker that crashed runs no exit hook, so the scrape
first marks every worker whose process is gone (``sweep_dead_workers``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idp.observability.metrics import MULTIPROC_ENV

#: The per-process files of gauges that count only live processes: ``gauge_livesum_1234.db``.
_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` under ``TMPDIR`` while the block runs, then gone."""
    if "prometheus_client" in sys.modules:
        # Imported with the variable unset, the forked workers would keep their values in memory
        # and every scrape would read an empty directory.
        raise RuntimeError("prometheus_client was imported before the metrics directory was set")
    directory = Path(tempfile.mkdtemp(prefix="idp-metrics-"))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def sweep_dead_workers() -> None:
    """Drop the live-gauge files of processes that have exited (``mark_process_dead``)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    from prometheus_client.multiprocess import mark_process_dead

    pids = {int(m.group(1)) for name in os.listdir(directory) if (m := _LIVE_FILE.fullmatch(name))}
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the number: not our worker
        return False
    return True


def check_worker() -> None:
    """In a worker of ``idp serve``: refuse to serve when values would not reach the scrape."""
    if not os.environ.get(MULTIPROC_ENV):
        return
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        raise RuntimeError(
            f"{MULTIPROC_ENV} is set but prometheus_client was imported before it: "
            "metrics would stay in this worker"
        )
