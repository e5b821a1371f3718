"""Running the provider under Granian, the production WSGI server, from ``idp serve``.

Granian parses HTTP in Rust and hands each request to a pool of Python threads; on one core it
serves a bare WSGI callable about four times as fast as gunicorn's gthread worker and this Flask
app about twice as fast (docs/performance.md), while keeping threads for the database waits.

Granian 2.8 decides a crash loop by time alone: a worker that dies within 5.5 s of its last
respawn stops the whole server, healthy workers included, and nothing configures that window
(``respawn_interval`` only paces reloads). So ``SupervisedServer`` replaces that one decision and
keeps the rest of Granian's master: a worker that had started (``idp.supervision.mark_ready``) is
replaced however often it is killed; one that dies before it is ready counts as a failed start,
and ``MAX_FAILED_STARTS`` of them in a row for one worker stop the server with exit status 1 and
a log line saying so (a supervisor then restarts it, after its own delay).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels, logger
from granian.server import MPServer

from idp.observability.multiprocess import metrics_directory
from idp.supervision import ready_directory, was_ready

#: Seconds a stopping worker gets to finish its requests before it is killed.
GRACEFUL_SECONDS = 5
#: Seconds an idle keep-alive connection stays open; the reverse proxy must give up on its idle
#: connections sooner (deploy/nginx/yihao.conf, ``keepalive_timeout``), else it can send a
#: request down a connection at the moment this end closes it and get no answer.
KEEPALIVE_IDLE_SECONDS = 30
#: Failed starts in a row of one worker that make a crash loop: the server stops.
MAX_FAILED_STARTS = 3


class SupervisedServer(MPServer):
    """Granian's multi-process master with a crash-loop test that counts failed starts."""

    def _serve_loop(self, spawn_target: Callable[..., Any], target_loader: Any) -> None:
        """Granian's loop for what ``run`` enables: stop on a signal, replace dead workers,
        reload on SIGHUP (no lifetime or memory limits are configured)."""
        failed_starts: dict[int, int] = {}
        while True:
            self.main_loop_interrupt.wait()
            if self.interrupt_signal:
                return
            self.main_loop_interrupt.clear()
            while self.interrupt_children:
                slot = self.interrupt_children.pop(0)
                if self._crash_loop(slot, failed_starts):
                    self.interrupt_children.append(slot)  # shutdown() then exits 1
                    return
                self._respawn_workers([slot], spawn_target, target_loader)
                self._metrics.incr_respawn_err(1)
            if self.reload_signal:
                self._reload(spawn_target, target_loader)  # type: ignore[no-untyped-call]

    def _crash_loop(self, slot: int, failed_starts: dict[int, int]) -> bool:
        """Count worker ``slot``'s death; True once it has failed to start too often."""
        process = self.wrks[slot].inner
        name = f"worker-{slot + 1} (PID {process.pid}, exit code {process.exitcode})"
        if was_ready(process.pid):
            failed_starts[slot] = 0
            logger.warning(f"{name} died while serving; replacing it")
            return False
        failed_starts[slot] = failed_starts.get(slot, 0) + 1
        if failed_starts[slot] >= MAX_FAILED_STARTS:
            logger.error(
                f"{name} failed to start {failed_starts[slot]} times in a row: crash loop, "
                "stopping the server (see the worker's error above)"
            )
            return True
        logger.warning(f"{name} died before it was ready ({failed_starts[slot]}); retrying")
        return False


def run(host: str, port: int, workers: int, threads: int) -> None:
    """Serve until stopped; the workers' metrics add up in a directory made for this start."""
    with metrics_directory(), ready_directory():
        SupervisedServer(
            "idp.app:serving_app",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            http=HTTPModes.http1,  # TLS and HTTP/2 end at the reverse proxy
            http1_settings=HTTP1Settings(header_read_timeout=KEEPALIVE_IDLE_SECONDS * 1000),
            websockets=False,
            workers=workers,
            blocking_threads=threads,
            log_access=False,  # query strings may carry personal data
            log_level=LogLevels.info,  # start-up and worker lines; never requests
            workers_kill_timeout=GRACEFUL_SECONDS,
            # A worker that dies (out of memory, a crash in C) is replaced, as gunicorn did;
            # Granian's default would stop the whole server. SupervisedServer bounds it.
            respawn_failed_workers=True,
        ).serve()
