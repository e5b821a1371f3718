"""Registry CSV imports (``idp.admin.imports``): the export is the body, as ``text/csv``."""

from __future__ import annotations

from typing import Any

from idp.admin import imports
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import closed


@operation(
    "POST",
    "/imports/{kind}",
    calls=imports.import_registry,
    tag="imports",
    summary="Load a registry's CSV export; each line is loaded or rejected on its own",
    request_media="text/csv",  # RFC 4180
    request_schema={"type": "string"},
    max_body=imports.MAX_UPLOAD_BYTES,
    response=closed(
        {
            "kind": {"type": "string"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "rejected": {
                "type": "array",
                "items": closed(
                    {"line": {"type": "integer"}, "reason": {"type": "string"}}, "line", "reason"
                ),
            },
        },
        "kind",
        "created",
        "updated",
        "unchanged",
        "rejected",
    ),
)
def import_registry(operator: Operator, kind: str, body: bytes) -> Any:
    return imports.import_registry(operator, kind, body)
