"""The token signing-key ring (the admin tasks of ``idp.admin.keys``, acting as the shell)."""

from __future__ import annotations

import json

import click

from idp.admin import keys
from idp.admin.roles import CLI
from idp.cli.base import app_context, emit, json_option, main, operator_command


@main.group("keys")
def keys_group() -> None:
    """The signing-key ring."""


@keys_group.command("rotate")
@json_option
@operator_command
def keys_rotate(as_json: bool) -> None:
    """Retire the active signing keys and create new ones; the old stay published until expiry."""
    with app_context():
        emit(keys.rotate_signing_keys(CLI), as_json)


@keys_group.command("withdraw")
@click.argument("kid")
@click.option("--yes", is_flag=True, help="Confirm: tokens the key signed stop working at once.")
@json_option
@operator_command
def keys_withdraw(kid: str, yes: bool, as_json: bool) -> None:
    """Withdraw a compromised signing key KID: out of the JWKS, its tokens refused, replaced
    first if active. Other nodes follow within IDP_KEY_CACHE_SECONDS."""
    if not yes:
        raise click.BadParameter(
            "tokens signed with it stop working: add --yes", param_hint="--yes"
        )
    with app_context():
        done = keys.withdraw_signing_key(CLI, kid)
    emit({"withdrawn": done["key"]["kid"], "new_keys": done["new_keys"]}, as_json)


@keys_group.command("list")
@json_option
@operator_command
def keys_list(as_json: bool) -> None:
    """List every key with its state."""
    with app_context():
        rows = keys.list_keys(CLI)["signing_keys"]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        since = row["withdrawn_at"] or row["retired_at"]
        state = f"{row['state']} {since}" if since else row["state"]
        click.echo(f"{row['kid']}  {row['alg']}  created {row['created_at']}  {state}")
