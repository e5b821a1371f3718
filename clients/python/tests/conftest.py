"""Fixtures for SDK tests; the world they build is described in ``sdk_world.py``.

Helper modules (``sdk_world``, ``sdk_identities``) import by plain name: the SDK's pytest
configuration puts this directory on ``sys.path`` (``pythonpath`` in ../pyproject.toml).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sdk_identities import new_id_number
from sdk_world import Seen, Served, World, make_issuer
from yihao.pki import generate_root


@pytest.fixture(scope="session")
def pki() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    return generate_root("Yihao Test Root")


@pytest.fixture
def world(pki: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> World:
    root_key, root = pki
    issuer = make_issuer(root_key, root)
    now = int((issuer.certificate.not_valid_before_utc + timedelta(days=1)).timestamp())
    return World(root_key, root, issuer, now, new_id_number(), issuer.code + "001")


@pytest.fixture
def live_world(world: World) -> World:
    """The same world at the real time, for code that reads the system clock (the CLI)."""
    return replace(world, now=int(time.time()))


@pytest.fixture
def server() -> Iterator[Served]:
    """A loopback HTTP server; tests put a response under a path in ``routes`` (see ``Served``).

    The one stand-in for the provider's endpoints in this suite (trust and status lists, JWKS,
    discovery, token and revocation), so what the SDK is tested against is real HTTP.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.seen.append(Seen("GET", self.path, dict(self.headers.items()), {}))
            self._answer()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            served.seen.append(Seen("POST", self.path, dict(self.headers.items()), form))
            self._answer()

        def _answer(self) -> None:
            route = served.routes.get(self.path, ("text/plain", b"", 404))
            content_type, body = route[0], route[1]
            status = route[2] if len(route) == 3 else 200
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = Served(f"http://127.0.0.1:{httpd.server_address[1]}", {})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
