"""``GET /metrics`` for Prometheus, answered only to the addresses in ``IDP_METRICS_ALLOW``.

The numbers say how many people sign in, how often a throttle bites and when a certificate
lapses: nothing for the public, so any other address gets the same 404 as an unknown path (the
endpoint's existence is not advertised either). The client address is Flask's
``request.remote_addr``, which ProxyFix has taken from ``X-Forwarded-For`` for ``IDP_PROXY_HOPS``
proxies, as everywhere else; behind nginx the scraper's own address is checked, not nginx's.
Also here: naming each request's Flask endpoint for the request metrics.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Flask, Response, abort, request, request_started
from sqlalchemy.exc import SQLAlchemyError

from idp.keys.issuer import IssuerKeys
from idp.observability import metrics
from idp.observability.http import ENDPOINT, UNMATCHED
from idp.observability.multiprocess import sweep_dead_workers
from idp.services import services
from idp.store.db import db

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def scrape() -> Response:
    if not _allowed(request.remote_addr):
        abort(404)
    svc = services()
    for keys in (svc.issuer, svc.trust_signer):
        _report_expiry(keys)
    sweep_dead_workers()
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _allowed(address: str | None) -> bool:
    try:
        found = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        found = found.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return any(found in network for network in services().settings.metrics_allow)


def _report_expiry(keys: IssuerKeys) -> None:
    """The expiry gauge, fresh at each scrape (loading the key warns when it is near)."""
    try:
        left = keys.seconds_left()
    except SQLAlchemyError:  # the database is down: the rest of the metrics still answer
        db.session.rollback()
        return
    if left is not None:
        metrics.certificate_expiry(keys.purpose, left)


def _name_endpoint(_sender: Flask, **_extra: Any) -> None:
    # Sent after routing and before any before_request hook, so a request a hook refuses (a
    # CSRF failure) is still counted under its endpoint.
    request.environ[ENDPOINT] = request.endpoint or UNMATCHED


def init_metrics(app: Flask) -> None:
    app.register_blueprint(bp)
    request_started.connect(_name_endpoint, app)
