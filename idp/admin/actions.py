"""The record of admin actions: who did what to which, when, and for an edit what changed.

Recorded in the task's own transaction (``record`` adds, the task commits), so a change and its
record are never one without the other. Auditors read it (``idp.admin.audit``).
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from idp.admin.roles import Operator
from idp.observability.logs import REQUEST_ID
from idp.store.db import db
from idp.store.models import AdminAction


def record(
    operator: Operator,
    action: str,
    target_type: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AdminAction:
    """Add the record of one action to the session; ``target`` is never a full identity number
    (a client id, a masked number, a certificate identifier, a key id)."""
    row = AdminAction(
        actor_kind=operator.kind,
        actor=operator.label,
        action=action,
        target_type=target_type,
        target=target,
        before=before,
        after=after,
        request_id=g.get(REQUEST_ID) if has_request_context() else None,
    )
    db.session.add(row)
    return row
