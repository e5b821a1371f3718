"""Operators of the admin console and API: the shell grants the first admin, who grants the rest."""

from __future__ import annotations

import click

from idp.admin import operators
from idp.admin.roles import CLI, Role
from idp.cli.base import app_context, emit, json_option, main, operator_command

_ROLE = click.Choice([r.value for r in Role])


@main.group("operator")
def operator_group() -> None:
    """People who hold admin roles (admin, client-manager, support, auditor)."""


@operator_group.command("grant")
@click.option("--id-number", required=True)
@click.option("--role", required=True, type=_ROLE)
@json_option
@operator_command
def operator_grant(id_number: str, role: str, as_json: bool) -> None:
    """Give a registered person a role; they use it after signing in with a second factor."""
    with app_context():
        emit(operators.grant(CLI, id_number, role), as_json)


@operator_group.command("withdraw")
@click.option("--person", "person_id", required=True, help="The operator's public id (list).")
@click.option("--role", required=True, type=_ROLE)
@json_option
@operator_command
def operator_withdraw(person_id: str, role: str, as_json: bool) -> None:
    """Take a role back."""
    with app_context():
        emit(operators.withdraw(CLI, person_id, role), as_json)


@operator_group.command("list")
@json_option
@operator_command
def operator_list(as_json: bool) -> None:
    """Every operator and their roles (numbers masked)."""
    with app_context():
        for shown in operators.list_operators(CLI):
            emit(shown, as_json)
