"""What a worker of ``idp serve`` tells its master, and how it follows the master out.

Two faults of a plain Granian start are closed here, on the worker's side (the master's side is
``idp.wsgi_server.SupervisedServer``):

- A worker says when it is ready (its application built) by leaving a file named after its pid
  in a directory the master made for this start. The master then tells a worker that was killed
  while serving (replace it, however often) from one that cannot start (a crash loop: stop).
  Granian's own test, "died within 5.5 s of its last respawn", took three kills in eight seconds
  for a crash loop and stopped the healthy workers with it.
- A worker dies with its master. Without this, ``kill -9`` of the master left its workers
  answering on the port with nobody to replace them, and a supervisor could not rebind the port.
  Linux's parent-death signal (prctl(2) ``PR_SET_PDEATHSIG``) is used rather than a thread that
  polls ``os.getppid()``: the kernel delivers it at once, costs nothing while the master lives, and
  needs no thread in every worker. It is SIGTERM, so Granian's worker finishes the requests it has
  started and exits. Linux only; elsewhere the worker does without.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Where the master of this start asks its workers to say they are ready. Not a setting: the
#: master sets it for its own workers (as it does PROMETHEUS_MULTIPROC_DIR), nobody else.
READY_DIR_ENV = "YIHAO_WORKER_READY_DIR"
#: prctl(2) option number, from <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1


@contextmanager
def ready_directory() -> Iterator[Path]:
    """A fresh directory for this start's ready files while the block runs, then gone."""
    with tempfile.TemporaryDirectory(prefix="idp-ready-") as name:
        previous = os.environ.get(READY_DIR_ENV)
        os.environ[READY_DIR_ENV] = name
        try:
            yield Path(name)
        finally:
            if previous is None:
                os.environ.pop(READY_DIR_ENV, None)
            else:
                os.environ[READY_DIR_ENV] = previous


def mark_ready() -> None:
    """In a worker, once its application is built: it started, whatever befalls it later."""
    directory = os.environ.get(READY_DIR_ENV)
    if directory:
        (Path(directory) / str(os.getpid())).touch()


def was_ready(pid: int) -> bool:
    """In the master, of a worker that has exited: had it started? Forgets it (pids return)."""
    directory = os.environ.get(READY_DIR_ENV)
    if not directory:
        return False
    marker = Path(directory) / str(pid)
    ready = marker.exists()
    marker.unlink(missing_ok=True)
    return ready


def die_with_master() -> None:
    """In a worker, first thing: have the kernel send SIGTERM when the master exits."""
    master = multiprocessing.parent_process()
    if master is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != master.pid:  # the master died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)
