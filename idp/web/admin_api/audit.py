"""The audit trails for auditors (``idp.admin.audit``): each a page of JSON or a CSV export.

The three trails share their filters' shape: a time range (``since`` inclusive, ``until``
exclusive) and exact matches; the CSV export takes the same filters, without paging.
"""

from __future__ import annotations

from typing import Any

from idp.admin import audit
from idp.admin.paging import DEFAULT_LIMIT
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
        # Under a mandate: its public id and the agent it names; null for the person's own.
        "mandate": _OR_NULL,
        "agent": _OR_NULL,
        "agent_id_number": {"anyOf": [MASKED_NUMBER, {"type": "null"}]},
    },
    *audit.RELEASES.columns,
)

#: Each trail's two operations: a page of JSON (``.../<trail>``) and the CSV export.
_TRAILS: tuple[tuple[str, Schema, str], ...] = (
    ("admin-actions", _ADMIN_ACTION, "What operators did"),
    ("security-events", _SECURITY_EVENT, "Sign-ins, failures, factor and password changes"),
    ("releases", _RELEASE, "Releases of personal data to clients (who used whose data)"),
)


def _declare(slug: str, row: Schema, summary: str) -> None:
    trail = audit.TRAILS[slug]
    query = {**_RANGE, **dict.fromkeys(trail.equal, _TEXT)}
    name = slug.replace("-", "_")

    def listed(
        operator: Operator, offset: int = 0, limit: int = DEFAULT_LIMIT, **filters: Any
    ) -> Any:
        return audit.listed(operator, trail, filters, offset, limit)

    def exported(operator: Operator, **filters: Any) -> Any:
        return audit.exported(operator, trail, filters)

    listed.__name__, exported.__name__ = name, name + "_csv"
    operation(
        "GET",
        f"/audit/{slug}",
        calls=audit.listed,
        tag="audit",
        summary=summary + ", newest first",
        query={**query, **PAGING_QUERY},
        response=page_of(row),
    )(listed)
    operation(
        "GET",
        f"/audit/{slug}.csv",
        calls=audit.exported,
        tag="audit",
        summary=summary + ", as CSV (the same filters, every matching row)",
        query=query,
        response=_CSV,
        response_media="text/csv",
    )(exported)


for _slug, _row, _summary in _TRAILS:
    _declare(_slug, _row, _summary)
