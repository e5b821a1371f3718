"""The token signing-key ring."""

from __future__ import annotations

import json

import click

from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.services import services


@main.group("keys")
def keys_group() -> None:
    """The signing-key ring."""


@keys_group.command("rotate")
@json_option
@operator_command
def keys_rotate(as_json: bool) -> None:
    """Retire the active signing keys and create new ones; the old stay published until expiry."""
    with app_context():
        emit({"new_keys": services().keys.rotate()}, as_json)


@keys_group.command("list")
@json_option
@operator_command
def keys_list(as_json: bool) -> None:
    """List every key with its state."""
    with app_context():
        rows = [
            {
                "kid": k.kid,
                "alg": k.alg,
                "created_at": k.created_at.isoformat(),
                "retired_at": k.retired_at.isoformat() if k.retired_at else None,
            }
            for k in services().keys.listing()
        ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = f"retired {row['retired_at']}" if row["retired_at"] else "active"
        click.echo(f"{row['kid']}  {row['alg']}  created {row['created_at']}  {state}")
