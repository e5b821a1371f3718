"""JSON Schemas (2020-12) shared by several admin API operations: one home for each shape."""

from __future__ import annotations

from typing import Any

from idp.admin.paging import DEFAULT_LIMIT, MAX_LIMIT
from idp.admin.roles import Role

Schema = dict[str, Any]

#: An identity number as typed (the task parses and checks it; never echoed back in full).
ID_NUMBER: Schema = {"type": "string", "minLength": 15, "maxLength": 18}
#: A unified social credit code as typed (GB 32100: 18 characters; the task checks it).
USCC: Schema = {"type": "string", "minLength": 18, "maxLength": 18}
ROLE: Schema = {"type": "string", "enum": [r.value for r in Role]}
MASKED_NUMBER: Schema = {"type": "string"}
#: A stored moment, ISO 8601 in UTC without an offset (the database keeps naive UTC).
TIME: Schema = {"type": "string"}
NULLABLE_TIME: Schema = {"type": ["string", "null"]}
#: A moment typed into a query: ISO 8601, in UTC when it has no offset (``idp.admin.times``).
MOMENT_QUERY: Schema = {"type": "string", "minLength": 1, "maxLength": 40}

PAGING_QUERY: dict[str, Schema] = {
    "offset": {"type": "integer", "minimum": 0, "default": 0},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}


def page_of(item: Schema) -> Schema:
    """A page of ``item`` (``idp.admin.paging.Page``)."""
    return closed(
        {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "next_offset": {"type": ["integer", "null"]},
        },
        "items",
        "total",
        "offset",
        "limit",
        "next_offset",
    )


def closed(properties: dict[str, Schema], *required: str) -> Schema:
    """An object with exactly these properties (unknown ones are refused, not ignored)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


#: How a person is named to an operator (``idp.admin.subjects.person_ref``).
PERSON_REF: Schema = closed(
    {"person": {"type": "string"}, "id_number": MASKED_NUMBER}, "person", "id_number"
)
