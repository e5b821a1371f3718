"""``X-Request-Id`` (idp.web.request_id): on every response, and in the security log lines."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
from flask import Flask

from idp.app import create_app
from idp.config import Settings
from tests.conftest import RegisteredClient
from tests.support.browser import Authorization, Browser


def test_every_response_names_its_own_request(app: Flask) -> None:
    client = app.test_client()
    first, second = client.get("/healthz"), client.get("/account")
    ids = [r.headers["X-Request-Id"] for r in (first, second)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", found) for found in ids) and ids[0] != ids[1]
    # Without a proxy in front, an id the client offers is not taken.
    offered = client.get("/healthz", headers={"X-Request-Id": "made-up-by-the-client"})
    assert offered.headers["X-Request-Id"] != "made-up-by-the-client"


def test_the_proxys_id_is_kept_when_it_is_a_plain_token(settings: Settings) -> None:
    client = create_app(replace(settings, proxy_hops=1)).test_client()
    kept = client.get("/healthz", headers={"X-Request-Id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"})
    assert kept.headers["X-Request-Id"] == "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    for offered in ('x" security {"event": "forged"}', "a" * 65):
        replaced = client.get("/healthz", headers={"X-Request-Id": offered})
        assert re.fullmatch(r"[0-9a-f]{16}", replaced.headers["X-Request-Id"])


def test_a_security_event_carries_the_request_id(
    app: Flask, rp: RegisteredClient, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Browser(app.test_client())
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    with caplog.at_level(logging.INFO, logger="idp.security"):
        answer = browser.submit(page, username="11010519491231002X", password="wrong password")
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.security"]
    assert events and events[-1]["request_id"] == answer.headers["X-Request-Id"]
