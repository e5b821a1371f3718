"""``/healthz`` and ``/readyz`` (idp.web.health): what a load balancer and a supervisor ask."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from flask import Flask

from idp.app import create_app
from idp.config import Settings
from idp.store.db import db

#: Nothing listens on port 1 of loopback: a database or Redis that is down.
DEAD_POSTGRES = "postgresql://127.0.0.1:1/test"
DEAD_REDIS = "redis://127.0.0.1:1/0"
LIVE_REDIS = "redis://127.0.0.1:6379/0"


def test_a_serving_node_is_up_and_ready(app: Flask) -> None:
    client = app.test_client()
    up = client.get("/healthz")
    assert up.status_code == 200 and up.get_json() == {"status": "up"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}
    assert ready.headers["Cache-Control"] == "no-store"


def test_a_node_whose_database_is_down_is_up_but_not_ready(settings: Settings) -> None:
    app = create_app(replace(settings, database_url=DEAD_POSTGRES))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "failed"
    assert "127.0.0.1" not in ready.get_data(as_text=True)  # no error text, no DSN


def test_a_node_with_the_wrong_data_key_is_not_ready(
    app: Flask, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A rotation that left the old IDP_DATA_KEY out of the fallbacks: the keys do not open."""
    wrong = create_app(replace(settings, data_key=os.urandom(32)))
    ready = wrong.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["keys"] == "failed"
    assert "IDP_DATA_KEY_FALLBACKS" in caplog.text
    with wrong.app_context():
        db.engine.dispose()


def test_redis_is_asked_only_where_it_is_used(app: Flask, settings: Settings) -> None:
    assert "redis" not in app.test_client().get("/readyz").get_json()["checks"]
    live = create_app(replace(settings, redis_url=LIVE_REDIS)).test_client().get("/readyz")
    assert live.status_code == 200 and live.get_json()["checks"]["redis"] == "ok"
    dead = create_app(replace(settings, redis_url=DEAD_REDIS)).test_client().get("/readyz")
    assert dead.status_code == 503 and dead.get_json()["checks"]["redis"] == "failed"
    sessions = create_app(replace(settings, session_store=DEAD_REDIS)).test_client()
    answer = sessions.get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["checks"]["session_store"] == "failed"
