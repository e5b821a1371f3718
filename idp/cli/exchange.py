"""Token-exchange policies (RFC 8693): which client may exchange for which audience and scopes."""

from __future__ import annotations

import json

import click

from idp.admin import exchange
from idp.admin.paging import MAX_LIMIT
from idp.admin.roles import CLI
from idp.cli.base import app_context, emit, json_option, main, operator_command


@main.group("exchange-policy")
def exchange_group() -> None:
    """Token exchange (RFC 8693): who may act onward for people, to which service."""


@exchange_group.command("add")
@click.argument("client_id")
@click.argument("audience")
@click.option(
    "--scope", required=True, help="The most an exchanged token carries (space-separated)."
)
@json_option
@operator_command
def policy_add(client_id: str, audience: str, scope: str, as_json: bool) -> None:
    """Let CLIENT_ID exchange people's tokens for tokens to AUDIENCE."""
    with app_context():
        emit(exchange.add_policy(CLI, client_id, audience, [scope]), as_json)


@exchange_group.command("list")
@click.option("--client", "client_id", help="Only this client's policies.")
@json_option
@operator_command
def policy_list(client_id: str | None, as_json: bool) -> None:
    """Every policy, oldest first."""
    with app_context():
        rows: list[dict[str, object]] = []
        while page := exchange.list_policies(CLI, client_id, len(rows), MAX_LIMIT)["items"]:
            rows.extend(page)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['client_id']}  {row['audience']}  {row['scope']}")


@exchange_group.command("remove")
@click.argument("client_id")
@click.argument("audience")
@json_option
@operator_command
def policy_remove(client_id: str, audience: str, as_json: bool) -> None:
    """No more exchanges by CLIENT_ID for AUDIENCE (tokens exchanged already run out)."""
    with app_context():
        emit(exchange.remove_policy(CLI, client_id, audience), as_json)
