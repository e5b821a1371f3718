"""Callers of the admin API: clients whose client-credentials tokens carry ``admin:<role>``."""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from idp.admin import operators
from idp.admin.roles import CLI, ROLE_SCOPES, Role
from idp.auth import rfc6238
from idp.credentials.certificates import Holder, held_by
from idp.credentials.registries import parse_row
from idp.services import services
from idp.store.db import db
from idp.store.models import AdminAction, Enterprise, Person
from idp.store.registry import upsert_record
from idp.store.subjects import enterprise_uscc
from tests.conftest import Citizen, make_citizen, make_client
from tests.support.browser import Browser
from tests.support.registry import id_card_cells

AdminToken = Callable[..., dict[str, str]]


@pytest.fixture()
def admin_headers(app: Flask, browser: Browser) -> AdminToken:
    """``admin_headers(Role.SUPPORT, ...)``: an Authorization header for a fresh client's token
    carrying those roles' scopes (the client registered with the operator's yes to them)."""

    def headers(*roles: Role) -> dict[str, str]:
        scopes = [scope for scope, role in ROLE_SCOPES.items() if role in roles]
        rp = make_client(
            app,
            redirect_uris=[],
            grant_types=["client_credentials"],
            scope=" ".join(scopes),
            allowed_reserved=frozenset(scopes),
        )
        answer = browser.http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
            auth=(rp.client_id, rp.secret or ""),
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}

    return headers


def enrol_totp(app: Flask, citizen: Citizen) -> pyotp.TOTP:
    """Turn the authenticator app on for ``citizen``, as the account page does."""
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        enrolment = rfc6238.start_enrolment(services().cipher, person)
        assert enrolment is not None
        totp = pyotp.TOTP(enrolment.secret)
        assert rfc6238.confirm_enrolment(
            services().cipher, person, totp.at(time.time(), counter_offset=-1)
        )
        return totp


def make_operator(app: Flask, *roles: Role) -> tuple[Citizen, pyotp.TOTP]:
    """A person with an authenticator app and ``roles`` (granted from the shell)."""
    citizen = make_citizen(app)
    totp = enrol_totp(app, citizen)
    with app.app_context():
        for role in roles:
            operators.grant(CLI, citizen.number, role.value)
    return citizen, totp


def sign_in_to_console(browser: Browser, citizen: Citizen, totp: pyotp.TOTP) -> TestResponse:
    """Open /admin/ and sign in with the password and the app's next code; the page reached."""
    page = browser.follow(browser.get("/admin/"))
    assert 'name="password"' in page.get_data(as_text=True), page.get_data(as_text=True)[:300]
    page = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    assert 'name="code"' in page.get_data(as_text=True), page.get_data(as_text=True)[:300]
    return browser.follow(browser.submit(page, code=totp.at(time.time(), counter_offset=1)))


def issue_certificate(app: Flask, holder: Holder, cells: dict[str, str], kind: str) -> str:
    """A registry record and the holder's certificate made from it, as a first request would."""
    with app.app_context():
        svc = services()
        upsert_record(svc.cipher, parse_row(kind, cells))
        db.session.commit()
        (held,) = held_by(svc, holder)
        return held.certificate.identifier


@pytest.fixture()
def id_card(app: Flask, citizen: Citizen) -> str:
    """The identifier of ``citizen``'s identity card certificate."""
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        holder = Holder(person.number_index, person.number_masked, "resident_id")
    cells = id_card_cells(citizen.number, citizen.name, None)
    return issue_certificate(app, holder, cells, "resident_id")


def last_action(app: Flask, action: str) -> AdminAction:
    """The newest admin-action record of ``action``."""
    with app.app_context():
        row = db.session.scalars(
            select(AdminAction).filter_by(action=action).order_by(AdminAction.id.desc())
        ).first()
        assert row is not None
        db.session.expunge(row)
        return row


def uscc_of(app: Flask, enterprise_id: int) -> tuple[str, str]:
    """An enterprise's public id and its code."""
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        return enterprise.public_id, enterprise_uscc(services().cipher, enterprise)
