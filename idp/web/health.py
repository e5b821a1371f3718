"""Liveness (``/healthz``) and readiness (``/readyz``) for load balancers and supervisors.

A node pointed at a dead database used to answer discovery with 200 while JWKS, ``/authorize``
and the trust list answered 500, so a balancer that checked discovery kept sending it traffic.
``/readyz`` answers 200 only when this process can serve: the database answers, Redis answers
when the sessions or the throttling counters live there, and signing keys are loaded. The body
names each check with ``ok`` or ``failed`` and never an error text (which could carry a DSN).
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from idp.services import services
from idp.store.crypto import DecryptionError
from idp.store.db import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

#: A probe must answer quickly whatever it finds: a balancer gives up after a few seconds.
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@bp.route("/healthz")
def healthz() -> Response:
    """The process is up and serving requests; nothing else is asked."""
    return _answer(200, {"status": "up"})


@bp.route("/readyz")
def readyz() -> Response:
    checks = {"database": _database(), "keys": _keys()}
    for name, url in _redis_urls().items():
        checks[name] = _redis(url)
    ready = all(result == "ok" for result in checks.values())
    return _answer(
        200 if ready else 503, {"status": "ready" if ready else "unavailable", "checks": checks}
    )


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "failed"
    return "ok"


def _keys() -> str:
    try:
        return "ok" if services().keys.jwks()["keys"] else "failed"
    except SQLAlchemyError:
        db.session.rollback()
        return "failed"
    except DecryptionError as exc:  # a data key missing from IDP_DATA_KEY_FALLBACKS
        log.error("readyz: signing keys do not open: %s", exc)  # column and key id, no data
        return "failed"


def _redis_urls() -> dict[str, str]:
    settings = services().settings
    found = {"redis": settings.redis_url} if settings.redis_url else {}
    if settings.session_store.startswith(REDIS_SCHEMES):
        found["session_store"] = settings.session_store
    return found


def _redis(url: str) -> str:
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "failed"
    finally:
        client.close()
    return "ok"


def _answer(status: int, body: dict[str, object]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
