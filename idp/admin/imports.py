"""Registry CSV imports: the upload of an export, answered line by line (``ImportReport``).

The same task behind ``POST /admin/api/imports/{kind}`` and ``idp registry import``. Rows are
committed one by one (``idp.credentials.importer``); the record of the import, written last,
holds the kind and the counts, never a row: a row is personal data.
"""

from __future__ import annotations

from typing import Any

from idp.admin import actions
from idp.admin.errors import Invalid, NotFound
from idp.admin.roles import Operator, Permission, needs
from idp.credentials.importer import ImportFileError, import_bytes
from idp.credentials.registries import KINDS
from idp.services import services
from idp.store.db import db

#: The largest upload the admin API takes (a registry's export is split above this).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024


@needs(Permission.IMPORTS)
def import_registry(
    operator: Operator, kind: str, data: bytes, source: str = "the upload"
) -> dict[str, Any]:
    """Load a CSV export of registry ``kind``; a fault of the whole file writes nothing."""
    if kind not in KINDS:
        raise NotFound(f"no registry kind of that name (kinds: {', '.join(KINDS)})")
    try:
        report = import_bytes(services().cipher, kind, data, source)
    except ImportFileError as exc:
        raise Invalid(str(exc), errors=[{"pointer": "", "detail": str(exc)}]) from None
    counts = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
    }
    actions.record(operator, "registry.import", "registry_import", kind, after=counts)
    db.session.commit()
    return {"kind": kind, **report.as_dict()}
