"""Refusing an address that is over its sign-in limit before Flask sees the request.

During a credential-stuffing flood nearly every request of the attacker's address is refused.
Through Flask each refusal still loads the session, checks the CSRF token, looks the number up and
renders the login page (milliseconds of the core the real users' hashes need, docs/performance.md),
so an address already over ``IDP_LOGIN_ADDRESS_LIMIT`` gets its 429 here, for any interaction
form it posts: from one read of its counter, or none once this process has refused it in this
window; only the first refusal of a window is logged. The answer depends on the address only,
never on the number posted, so it is the same for registered and unknown numbers. Under the
limit the request goes on, and the login step counts it (``idp.auth.login``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from idp.auth.events import SecurityEvent, security_event
from idp.observability import metrics
from idp.observability.http import ENDPOINT
from idp.services import Services
from idp.sessions.devices import mask_address
from idp.throttle.keys import address_digest

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The interaction forms (login, enterprise, consent) post to ``/interaction/<uid>``; the passkey
#: endpoints below it (``/interaction/<uid>/passkey...``) are never gated: a passkey sign-in is not
#: throttled by password failures, not even those of an attacker behind the owner's address.
GATED_PREFIX = "/interaction/"
#: The refusals' ``gate`` label and endpoint name in the metrics.
GATE = "address_gate"
#: Both languages at once: the page is made before the locale is chosen.
PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>尝试次数过多 Too many attempts</title>"
    "<h1>尝试次数过多，请稍候再试。</h1>"
    '<p lang="en">Too many attempts. Wait a moment, then try again.</p></html>'
).encode()


class AddressGate:
    def __init__(self, app: Flask, svc: Services) -> None:
        self._next: WsgiApp = app.wsgi_app
        self._app = app
        self._svc = svc

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and _gated(environ.get("PATH_INFO", "")):
            address = environ.get("REMOTE_ADDR")
            with self._app.app_context():
                digest = address_digest(self._svc.cipher, address)
                refusal = self._svc.throttle.address_refusal(digest)
                if refusal is not None and not refusal.repeated:  # one log line per window
                    masked = mask_address(address)
                    security_event(SecurityEvent.THROTTLED, None, address=masked, gate="address")
            if refusal is not None:
                metrics.throttled(GATE)
                environ[ENDPOINT] = GATE
                start_response(
                    "429 Too Many Requests",
                    [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Length", str(len(PAGE))),
                        ("Retry-After", str(refusal.retry_after)),
                        ("Cache-Control", "no-store"),
                        ("Content-Security-Policy", "default-src 'none'"),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                )
                return [PAGE]
        return self._next(environ, start_response)


def _gated(path: str) -> bool:
    return path.startswith(GATED_PREFIX) and "/" not in path[len(GATED_PREFIX) :]
