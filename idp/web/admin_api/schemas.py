"""JSON Schemas (2020-12) shared by several admin API operations: one home for each shape."""

from __future__ import annotations

from typing import Any

from idp.admin.paging import DEFAULT_LIMIT, MAX_LIMIT
from idp.admin.roles import Role

Schema = dict[str, Any]

#: An identity number as typed (the task parses and checks it; never echoed back in full).
ID_NUMBER: Schema = {"type": "string", "minLength": 15, "maxLength": 18}
ROLE: Schema = {"type": "string", "enum": [r.value for r in Role]}
MASKED_NUMBER: Schema = {"type": "string"}

PAGING_QUERY: dict[str, Schema] = {
    "offset": {"type": "integer", "minimum": 0, "default": 0},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}


def page_of(item: Schema) -> Schema:
    """A page of ``item`` (``idp.admin.paging.Page``)."""
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "next_offset": {"type": ["integer", "null"]},
        },
        "required": ["items", "total", "offset", "limit", "next_offset"],
    }


def closed(properties: dict[str, Schema], *required: str) -> Schema:
    """An object with exactly these properties (unknown ones are refused, not ignored)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }
