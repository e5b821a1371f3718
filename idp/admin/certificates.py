"""Issued e-certificates: found by GB/T 36904 identifier or by holder, shown, revoked with a reason.

A holder is found by number (a POST body, never a URL) through the keyed index certificates
share with registry records, so a holder with no account is found too. Revoking flips the
certificate's status-list bit: every QR code made from it stops verifying.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from yihao.wire.identifier import is_valid_identifier

from idp.admin import actions
from idp.admin.errors import Invalid, NotFound
from idp.admin.roles import Operator, Permission, needs
from idp.admin.subjects import resident_id, uscc
from idp.admin.times import iso
from idp.credentials.certificates import find_by_identifier
from idp.credentials.status import BY_CLIENT, BY_OPERATOR, REASONS, Revoker, forget_cached, revoke
from idp.services import services
from idp.store.db import db
from idp.store.models import Certificate
from idp.store.subjects import enterprise_index, person_index


def _found(identifier: str) -> Certificate:
    if not is_valid_identifier(identifier):
        raise Invalid(
            "not a GB/T 36904 identifier (1.2.156.3005.2....), or bad check",
            errors=[{"pointer": "/identifier", "detail": "not a GB/T 36904 identifier"}],
        )
    certificate = find_by_identifier(identifier)
    if certificate is None:
        raise NotFound("no certificate has this identifier")
    return certificate


def _shown(certificate: Certificate) -> dict[str, Any]:
    return {
        "identifier": certificate.identifier,
        "type": certificate.credential_type,
        "version": certificate.version,
        "holder": certificate.holder_masked,
        "issued_at": iso(certificate.issued_at),
        "valid_until": iso(certificate.valid_until),
        "status_list": certificate.status_list_id,
        "status_index": certificate.status_index,
        "revoked_at": iso(certificate.revoked_at),
        "revoke_reason": certificate.revoke_reason,
        "revoked_by": certificate.revoked_by,
        "revoked_by_id": certificate.revoked_by_id,
    }


@needs(Permission.CERTIFICATES_READ)
def show(operator: Operator, identifier: str) -> dict[str, Any]:
    """A certificate's metadata and status."""
    return _shown(_found(identifier))


@needs(Permission.CERTIFICATES_READ)
def of_holder(
    operator: Operator, id_number: str | None = None, code: str | None = None
) -> list[dict[str, Any]]:
    """Every certificate issued to the holder with this identity number, or this enterprise
    code (exactly one of the two), newest first, at most 200."""
    if (id_number is None) == (code is None):
        raise Invalid("give an identity number or an enterprise code, not both")
    cipher = services().cipher
    index = (
        person_index(cipher, resident_id(id_number).number)
        if id_number is not None
        else enterprise_index(cipher, uscc(code or "").code)
    )
    rows = db.session.scalars(
        select(Certificate)
        .where(Certificate.holder_index == index)
        .order_by(Certificate.id.desc())
        .limit(200)
    )
    return [_shown(certificate) for certificate in rows]


def _revoker(operator: Operator) -> Revoker:
    """The certificate's own record of who revoked it: the shell's login (``idp credentials
    revoke``), the operator's public id, or the admin client's id."""
    if operator.kind == "cli":
        return Revoker.operator()
    return Revoker(BY_CLIENT if operator.kind == "client" else BY_OPERATOR, operator.id)


@needs(Permission.CERTIFICATES_REVOKE)
def revoke_certificate(operator: Operator, identifier: str, reason: str) -> dict[str, Any]:
    """Revoke with one of ``REASONS``; revoking again changes (and records) nothing, the first
    revocation stands."""
    if reason not in REASONS:
        raise Invalid(
            f"reason is one of {', '.join(REASONS)}",
            errors=[{"pointer": "/reason", "detail": "not a known reason"}],
        )
    certificate = _found(identifier)
    changed = revoke(certificate, reason, _revoker(operator), commit=False)
    if changed:
        actions.record(
            operator,
            "certificate.revoke",
            "certificate",
            certificate.identifier,
            before={"holder": certificate.holder_masked, "revoked": False},
            after={"holder": certificate.holder_masked, "revoked": True, "reason": reason},
        )
    db.session.commit()
    forget_cached()
    return {"identifier": certificate.identifier, "revoked": True, "already_revoked": not changed}
