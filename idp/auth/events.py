"""Security events (sign-in, failure, throttle, factor added or removed, password changed or reset)
as structured log records, for the operator's log pipeline.

A record names the person by row id and the client address masked, never by identity number:
the log is read by more people than the database is. A sign-in or failed sign-in of a known
person, logged with ``method=`` ("password", "passkey", ...), is also written to their sign-in
history (``idp.auth.history``), so whoever adds a way of signing in only logs its events. Every
event but a throttling refusal is also kept in ``security_events`` for auditors.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum

from flask import g, has_request_context, request

from idp.auth import history
from idp.observability import metrics
from idp.observability.logs import REQUEST_ID
from idp.sessions.devices import mask_address
from idp.store.db import db
from idp.store.models import SecurityEventRow

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


#: The events the account page's sign-in history lists (see idp.auth.history for THROTTLED).
HISTORY_EVENTS = (SecurityEvent.SIGNED_IN, SecurityEvent.SIGN_IN_FAILED)


def security_event(
    event: SecurityEvent, person_id: int | None = None, **details: str | int | None
) -> None:
    """Log one event as a JSON object; ``details`` must never hold an identity number."""
    record: dict[str, str | int | None] = {"event": event.value, "person_id": person_id}
    if has_request_context():
        record["address"] = mask_address(request.remote_addr)
        record[REQUEST_ID] = g.get(REQUEST_ID)
    record.update(details)
    log.info(json.dumps(record, ensure_ascii=False, sort_keys=True))
    method = str(details.get("method") or "password")
    if event in HISTORY_EVENTS:
        metrics.sign_in(method, event is SecurityEvent.SIGNED_IN)
    if not has_request_context():
        return
    if event is not SecurityEvent.THROTTLED:  # a flood's refusals cost no write (the log has them)
        db.session.add(
            SecurityEventRow(
                event=event.value,
                person_id=person_id,
                address_masked=record.get("address"),
                request_id=record.get(REQUEST_ID),
                details=details,
            )
        )
    if person_id is not None and event in HISTORY_EVENTS:
        history.record(person_id, event.value, method)
    else:
        db.session.commit()


def init_security_log() -> None:
    """Security events to standard error, one JSON object a line, for the server's log pipeline
    (``idp serve`` runs without an access log, so nothing else there names a request)."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("security %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
