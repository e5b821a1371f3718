"""The audit trails in the console (``idp.admin.audit``), auditors only: a table a page at a
time with the trail's filters, and the same filters exported as CSV.

Filters travel in the query string: none of them is a personal number (people are filtered by
public id, actions by a target that is already masked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from idp.admin import audit
from idp.admin.errors import Invalid
from idp.admin.roles import Operator
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.nav import areas_for

#: Every trail filters by time: since (inclusive) and until (exclusive), dates in UTC.
_RANGE: tuple[tuple[str, LazyString], ...] = (
    ("since", _l("From (UTC)")),
    ("until", _l("Before (UTC)")),
)


@dataclass(frozen=True)
class Trail:
    label: LazyString
    #: The trail in ``idp.admin.audit``, whose ``equal`` filters these label.
    trail: audit.Trail
    #: Exact-match filters besides the time range: query parameter and label.
    filters: tuple[tuple[str, LazyString], ...]
    #: The columns the table shows (the CSV has them all).
    columns: tuple[tuple[str, LazyString], ...]


_AT = ("at", _l("Time (UTC)"))
_PERSON = ("id_number", _l("Person"))

TRAILS: dict[str, Trail] = {
    "admin-actions": Trail(
        _l("Admin actions"),
        audit.ADMIN_ACTIONS,
        (("action", _l("Action")), ("actor", _l("Operator")), ("target", _l("Target"))),
        (_AT, ("actor", _l("Operator")), ("action", _l("Action")), ("target", _l("Target"))),
    ),
    "security-events": Trail(
        _l("Security events"),
        audit.SECURITY_EVENTS,
        (("event", _l("Event")), ("person", _l("Person (public id)"))),
        (_AT, ("event", _l("Event")), _PERSON, ("address", _l("Address"))),
    ),
    "releases": Trail(
        _l("Data releases"),
        audit.RELEASES,
        (
            ("client", _l("Service (client id)")),
            ("person", _l("Person (public id)")),
            ("mandate", _l("Mandate (public id)")),
        ),
        (
            _AT,
            ("client_id", _l("Service (client id)")),
            _PERSON,
            ("claims", _l("Data")),
            ("mandate", _l("Mandate")),
            ("agent_id_number", _l("Agent")),
        ),
    ),
}


_ALL = tuple(TRAILS.items())


def _trail(slug: str) -> Trail:
    found = TRAILS.get(slug)
    if found is None:
        abort(404)
    return found


def _filters(trail: Trail, args: Mapping[str, str]) -> dict[str, str]:
    names = [name for name, _ in (*_RANGE, *trail.filters)]
    return {name: args[name].strip() for name in names if args.get(name, "").strip()}


def _offset(args: Mapping[str, str]) -> int:
    value = args.get("offset", "0")
    if not value.isdigit():
        raise Invalid("offset is a whole number")
    return int(value)


@bp.route("/audit")
@console_page
def audit_page(operator: Operator) -> Any:
    return redirect(url_for("admin_console.trail_page", slug=next(iter(TRAILS))))


@bp.route("/audit/<slug>")
@console_page
def trail_page(operator: Operator, slug: str) -> str:
    trail = _trail(slug)
    filters = _filters(trail, request.args)
    page = audit.listed(operator, trail.trail, filters, _offset(request.args))
    here = url_for("admin_console.trail_page", slug=slug)
    return render_template(
        "admin/audit.html",
        operator=operator,
        areas=areas_for(operator),
        trails=[(s, t.label, url_for("admin_console.trail_page", slug=s)) for s, t in _ALL],
        slug=slug,
        trail=trail,
        fields=[*_RANGE, *trail.filters],
        filters=filters,
        page=page,
        previous=_link(here, filters, page["offset"] - page["limit"]) if page["offset"] else None,
        following=_link(here, filters, page["next_offset"]),
        export=url_for("admin_console.trail_csv", slug=slug) + _query(filters),
    )


def _query(filters: Mapping[str, Any]) -> str:
    return "?" + urlencode(filters) if filters else ""


def _link(here: str, filters: dict[str, str], offset: int | None) -> str | None:
    if offset is None:
        return None
    return here + _query({**filters, "offset": max(offset, 0)})


@bp.route("/audit/<slug>.csv")
@console_page
def trail_csv(operator: Operator, slug: str) -> Response:
    trail = _trail(slug)
    body = audit.exported(operator, trail.trail, _filters(trail, request.args))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return response
