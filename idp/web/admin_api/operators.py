"""Operators and their roles (``idp.admin.operators``)."""

from __future__ import annotations

from typing import Any

from idp.admin import operators
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import ID_NUMBER, MASKED_NUMBER, ROLE, closed

_OPERATOR = closed(
    {
        "person": {"type": "string"},
        "id_number": MASKED_NUMBER,
        "roles": {"type": "array", "items": ROLE},
    },
    "person",
    "id_number",
    "roles",
)


@operation(
    "GET",
    "/operators",
    calls=operators.list_operators,
    tag="operators",
    summary="Every person holding an operator role",
    response={"type": "array", "items": _OPERATOR},
)
def list_operators(operator: Operator) -> Any:
    return operators.list_operators(operator)


@operation(
    "POST",
    "/operators",
    calls=operators.grant,
    tag="operators",
    status=201,
    summary="Give a registered person an operator role",
    request_schema=closed({"id_number": ID_NUMBER, "role": ROLE}, "id_number", "role"),
    response=_OPERATOR,
)
def grant_role(operator: Operator, body: dict[str, Any]) -> Any:
    return operators.grant(operator, body["id_number"], body["role"])


@operation(
    "DELETE",
    "/operators/{person}/roles/{role}",
    calls=operators.withdraw,
    tag="operators",
    summary="Take an operator role back",
    response=_OPERATOR,
)
def withdraw_role(operator: Operator, person: str, role: str) -> Any:
    return operators.withdraw(operator, person, role)
