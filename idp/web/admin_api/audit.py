"""The audit trails for auditors (``idp.admin.audit``): each a page of JSON or a CSV export.

The three trails share their filters' shape: a time range (``since`` inclusive, ``until``
exclusive) and exact matches; the CSV export takes the same filters, without paging.
"""

from __future__ import annotations

from typing import Any

from idp.admin import audit
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import (
    MASKED_NUMBER,
    MOMENT_QUERY,
    PAGING_QUERY,
    TIME,
    Schema,
    closed,
    page_of,
)

_TEXT: Schema = {"type": "string", "minLength": 1, "maxLength": 200}
_OR_NULL = {"type": ["string", "null"]}
_RANGE: dict[str, Schema] = {"since": MOMENT_QUERY, "until": MOMENT_QUERY}
_CSV: Schema = {"type": "string", "description": "RFC 4180 CSV with a header line"}

_ADMIN_ACTION = closed(
    {
        "id": {"type": "integer"},
        "at": TIME,
        "actor_kind": {"type": "string", "enum": ["person", "client", "cli"]},
        "actor": {"type": "string"},
        "action": {"type": "string"},
        "target_type": {"type": "string"},
        "target": {"type": "string"},
        "before": {"type": ["object", "null"]},
        "after": {"type": ["object", "null"]},
        "request_id": _OR_NULL,
    },
    *audit.ADMIN_ACTIONS.columns,
)
_SECURITY_EVENT = closed(
    {
        "id": {"type": "integer"},
        "at": TIME,
        "event": {"type": "string"},
        "person": _OR_NULL,
        "id_number": {"anyOf": [MASKED_NUMBER, {"type": "null"}]},
        "address": _OR_NULL,
        "request_id": _OR_NULL,
        "details": {"type": "object"},
    },
    *audit.SECURITY_EVENTS.columns,
)
_RELEASE = closed(
    {
        "id": {"type": "integer"},
        "at": TIME,
        "client_id": {"type": "string"},
        "person": {"type": "string"},
        "id_number": MASKED_NUMBER,
        "enterprise": _OR_NULL,
        "claims": {"type": "array", "items": {"type": "string"}},
        "channel": {"type": "string"},
    },
    *audit.RELEASES.columns,
)

_ADMIN_ACTION_QUERY = {**_RANGE, "action": _TEXT, "actor": _TEXT, "target": _TEXT}
_SECURITY_EVENT_QUERY = {**_RANGE, "event": _TEXT, "person": _TEXT}
_RELEASE_QUERY = {**_RANGE, "client": _TEXT, "person": _TEXT}


@operation(
    "GET",
    "/audit/admin-actions",
    calls=audit.admin_actions,
    tag="audit",
    summary="What operators did, newest first",
    query={**_ADMIN_ACTION_QUERY, **PAGING_QUERY},
    response=page_of(_ADMIN_ACTION),
)
def admin_actions(operator: Operator, **filters: Any) -> Any:
    return audit.admin_actions(operator, **filters)


@operation(
    "GET",
    "/audit/admin-actions.csv",
    calls=audit.admin_actions_csv,
    tag="audit",
    summary="What operators did, as CSV (the same filters, every matching row)",
    query=_ADMIN_ACTION_QUERY,
    response=_CSV,
    response_media="text/csv",
)
def admin_actions_csv(operator: Operator, **filters: Any) -> Any:
    return audit.admin_actions_csv(operator, **filters)


@operation(
    "GET",
    "/audit/security-events",
    calls=audit.security_events,
    tag="audit",
    summary="Sign-ins, failures, factor and password changes, newest first",
    query={**_SECURITY_EVENT_QUERY, **PAGING_QUERY},
    response=page_of(_SECURITY_EVENT),
)
def security_events(operator: Operator, **filters: Any) -> Any:
    return audit.security_events(operator, **filters)


@operation(
    "GET",
    "/audit/security-events.csv",
    calls=audit.security_events_csv,
    tag="audit",
    summary="Security events as CSV (the same filters, every matching row)",
    query=_SECURITY_EVENT_QUERY,
    response=_CSV,
    response_media="text/csv",
)
def security_events_csv(operator: Operator, **filters: Any) -> Any:
    return audit.security_events_csv(operator, **filters)


@operation(
    "GET",
    "/audit/releases",
    calls=audit.releases,
    tag="audit",
    summary="Releases of personal data to clients (who used whose data), newest first",
    query={**_RELEASE_QUERY, **PAGING_QUERY},
    response=page_of(_RELEASE),
)
def releases(operator: Operator, **filters: Any) -> Any:
    return audit.releases(operator, **filters)


@operation(
    "GET",
    "/audit/releases.csv",
    calls=audit.releases_csv,
    tag="audit",
    summary="Releases of personal data as CSV (the same filters, every matching row)",
    query=_RELEASE_QUERY,
    response=_CSV,
    response_media="text/csv",
)
def releases_csv(operator: Operator, **filters: Any) -> Any:
    return audit.releases_csv(operator, **filters)
