"""Counting and timing every HTTP request, outermost in the WSGI stack.

Outermost, so that the answers given before Flask (discovery and JWKS from ready bytes, the
address gate's 429) are counted too. Whoever answers names the endpoint in the WSGI environ
(``ENDPOINT``): Flask's endpoint name (``idp.web.metrics``) or the early answerer's own; never
the raw path, which a client chooses and which would make a new series per URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from idp.observability import metrics

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The environ key naming what answered the request.
ENDPOINT = "idp.endpoint"
#: The label of a request nothing claimed (no route matched, a 404 or 405).
UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: WsgiApp) -> None:
        self._next = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        status = [500]

        def noting_status(line: str, headers: Any, *rest: Any) -> Any:
            status[0] = int(line.split(" ", 1)[0])
            return start_response(line, headers, *rest)

        try:
            return self._next(environ, noting_status)
        finally:
            metrics.request_answered(
                environ.get(ENDPOINT, UNMATCHED),
                environ.get("REQUEST_METHOD", ""),
                status[0],
                time.perf_counter() - started,
            )
