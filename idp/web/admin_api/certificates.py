"""Issued e-certificates (``idp.admin.certificates``): one by identifier, a holder's by number in
a POST body, and revocation with a reason."""

from __future__ import annotations

from typing import Any

from idp.admin import certificates
from idp.admin.roles import Operator
from idp.credentials.status import REASONS
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import ID_NUMBER, MASKED_NUMBER, NULLABLE_TIME, TIME, USCC, closed

_TEXT: dict[str, Any] = {"type": "string"}
_NULLABLE_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_INTEGER: dict[str, Any] = {"type": "integer"}
_CERTIFICATE = closed(
    {
        "identifier": _TEXT,
        "type": _INTEGER,
        "version": _INTEGER,
        "holder": MASKED_NUMBER,
        "issued_at": TIME,
        "valid_until": NULLABLE_TIME,
        "status_list": _INTEGER,
        "status_index": _INTEGER,
        "revoked_at": NULLABLE_TIME,
        "revoke_reason": _NULLABLE_TEXT,
        "revoked_by": _NULLABLE_TEXT,
        "revoked_by_id": _NULLABLE_TEXT,
    },
    "identifier",
    "type",
    "version",
    "holder",
    "issued_at",
    "valid_until",
    "status_list",
    "status_index",
    "revoked_at",
    "revoke_reason",
    "revoked_by",
    "revoked_by_id",
)
#: A holder is a person (identity number) or an enterprise (its code): exactly one of the two.
_HOLDER = {
    **closed({"id_number": ID_NUMBER, "uscc": USCC}),
    "minProperties": 1,
    "maxProperties": 1,
}


@operation(
    "GET",
    "/certificates/{identifier}",
    calls=certificates.show,
    tag="certificates",
    summary="A certificate's metadata and status, by GB/T 36904 identifier",
    response=_CERTIFICATE,
)
def show_certificate(operator: Operator, identifier: str) -> Any:
    return certificates.show(operator, identifier)


@operation(
    "POST",
    "/certificates/search",
    calls=certificates.of_holder,
    tag="certificates",
    summary="The certificates of a holder, by identity number or enterprise code (in the body)",
    request_schema=_HOLDER,
    response={"type": "array", "items": _CERTIFICATE},
)
def find_certificates(operator: Operator, body: dict[str, Any]) -> Any:
    return certificates.of_holder(operator, id_number=body.get("id_number"), code=body.get("uscc"))


@operation(
    "POST",
    "/certificates/{identifier}/revoke",
    calls=certificates.revoke_certificate,
    tag="certificates",
    summary="Revoke a certificate: every QR code made from it stops verifying",
    request_schema=closed({"reason": {"type": "string", "enum": list(REASONS)}}, "reason"),
    response=closed(
        {"identifier": _TEXT, "revoked": {"const": True}, "already_revoked": {"type": "boolean"}},
        "identifier",
        "revoked",
        "already_revoked",
    ),
)
def revoke_certificate(operator: Operator, identifier: str, body: dict[str, Any]) -> Any:
    return certificates.revoke_certificate(operator, identifier, body["reason"])
