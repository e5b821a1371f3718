"""Security events (sign-in, failure, throttle, factor added or removed, password changed or reset)
as structured log records, for the operator's log pipeline.

A record names the person by row id and the client address masked, never by identity number:
the log is read by more people than the database is.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum

from flask import has_request_context, request

from idp.sessions.devices import mask_address

log = logging.getLogger("idp.security")


class SecurityEvent(StrEnum):
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    THROTTLED = "throttled"
    FACTOR_ADDED = "factor_added"
    FACTOR_REMOVED = "factor_removed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REGISTERED = "registered"


def security_event(
    event: SecurityEvent, person_id: int | None = None, **details: str | int | None
) -> None:
    """Log one event as a JSON object; ``details`` must never hold an identity number."""
    record: dict[str, str | int | None] = {"event": event.value, "person_id": person_id}
    if has_request_context():
        record["address"] = mask_address(request.remote_addr)
    record.update(details)
    log.info(json.dumps(record, ensure_ascii=False, sort_keys=True))
