"""The discovery document and the JWKS, answered before Flask sees the request.

They are the provider's most-fetched URLs (every relying party, every cache miss, every key
check) and the same bytes for everyone, so they are served from bytes kept ready: the discovery
document never changes while a process runs, and the JWKS bytes are re-read from the key ring
(``KeyRing.jwks_json``) once per ``IDP_KEY_CACHE_SECONDS``, and at once when this process
withdraws a key. Through Flask's request context,
routing and JSON encoding each answer cost about 0.9 ms of CPU (docs/performance.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from idp.caching import TimedValue
from idp.oauth.discovery import provider_metadata
from idp.observability.http import ENDPOINT
from idp.services import Services

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: OIDC Discovery 4, RFC 8414 3; both names serve the same document.
DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
JWKS_PATH = "/jwks.json"
DISCOVERY_MAX_AGE = 300
JWKS_MAX_AGE = 60


class PublicDocuments:
    def __init__(self, app: Flask, svc: Services) -> None:
        self._next: WsgiApp = app.wsgi_app
        self._app = app
        self._svc = svc
        self._discovery = json.dumps(provider_metadata(svc.settings.issuer)).encode()
        # Another cache period on top of the ring's own: KeyRing lets a new key sign only after
        # two, so the key is in these bytes before any token names it. A withdrawn key leaves
        # them at once.
        jwks = TimedValue(svc.settings.key_cache_seconds, self._load_jwks)
        svc.keys.when_withdrawn(jwks.clear)
        self._jwks = jwks.get

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD") or not (path in DISCOVERY_PATHS or path == JWKS_PATH):
            return self._next(environ, start_response)
        if path == JWKS_PATH:
            body, max_age = self._jwks(), JWKS_MAX_AGE
            environ[ENDPOINT] = "documents.jwks"
        else:
            body, max_age = self._discovery, DISCOVERY_MAX_AGE
            environ[ENDPOINT] = "documents.discovery"
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", f"public, max-age={max_age}"),
            ],
        )
        return [b"" if method == "HEAD" else body]

    def _load_jwks(self) -> bytes:
        with self._app.app_context():
            return self._svc.keys.jwks_json()
