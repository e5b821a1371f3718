"""What auditors read: admin actions, security events, releases of personal data.

Only the auditor role may (``Permission.AUDIT_READ``), an admin included in the refusal: those
who act are not those who check. Each trail is listed a page at a time or exported whole as CSV,
with the same filters. People appear by public id and masked number, never by full number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from idp.admin.errors import Invalid
from idp.admin.paging import DEFAULT_LIMIT, Statement, everything, page_of
from idp.admin.roles import Operator, Permission, needs
from idp.admin.times import instant, iso
from idp.store.models import AdminAction, Enterprise, Mandate, Person, Release, SecurityEventRow


@dataclass(frozen=True)
class Trail:
    """One audit table: its query, how a row is shown, the columns of its CSV export, and its
    filters: a time range on ``at`` (``since`` inclusive, ``until`` exclusive) and, for each
    name in ``equal``, an exact match on that column."""

    columns: tuple[str, ...]
    query: Callable[[], Statement]
    at: Any  # the table's time column
    show: Callable[[Any], dict[str, Any]]
    equal: Mapping[str, Any]

    def statement(self, filters: Mapping[str, str | None]) -> Statement:
        equal = {name: value for name, value in filters.items() if name not in _RANGE}
        unknown = set(equal) - set(self.equal)
        if unknown:
            raise Invalid(f"no filter named {', '.join(sorted(unknown))}")
        conditions: list[ColumnElement[bool]] = []
        start, end = instant(filters.get("since"), "since"), instant(filters.get("until"), "until")
        if start is not None:
            conditions.append(self.at >= start)
        if end is not None:
            conditions.append(self.at < end)
        conditions += [self.equal[name] == value for name, value in equal.items() if value]
        return self.query().where(*conditions)


#: The time range every trail is filtered by.
_RANGE = ("since", "until")


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
        "mandate": row.mandate_id,
        "agent": row.agent_id,
        "agent_id_number": row.agent_number_masked,
    }


_EVENT_PERSON = aliased(Person)
_RELEASE_PERSON = aliased(Person)
_MANDATE_AGENT = aliased(Person)

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
    equal={"action": AdminAction.action, "actor": AdminAction.actor, "target": AdminAction.target},
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
    equal={"event": SecurityEventRow.event, "person": _EVENT_PERSON.public_id},
)
#: A release under a mandate (``idp.oauth.delegation``) names the mandate and, from it, the agent
#: who acted: the enterprise's auditors ask "who used our data, on whose authority".
RELEASES = Trail(
    columns=(
        "id",
        "at",
        "client_id",
        "person",
        "id_number",
        "enterprise",
        "claims",
        "channel",
        "mandate",
        "agent",
        "agent_id_number",
    ),
    query=lambda: (
        select(
            Release,
            _RELEASE_PERSON.public_id.label("person_id"),
            _RELEASE_PERSON.number_masked.label("number_masked"),
            Enterprise.public_id.label("enterprise_id"),
            Mandate.public_id.label("mandate_id"),
            _MANDATE_AGENT.public_id.label("agent_id"),
            _MANDATE_AGENT.number_masked.label("agent_number_masked"),
        )
        .join(_RELEASE_PERSON, _RELEASE_PERSON.id == Release.person_id)
        .outerjoin(Enterprise, Enterprise.id == Release.enterprise_id)
        .outerjoin(Mandate, Mandate.id == Release.mandate_id)
        .outerjoin(_MANDATE_AGENT, _MANDATE_AGENT.id == Mandate.agent_id)
        .order_by(Release.released_at.desc(), Release.id.desc())
    ),
    at=Release.released_at,
    show=_release,
    equal={
        "client": Release.client_id,
        "person": _RELEASE_PERSON.public_id,
        "mandate": Mandate.public_id,
    },
)

#: The trails by the name the admin API and the console give them.
TRAILS = {
    "admin-actions": ADMIN_ACTIONS,
    "security-events": SECURITY_EVENTS,
    "releases": RELEASES,
}


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


@needs(Permission.AUDIT_READ)
def listed(
    operator: Operator,
    /,
    trail: Trail,
    filters: Mapping[str, str | None],
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """A page of ``trail``, newest first, within ``filters`` (``Trail.statement``)."""
    return page_of(trail.statement(filters), offset, limit).shown(trail.show)


@needs(Permission.AUDIT_READ)
def exported(operator: Operator, /, trail: Trail, filters: Mapping[str, str | None]) -> str:
    """Every row of ``trail`` within the same filters, as RFC 4180 CSV with a header line."""
    return _csv(trail, trail.statement(filters))
