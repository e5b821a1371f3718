"""Token-exchange policies of a client (``idp.admin.exchange``, RFC 8693)."""

from __future__ import annotations

from typing import Any

from idp.admin import exchange
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import PAGING_QUERY, TIME, Schema, closed, page_of

_TEXT: Schema = {"type": "string"}
_AUDIENCE: Schema = {"type": "string", "minLength": 1, "maxLength": exchange.LONGEST_AUDIENCE}
_FIELDS: dict[str, Schema] = {
    "client_id": _TEXT,
    "audience": _TEXT,
    "scope": _TEXT,
    "created_by": _TEXT,
    "created_at": TIME,
}
_POLICY = closed(_FIELDS, *_FIELDS)
_ADD = closed(
    {"audience": _AUDIENCE, "scope": {"type": "string", "minLength": 1, "maxLength": 500}},
    "audience",
    "scope",
)
_REMOVE = closed({"audience": _AUDIENCE}, "audience")
_REMOVED = closed(
    {"client_id": _TEXT, "audience": _TEXT, "removed": {"type": "boolean"}},
    "client_id",
    "audience",
    "removed",
)
PATH = "/clients/{client_id}/exchange-policies"


@operation(
    "GET",
    PATH,
    calls=exchange.list_policies,
    tag="clients",
    summary="The audiences this client may exchange people's tokens for (RFC 8693)",
    response=page_of(_POLICY),
    query=PAGING_QUERY,
)
def list_policies(operator: Operator, client_id: str, **page: int) -> Any:
    return exchange.list_policies(operator, client_id, **page)


@operation(
    "POST",
    PATH,
    calls=exchange.add_policy,
    tag="clients",
    status=201,
    summary="Let a confidential client exchange people's tokens for one audience, with at most"
    " these scopes",
    request_schema=_ADD,
    response=_POLICY,
)
def add_policy(operator: Operator, client_id: str, body: dict[str, Any]) -> Any:
    return exchange.add_policy(operator, client_id, body["audience"], [body["scope"]])


@operation(
    "POST",
    PATH + "/remove",
    calls=exchange.remove_policy,
    tag="clients",
    summary="No more exchanges by this client for that audience",
    request_schema=_REMOVE,
    response=_REMOVED,
)
def remove_policy(operator: Operator, client_id: str, body: dict[str, Any]) -> Any:
    return exchange.remove_policy(operator, client_id, body["audience"])
