"""Set-up and running: secrets, schema, demo data, the server."""

from __future__ import annotations

import click

from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.config import load_settings, new_secret
from idp.demo import seed
from idp.services import services
from idp.store.db import db
from idp.store.migrate import downgrade, revisions, upgrade
from idp.store.purge import claim_day, purge_expired
from idp.store.reencrypt import reencrypt_all
from idp.wsgi_server import run


@main.command("secret")
def secret() -> None:
    """Print a fresh 32-byte secret for IDP_SECRET_KEY, IDP_DATA_KEY or IDP_INDEX_KEY."""
    click.echo(new_secret())


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@json_option
@operator_command
def db_upgrade(as_json: bool) -> None:
    """Apply every pending migration, then make sure signing keys exist."""
    settings = load_settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    with app_context():
        upgrade(_url())
        created = services().keys.ensure()
    emit({"status": "upgraded", "new_keys": created}, as_json)


@db_group.command("status")
@json_option
@operator_command
def db_status(as_json: bool) -> None:
    """The schema revision of the database and the latest one this version of the code has."""
    with app_context():
        current, latest = revisions(_url())
    emit({"current": current, "latest": latest, "up_to_date": current == latest}, as_json)


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Confirm: a downgrade drops what later revisions added.")
@json_option
@operator_command
def db_downgrade(revision: str, yes: bool, as_json: bool) -> None:
    """Go back to REVISION (e.g. 0012), for rolling back an upgrade; drops what came after it."""
    if not yes:
        raise click.UsageError("a downgrade drops tables and columns: add --yes to go ahead")
    with app_context():
        downgrade(_url(), revision)
        current, _latest = revisions(_url())
    emit({"status": "downgraded", "current": current}, as_json)


def _url() -> str:
    return str(db.engine.url.render_as_string(hide_password=False))


@db_group.command("purge")
@click.option(
    "--once-per-cluster",
    is_flag=True,
    help="Skip unless this node is the first to claim today's (UTC) purge (the systemd timer).",
)
@json_option
@operator_command
def db_purge(once_per_cluster: bool, as_json: bool) -> None:
    """Delete expired codes, tokens, sessions and one-time values once they stop mattering."""
    with app_context():
        settings = services().settings
        if once_per_cluster and claim_day("purge") is None:
            emit({"status": "skipped", "reason": "another node purged today (UTC)"}, as_json)
            return
        emit(
            purge_expired(settings.session_ttl, history_days=settings.sign_in_history_days), as_json
        )


@db_group.command("re-encrypt")
@click.option("--batch", default=500, type=click.IntRange(1, 10_000), help="Rows per transaction.")
@json_option
@operator_command
def db_reencrypt(batch: int, as_json: bool) -> None:
    """Move every encrypted value to IDP_DATA_KEY; then IDP_DATA_KEY_FALLBACKS can be emptied.
    Safe to repeat and to run while serving."""
    with app_context():
        emit(reencrypt_all(services().cipher, batch), as_json)


@main.group("demo")
def demo_group() -> None:
    """Demonstration data."""


@demo_group.command("seed")
@json_option
@operator_command
def demo_seed(as_json: bool) -> None:
    """Create demo citizens, an enterprise and a demo client (skipping what exists)."""
    with app_context():
        emit(seed(), as_json)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--threads", default=4, type=int)
@operator_command
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with Granian; no access log, as query strings may carry personal data. The
    configuration was checked before this runs (``idp.cli.base.main``), not in each worker."""
    run(host, port, workers, threads)
