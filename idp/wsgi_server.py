"""Running the provider under Granian, the production WSGI server, from ``idp serve``.

Granian parses HTTP in Rust and hands each request to a pool of Python threads; on one core it
serves a bare WSGI callable about four times as fast as gunicorn's gthread worker and this Flask
app about twice as fast (docs/performance.md), while keeping threads for the database waits.
"""

from __future__ import annotations

from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels

from idp.observability.multiprocess import metrics_directory

#: Seconds a stopping worker gets to finish its requests before it is killed.
GRACEFUL_SECONDS = 5


def run(host: str, port: int, workers: int, threads: int) -> None:
    """Serve until stopped; the workers' metrics add up in a directory made for this start."""
    with metrics_directory():
        Granian(
            "idp.app:serving_app",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            http=HTTPModes.http1,  # TLS and HTTP/2 end at the reverse proxy
            websockets=False,
            workers=workers,
            blocking_threads=threads,
            log_access=False,  # query strings may carry personal data
            log_level=LogLevels.info,  # start-up and worker lines; never requests
            workers_kill_timeout=GRACEFUL_SECONDS,
            # A worker that dies (out of memory, a crash in C) is replaced, as gunicorn did;
            # Granian's default would stop the whole server. A crash loop still stops it.
            respawn_failed_workers=True,
        ).serve()
