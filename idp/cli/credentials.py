"""Issued e-certificates: look one up by its GB/T 36904 identifier, revoke it."""

from __future__ import annotations

from typing import Any

import click
from yihao.wire.identifier import is_valid_identifier

from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.credentials.certificates import find_by_identifier
from idp.credentials.status import REASONS, Revoker, forget_cached, revoke
from idp.store.models import Certificate


@main.group("credentials")
def credentials_group() -> None:
    """Electronic certificates (电子证照)."""


def _found(identifier: str) -> Certificate:
    if not is_valid_identifier(identifier):
        raise click.BadParameter("not a GB/T 36904 identifier (1.2.156.3005.2....), or bad check")
    certificate = find_by_identifier(identifier)
    if certificate is None:
        raise click.BadParameter("no certificate has this identifier")
    return certificate


def _describe(certificate: Certificate) -> dict[str, Any]:
    return {
        "identifier": certificate.identifier,
        "type": certificate.credential_type,
        "version": certificate.version,
        "holder": certificate.holder_masked,
        "issued_at": certificate.issued_at.isoformat(),
        "valid_until": certificate.valid_until.isoformat() if certificate.valid_until else None,
        "status_list": certificate.status_list_id,
        "status_index": certificate.status_index,
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "revoke_reason": certificate.revoke_reason,
        "revoked_by": certificate.revoked_by,
        "revoked_by_id": certificate.revoked_by_id,
    }


@credentials_group.command("show")
@click.argument("identifier")
@json_option
@operator_command
def credentials_show(identifier: str, as_json: bool) -> None:
    """Print a certificate's metadata and status."""
    with app_context():
        emit(_describe(_found(identifier)), as_json)


@credentials_group.command("revoke")
@click.argument("identifier")
@click.option("--reason", type=click.Choice(REASONS), default="unspecified")
@json_option
@operator_command
def credentials_revoke(identifier: str, reason: str, as_json: bool) -> None:
    """Flip the certificate's status bit: every QR code made from it stops verifying."""
    with app_context():
        certificate = _found(identifier)
        changed = revoke(certificate, reason, Revoker.operator())
        forget_cached()
        emit({"identifier": identifier, "revoked": True, "already_revoked": not changed}, as_json)
