"""JSON Schemas (2020-12) shared by several admin API operations: one home for each shape."""

from __future__ import annotations

from typing import Any

from idp.admin.roles import Role

Schema = dict[str, Any]

#: An identity number as typed (the task parses and checks it; never echoed back in full).
ID_NUMBER: Schema = {"type": "string", "minLength": 15, "maxLength": 18}
ROLE: Schema = {"type": "string", "enum": [r.value for r in Role]}
MASKED_NUMBER: Schema = {"type": "string"}


def closed(properties: dict[str, Schema], *required: str) -> Schema:
    """An object with exactly these properties (unknown ones are refused, not ignored)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }
