"""What the database holds: the schema the migrations build, and no plaintext personal data."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import Select, text

from idp.oauth.backchannel_logout import SESSION_CODES
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


def _plan(query: Select[Any]) -> str:
    """The database's plan for ``query``, with sequential scans priced out on PostgreSQL (so an
    index that can serve it is used even on an empty table)."""
    dialect = db.engine.dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(text("EXPLAIN " + sql)).scalars().all()
    else:
        plan = [row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql))]
    db.session.rollback()
    return " ".join(plan)


def test_the_nonce_replay_check_is_served_by_an_index(ctx: Flask) -> None:
    # Every authorization request with a nonce runs this check; the table grows with sign-ins.
    query = NONCE_HELD.params(client_id="some-client", nonce="some-nonce")
    assert "ix_authorization_codes_client_nonce" in _plan(query)


def test_ending_a_session_finds_its_codes_by_an_index(ctx: Flask) -> None:
    # Every sign-out runs this lookup; the table grows with sign-ins.
    query = SESSION_CODES.params(sid="0" * 32, person_id=1)
    assert "ix_authorization_codes_session_id" in _plan(query)
