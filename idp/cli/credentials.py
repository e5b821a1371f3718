"""Issued e-certificates: look one up by its GB/T 36904 identifier, revoke it."""

from __future__ import annotations

import click

from idp.admin import certificates
from idp.admin.roles import CLI
from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.credentials.status import REASONS


@main.group("credentials")
def credentials_group() -> None:
    """Electronic certificates (电子证照)."""


@credentials_group.command("show")
@click.argument("identifier")
@json_option
@operator_command
def credentials_show(identifier: str, as_json: bool) -> None:
    """Print a certificate's metadata and status."""
    with app_context():
        emit(certificates.show(CLI, identifier), as_json)


@credentials_group.command("revoke")
@click.argument("identifier")
@click.option("--reason", type=click.Choice(REASONS), default="unspecified")
@json_option
@operator_command
def credentials_revoke(identifier: str, reason: str, as_json: bool) -> None:
    """Flip the certificate's status bit: every QR code made from it stops verifying."""
    with app_context():
        emit(certificates.revoke_certificate(CLI, identifier, reason), as_json)
