"""People and enterprises (``idp.admin.subjects``): found by number in a POST body, then named
by public id in every URL, so no identity number is ever part of one."""

from __future__ import annotations

from typing import Any

from idp.admin import subjects
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import (
    ID_NUMBER,
    MASKED_NUMBER,
    NULLABLE_TIME,
    PERSON_REF,
    TIME,
    USCC,
    closed,
)

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
_FLAG: dict[str, Any] = {"type": "boolean"}
_TEXT: dict[str, Any] = {"type": "string"}
_ENTERPRISE_REF = closed(
    {"enterprise": _TEXT, "uscc": MASKED_NUMBER, "name": _TEXT}, "enterprise", "uscc", "name"
)
_PERSON = closed(
    {
        "person": _TEXT,
        "id_number": MASKED_NUMBER,
        "document_type": _TEXT,
        "disabled": _FLAG,
        "disabled_at": NULLABLE_TIME,
        "created_at": TIME,
        "factors": closed(
            {"password": _FLAG, "totp": _FLAG, "recovery_codes": _COUNT, "passkeys": _COUNT},
            "password",
            "totp",
            "recovery_codes",
            "passkeys",
        ),
        "sign_ins": _COUNT,
        "enterprises": {"type": "array", "items": _ENTERPRISE_REF},
    },
    "person",
    "id_number",
    "document_type",
    "disabled",
    "disabled_at",
    "created_at",
    "factors",
    "sign_ins",
    "enterprises",
)
_ENTERPRISE = closed(
    {
        "enterprise": _TEXT,
        "uscc": MASKED_NUMBER,
        "name": _TEXT,
        "created_at": TIME,
        "legal_representative": PERSON_REF,
    },
    "enterprise",
    "uscc",
    "name",
    "created_at",
    "legal_representative",
)
_BY_NUMBER = closed({"id_number": ID_NUMBER}, "id_number")


@operation(
    "POST",
    "/people/search",
    calls=subjects.find_person,
    tag="people",
    summary="Find the person registered with an identity number (sent in the body, shown masked)",
    request_schema=_BY_NUMBER,
    response=_PERSON,
)
def find_person(operator: Operator, body: dict[str, Any]) -> Any:
    return subjects.find_person(operator, body["id_number"])


@operation(
    "GET",
    "/people/{person}",
    calls=subjects.show_person,
    tag="people",
    summary="A person, by public id",
    response=_PERSON,
)
def show_person(operator: Operator, person: str) -> Any:
    return subjects.show_person(operator, person)


@operation(
    "POST",
    "/people/{person}/disable",
    calls=subjects.disable,
    tag="people",
    summary="Disable a person: no sign-in, every session ended, every token revoked",
    response=closed(
        {
            "person": _TEXT,
            "id_number": MASKED_NUMBER,
            "sessions_ended": _COUNT,
            "tokens_revoked": _COUNT,
        },
        "person",
        "id_number",
        "sessions_ended",
        "tokens_revoked",
    ),
)
def disable_person(operator: Operator, person: str) -> Any:
    return subjects.disable(operator, person)


@operation(
    "POST",
    "/people/{person}/enable",
    calls=subjects.enable,
    tag="people",
    summary="Let a disabled person sign in again",
    response=_PERSON,
)
def enable_person(operator: Operator, person: str) -> Any:
    return subjects.enable(operator, person)


@operation(
    "POST",
    "/people/{person}/reset-factors",
    calls=subjects.reset_factors,
    tag="people",
    summary="Remove the authenticator app, recovery codes and passkeys; end every session",
    response=closed(
        {
            "id_number": MASKED_NUMBER,
            "totp_removed": _FLAG,
            "passkeys_removed": _COUNT,
            "sessions_ended": _COUNT,
        },
        "id_number",
        "totp_removed",
        "passkeys_removed",
        "sessions_ended",
    ),
)
def reset_factors(operator: Operator, person: str) -> Any:
    return subjects.reset_factors(operator, person)


@operation(
    "POST",
    "/people/{person}/unlock",
    calls=subjects.unlock,
    tag="people",
    summary="Forget the person's failed password attempts",
    response=closed(
        {"person": _TEXT, "id_number": MASKED_NUMBER, "status": {"const": "unlocked"}},
        "person",
        "id_number",
        "status",
    ),
)
def unlock_person(operator: Operator, person: str) -> Any:
    return subjects.unlock(operator, person)


@operation(
    "POST",
    "/enterprises/search",
    calls=subjects.find_enterprise,
    tag="enterprises",
    summary="Find the enterprise registered with a unified social credit code",
    request_schema=closed({"uscc": USCC}, "uscc"),
    response=_ENTERPRISE,
)
def find_enterprise(operator: Operator, body: dict[str, Any]) -> Any:
    return subjects.find_enterprise(operator, body["uscc"])


@operation(
    "GET",
    "/enterprises/{enterprise}",
    calls=subjects.show_enterprise,
    tag="enterprises",
    summary="An enterprise, by public id",
    response=_ENTERPRISE,
)
def show_enterprise(operator: Operator, enterprise: str) -> Any:
    return subjects.show_enterprise(operator, enterprise)


@operation(
    "PUT",
    "/enterprises/{enterprise}/representative",
    calls=subjects.set_representative,
    tag="enterprises",
    summary="Record a new legal representative (a registered person)",
    request_schema=_BY_NUMBER,
    response=_ENTERPRISE,
)
def set_representative(operator: Operator, enterprise: str, body: dict[str, Any]) -> Any:
    return subjects.set_representative(operator, enterprise, body["id_number"])
