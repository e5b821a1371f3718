"""A grant's lifetime: rotation never carries a refresh token past the grant's absolute end
(IDP_GRANT_TTL, RFC 9700 4.14.2), and a grant to act for an enterprise ends when the person no
longer represents it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from idp.store.db import db
from idp.store.models import Enterprise, Person
from idp.store.subjects import change_representative
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration.test_enterprise import choose, finish, to_enterprise_page
from tests.support.browser import Browser
from tests.support.oidc import is_dead, refresh, tokens_for

DAY = 24 * 3600


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Moves the provider's wall clock forward (it runs in this process)."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def test_rotation_never_outlives_the_grant(
    app: Flask,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    clock: Callable[[float], None],
) -> None:
    settings = app.extensions["yihao"].settings
    idle, absolute = settings.refresh_token_ttl, settings.grant_ttl
    assert idle < absolute  # the defaults: 14 days unused, 30 days in all
    current = tokens_for(browser, rp, citizen)["refresh_token"]
    elapsed = 0
    # Used just inside the idle timeout each time, each rotated token alone would live for ever.
    while elapsed + idle - DAY < absolute:
        clock(idle - DAY)
        elapsed += idle - DAY
        response = refresh(browser, rp, current)
        assert response.status_code == 200, (elapsed, response.get_json())
        current = response.get_json()["refresh_token"]
    clock(absolute - elapsed + 1)  # one second after the grant's end, within the idle timeout
    ended = refresh(browser, rp, current)
    assert (ended.status_code, ended.get_json()["error"]) == (400, "invalid_grant")


def test_a_refresh_token_unused_for_the_idle_timeout_expires(
    app: Flask,
    browser: Browser,
    rp: RegisteredClient,
    citizen: Citizen,
    clock: Callable[[float], None],
) -> None:
    tokens = tokens_for(browser, rp, citizen)
    clock(app.extensions["yihao"].settings.refresh_token_ttl + 1)
    assert refresh(browser, rp, tokens["refresh_token"]).status_code == 400


def test_refresh_for_an_enterprise_stops_when_the_person_no_longer_represents_it(
    app: Flask, browser: Browser
) -> None:
    representative = make_citizen(app, name="钱七")
    successor = make_citizen(app, name="孙八")
    enterprise_id = make_enterprise(app, representative)
    rp = make_client(app, scope="openid profile enterprise")
    request, page = to_enterprise_page(browser, rp, representative)
    tokens = finish(browser, rp, request, choose(browser, page, enterprise_id))
    still = refresh(browser, rp, tokens["refresh_token"])
    assert still.status_code == 200, still.get_json()  # unchanged representative: refreshed
    rotated = still.get_json()

    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        person = db.session.get(Person, successor.person_id)
        assert enterprise is not None and person is not None
        change_representative(enterprise, person)
        db.session.commit()

    refused = refresh(browser, rp, rotated["refresh_token"])
    assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_grant")
    assert is_dead(browser, rp, rotated["access_token"])  # the grant is revoked as a whole
