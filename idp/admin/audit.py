"""What auditors read: admin actions, security events, releases of personal data.

Only the auditor role may (``Permission.AUDIT_READ``), an admin included in the refusal: those
who act are not those who check. Each trail is listed a page at a time or exported whole as CSV,
with the same filters. People appear by public id and masked number, never by full number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from idp.admin.paging import DEFAULT_LIMIT, Statement, everything, page_of
from idp.admin.roles import Operator, Permission, needs
from idp.admin.times import instant, iso
from idp.store.models import AdminAction, Enterprise, Person, Release, SecurityEventRow


@dataclass(frozen=True)
class Trail:
    """One audit table: its query, how a row is shown, and the columns of its CSV export."""

    columns: tuple[str, ...]
    query: Callable[[], Statement]
    at: Any  # the table's time column
    show: Callable[[Any], dict[str, Any]]


def _admin_action(row: Any) -> dict[str, Any]:
    action: AdminAction = row[0]
    return {
        "id": action.id,
        "at": iso(action.at),
        "actor_kind": action.actor_kind,
        "actor": action.actor,
        "action": action.action,
        "target_type": action.target_type,
        "target": action.target,
        "before": action.before,
        "after": action.after,
        "request_id": action.request_id,
    }


def _security_event(row: Any) -> dict[str, Any]:
    event: SecurityEventRow = row[0]
    return {
        "id": event.id,
        "at": iso(event.at),
        "event": event.event,
        "person": row.person_id,
        "id_number": row.number_masked,
        "address": event.address_masked,
        "request_id": event.request_id,
        "details": event.details,
    }


def _release(row: Any) -> dict[str, Any]:
    release: Release = row[0]
    return {
        "id": release.id,
        "at": iso(release.released_at),
        "client_id": release.client_id,
        "person": row.person_id,
        "id_number": row.number_masked,
        "enterprise": row.enterprise_id,
        "claims": release.claims.split(),
        "channel": release.channel,
    }


_EVENT_PERSON = aliased(Person)
_RELEASE_PERSON = aliased(Person)

ADMIN_ACTIONS = Trail(
    columns=(
        "id",
        "at",
        "actor_kind",
        "actor",
        "action",
        "target_type",
        "target",
        "before",
        "after",
        "request_id",
    ),
    query=lambda: select(AdminAction).order_by(AdminAction.at.desc(), AdminAction.id.desc()),
    at=AdminAction.at,
    show=_admin_action,
)
SECURITY_EVENTS = Trail(
    columns=(
        "id",
        "at",
        "event",
        "person",
        "id_number",
        "address",
        "request_id",
        "details",
    ),
    query=lambda: (
        select(
            SecurityEventRow,
            _EVENT_PERSON.public_id.label("person_id"),
            _EVENT_PERSON.number_masked.label("number_masked"),
        )
        .outerjoin(_EVENT_PERSON, _EVENT_PERSON.id == SecurityEventRow.person_id)
        .order_by(SecurityEventRow.at.desc(), SecurityEventRow.id.desc())
    ),
    at=SecurityEventRow.at,
    show=_security_event,
)
RELEASES = Trail(
    columns=("id", "at", "client_id", "person", "id_number", "enterprise", "claims", "channel"),
    query=lambda: (
        select(
            Release,
            _RELEASE_PERSON.public_id.label("person_id"),
            _RELEASE_PERSON.number_masked.label("number_masked"),
            Enterprise.public_id.label("enterprise_id"),
        )
        .join(_RELEASE_PERSON, _RELEASE_PERSON.id == Release.person_id)
        .outerjoin(Enterprise, Enterprise.id == Release.enterprise_id)
        .order_by(Release.released_at.desc(), Release.id.desc())
    ),
    at=Release.released_at,
    show=_release,
)


def _filtered(
    trail: Trail,
    since: str | None,
    until: str | None,
    equal: list[tuple[Any, str | None]],
) -> Statement:
    """The trail's query within ``[since, until)`` and with each given column equal to its value."""
    conditions: list[ColumnElement[bool]] = []
    start, end = instant(since, "since"), instant(until, "until")
    if start is not None:
        conditions.append(trail.at >= start)
    if end is not None:
        conditions.append(trail.at < end)
    conditions += [column == value for column, value in equal if value is not None]
    return trail.query().where(*conditions)


def _page(trail: Trail, statement: Statement, offset: int, limit: int) -> dict[str, Any]:
    return page_of(statement, offset, limit).shown(trail.show)


def _csv(trail: Trail, statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(trail.columns)
    for row in everything(statement):
        shown = trail.show(row)
        writer.writerow([csv_cell(shown[column]) for column in trail.columns])
    return out.getvalue()


def csv_cell(value: Any) -> str:
    """A value as one CSV cell: structures as JSON; a text a spreadsheet would run as a formula
    (OWASP "CSV injection": = + - @ tab CR first) prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _admin_action_query(
    since: str | None,
    until: str | None,
    action: str | None,
    actor: str | None,
    target: str | None,
) -> Statement:
    return _filtered(
        ADMIN_ACTIONS,
        since,
        until,
        [(AdminAction.action, action), (AdminAction.actor, actor), (AdminAction.target, target)],
    )


def _security_event_query(
    since: str | None, until: str | None, event: str | None, person: str | None
) -> Statement:
    equal = [(SecurityEventRow.event, event), (_EVENT_PERSON.public_id, person)]
    return _filtered(SECURITY_EVENTS, since, until, equal)


def _release_query(
    since: str | None, until: str | None, client: str | None, person: str | None
) -> Statement:
    equal = [(Release.client_id, client), (_RELEASE_PERSON.public_id, person)]
    return _filtered(RELEASES, since, until, equal)


@needs(Permission.AUDIT_READ)
def admin_actions(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    statement = _admin_action_query(since, until, action, actor, target)
    return _page(ADMIN_ACTIONS, statement, offset, limit)


@needs(Permission.AUDIT_READ)
def admin_actions_csv(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
) -> str:
    return _csv(ADMIN_ACTIONS, _admin_action_query(since, until, action, actor, target))


@needs(Permission.AUDIT_READ)
def security_events(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    event: str | None = None,
    person: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    statement = _security_event_query(since, until, event, person)
    return _page(SECURITY_EVENTS, statement, offset, limit)


@needs(Permission.AUDIT_READ)
def security_events_csv(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    event: str | None = None,
    person: str | None = None,
) -> str:
    return _csv(SECURITY_EVENTS, _security_event_query(since, until, event, person))


@needs(Permission.AUDIT_READ)
def releases(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    client: str | None = None,
    person: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    return _page(RELEASES, _release_query(since, until, client, person), offset, limit)


@needs(Permission.AUDIT_READ)
def releases_csv(
    operator: Operator,
    since: str | None = None,
    until: str | None = None,
    client: str | None = None,
    person: str | None = None,
) -> str:
    return _csv(RELEASES, _release_query(since, until, client, person))
