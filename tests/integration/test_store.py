"""What the database holds: the schema the migrations build, and no plaintext personal data."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import text

from idp.oauth.oidc_core import NONCE_HELD
from idp.store.db import db
from tests.conftest import Citizen, RegisteredClient


def test_migrations_build_exactly_the_models(ctx: Flask) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_identity_numbers_and_names_are_not_stored_in_clear(ctx: Flask, citizen: Citizen) -> None:
    row = db.session.execute(
        text("SELECT * FROM persons WHERE id = :id"), {"id": citizen.person_id}
    ).one()
    stored = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
    )
    for secret in (citizen.number, citizen.number[6:14], citizen.name):
        assert secret.encode() not in stored


def test_client_secrets_and_tokens_are_stored_as_digests(ctx: Flask, rp: RegisteredClient) -> None:
    stored = db.session.execute(
        text("SELECT secret_digest FROM clients WHERE client_id = :c"), {"c": rp.client_id}
    ).scalar_one()
    assert rp.secret and stored != rp.secret and len(stored) == 64


def test_the_nonce_replay_check_is_served_by_an_index(ctx: Flask) -> None:
    # Every authorization request with a nonce runs this check; the table grows with sign-ins.
    dialect = db.engine.dialect
    query = NONCE_HELD.params(client_id="some-client", nonce="some-nonce")
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(text("EXPLAIN " + sql)).scalars().all()
    else:
        plan = [row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql))]
    db.session.rollback()
    assert "ix_authorization_codes_client_nonce" in " ".join(plan)
