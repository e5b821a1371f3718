"""Fixtures shared by every test level: databases (SQLite and PostgreSQL), the app, subjects."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from idp.app import create_app
from idp.cli.dev_pki import ensure_pki
from idp.config import Argon2Params, Settings, load_settings, new_secret
from idp.identifiers import parse_resident_id, parse_uscc
from idp.oauth.registration import ClientSpec, register_client
from idp.services import services
from idp.store.db import db
from idp.store.migrate import upgrade
from idp.store.models import Client, Person
from idp.store.subjects import Contact, add_enterprise, add_person
from tests.support.browser import Browser
from tests.support.identities import new_id_number, new_uscc

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("YIHAO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
#: Cheap Argon2id for tests only; the OWASP defaults are asserted separately and benchmarked.
FAST_ARGON2 = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)


def _postgres_database() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}")
    name = f"yihao_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'yihao.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    env = {
        "IDP_ENV": "testing",
        "IDP_DATABASE_URL": database_url,
        "IDP_ISSUER": "http://localhost",
        "IDP_INSTANCE_DIR": str(instance),
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
        "IDP_KEY_CACHE_SECONDS": "1",
        "IDP_CERTS_DIR": str(instance / "certs"),
    }
    return replace(load_settings(env), argon2=FAST_ARGON2)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    with application.app_context():
        upgrade(db.engine.url.render_as_string(hide_password=False))
        services().keys.ensure()
        ensure_pki(services())
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture()
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture()
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@dataclass
class Citizen:
    number: str
    password: str
    person_id: int
    name: str


def make_citizen(
    app: Flask, name: str = "张三", phone: str | None = "13900000000", number: str | None = None
) -> Citizen:
    number = number or new_id_number()
    with app.app_context():
        svc = services()
        contact = Contact(phone=phone, address={"formatted": "北京市东城区1号", "country": "CN"})
        person = add_person(
            svc.cipher, parse_resident_id(number), name, svc.passwords.hash(PASSWORD), contact
        )
        db.session.commit()
        return Citizen(number, PASSWORD, person.id, name)


@pytest.fixture()
def citizen(app: Flask) -> Citizen:
    return make_citizen(app)


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None
    redirect_uri: str


def make_client(app: Flask, **overrides: object) -> RegisteredClient:
    fields: dict[str, object] = {
        "name": "公积金中心 Housing fund",
        "redirect_uris": [f"https://rp{secrets.token_hex(3)}.example/cb"],
        "scope": "openid profile phone address",
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "post_logout_redirect_uris": ["https://rp.example/bye"],
    }
    fields.update(overrides)
    with app.app_context():
        client, secret = register_client(ClientSpec(**fields))  # type: ignore[arg-type]
        return RegisteredClient(
            client.client_id, secret, client.redirect_uris[0] if client.redirect_uris else ""
        )


@pytest.fixture()
def rp(app: Flask) -> RegisteredClient:
    return make_client(app)


def make_enterprise(app: Flask, representative: Citizen, name: str = "测试科技有限公司") -> int:
    with app.app_context():
        svc = services()
        person = db.session.get(Person, representative.person_id)
        assert person is not None
        enterprise = add_enterprise(svc.cipher, parse_uscc(new_uscc()), name, person)
        db.session.commit()
        return int(enterprise.id)


__all__ = ["Client", "make_citizen", "make_client", "make_enterprise"]
