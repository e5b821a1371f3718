"""Rotating IDP_DATA_KEY: with the old key in IDP_DATA_KEY_FALLBACKS everything still reads,
`idp db re-encrypt` moves every encrypted column to the new key (once: a second run moves
nothing), and then the fallback can go. Without the old key a read fails with an error naming the
column and the missing key. Each run has a database of its own, since it changes every row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from sqlalchemy import LargeBinary, select

from idp.app import create_app
from idp.auth import rfc6238
from idp.cli.dev_pki import ensure_pki
from idp.config import Settings
from idp.keys import requests
from idp.keys.issuer import TRUST_LIST
from idp.services import services
from idp.store.crypto import DecryptionError
from idp.store.db import db
from idp.store.migrate import upgrade
from idp.store.models import Person
from idp.store.reencrypt import ENCRYPTED_COLUMNS, reencrypt_all
from idp.store.subjects import read_person
from tests.conftest import _postgres_database, make_citizen, make_enterprise
from tests.support.registry import put_on_record

Contents = dict[str, list[str]]


def _app(settings: Settings, data_key: bytes, *fallbacks: bytes) -> Flask:
    return create_app(replace(settings, data_key=data_key, data_key_fallbacks=fallbacks))


@pytest.fixture()
def own_settings(
    settings: Settings, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    if database_url.startswith("sqlite"):
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('rekey') / 'k.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    yield replace(settings, database_url=url, certs_dir=tmp_path_factory.mktemp("certs"))
    next(urls, None)  # drops the PostgreSQL database


@pytest.fixture()
def old_key() -> bytes:
    return os.urandom(32)


@pytest.fixture()
def populated(own_settings: Settings, old_key: bytes) -> Iterator[int]:
    """A value in every encrypted column, under ``old_key``; one name in the unnamed format
    of version 1 ciphertext. Yields that person's id."""
    app = _app(own_settings, old_key)
    with app.app_context():
        upgrade(db.engine.url.render_as_string(hide_password=False))
        services().keys.ensure()
        ensure_pki(services())
        requests.request(services(), TRUST_LIST)
    citizen = make_citizen(app, phone="13900000001")
    make_enterprise(app, citizen)
    put_on_record(app, mobile="13900000002")
    with app.app_context():
        person = db.session.get(Person, citizen.person_id)
        assert person is not None
        rfc6238.start_enrolment(services().cipher, person)
        nonce = os.urandom(12)
        person.name_cipher = (
            b"\x01" + nonce + AESGCM(old_key).encrypt(nonce, citizen.name.encode(), b"persons.name")
        )
        db.session.commit()
        db.engine.dispose()
    yield citizen.person_id


def _read_everything(app: Flask) -> Contents:
    """Every encrypted value in the database, decrypted as the application reads it."""
    with app.app_context():
        cipher = services().cipher
        contents = {
            f"{column.class_.__tablename__}.{column.key}": [
                cipher.decrypt(blob, context)
                for blob in db.session.scalars(select(column).where(column.is_not(None)))
            ]
            for column, context in ENCRYPTED_COLUMNS
        }
        services().keys.signing_key("ES256")  # the ring opens its private keys
        services().issuer.signer()
        db.engine.dispose()
    return contents


def test_every_encrypted_column_is_re_encrypted(ctx: Flask) -> None:
    listed = {(column.class_.__tablename__, column.key) for column, _context in ENCRYPTED_COLUMNS}
    binary = {
        (table.name, column.name)
        for table in db.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, LargeBinary) and column.name.endswith("_cipher")
    }
    assert listed == binary


def test_rotate_re_encrypt_then_drop_the_fallback(
    own_settings: Settings, old_key: bytes, populated: int
) -> None:
    before = _read_everything(_app(own_settings, old_key))
    assert all(before.values()), before  # every column has something to move
    new_key = os.urandom(32)
    rotated = _app(own_settings, new_key, os.urandom(32), old_key)
    assert _read_everything(rotated) == before
    with rotated.app_context():
        counts = reencrypt_all(services().cipher, batch=2)  # several batches per column
        again = reencrypt_all(services().cipher)
        db.engine.dispose()
    assert counts["already_current"] == 0
    assert counts["persons.name_cipher"] == len(before["persons.name_cipher"])
    assert sum(counts.values()) == sum(map(len, before.values()))
    assert again["already_current"] == sum(map(len, before.values()))
    assert sum(again.values()) == again["already_current"]  # nothing moved the second time
    dropped = _app(own_settings, new_key)
    assert _read_everything(dropped) == before
    with dropped.app_context():
        person = db.session.get(Person, populated)
        assert person is not None
        assert read_person(services().cipher, person).name == before["persons.name_cipher"][0]
        db.engine.dispose()


def test_without_the_old_key_the_error_names_what_is_missing(
    own_settings: Settings, old_key: bytes, populated: int
) -> None:
    forgot = _app(own_settings, os.urandom(32))
    with forgot.app_context():
        person = db.session.get(Person, populated)
        assert person is not None
        with pytest.raises(DecryptionError, match=r"persons\.number was made under data key"):
            read_person(services().cipher, person)
        with pytest.raises(DecryptionError, match=r"persons row \d+: .*IDP_DATA_KEY_FALLBACKS"):
            reencrypt_all(services().cipher)
        db.session.rollback()
        db.engine.dispose()
    # The failed run changed nothing that the old key cannot still read.
    assert _read_everything(_app(own_settings, old_key))
