"""People and enterprises in the console (``idp.admin.subjects``): found by number, shown masked,
disabled and re-enabled, factors reset, failed attempts forgotten, a representative changed.

A number is only ever posted (a search form), never put in a URL: the page found is then
addressed by the person's or enterprise's public id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.admin import subjects
from idp.admin.roles import Operator
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import act, attempt, done
from idp.web.admin_console.nav import areas_for

#: The buttons of a person's page: URL segment -> the task and what the operator is told.
_PERSON_ACTIONS: dict[str, tuple[Callable[[Operator, str], dict[str, Any]], LazyString]] = {
    "disable": (subjects.disable, _l("The account is disabled and its sessions ended")),
    "enable": (subjects.enable, _l("The account can sign in again")),
    "reset-factors": (subjects.reset_factors, _l("The second factors and passkeys are removed")),
    "unlock": (subjects.unlock, _l("Failed password attempts are forgotten")),
}


@bp.route("/people")
@console_page
def people_page(operator: Operator) -> str:
    return render_template("admin/people.html", operator=operator, areas=areas_for(operator))


@bp.route("/people/search", methods=["POST"])
@console_page
def find_person(operator: Operator) -> Response:
    number = request.form.get("id_number", "")
    return _to_found(attempt(subjects.find_person, operator, number), "person")


def _to_found(found: dict[str, Any] | None, kind: str) -> Response:
    """To the page of what a search found, by public id; else back to the search forms."""
    if found is None:
        return done(None, url_for("admin_console.people_page"))
    return done(None, url_for(f"admin_console.{kind}_page", **{kind: found[kind]}))


@bp.route("/people/<person>")
@console_page
def person_page(operator: Operator, person: str) -> str:
    return render_template(
        "admin/person.html",
        operator=operator,
        areas=areas_for(operator),
        person=subjects.show_person(operator, person),
    )


@bp.route("/people/<person>/<action>", methods=["POST"])
@console_page
def person_action(operator: Operator, person: str, action: str) -> Response:
    if action not in _PERSON_ACTIONS:
        abort(404)
    task, message = _PERSON_ACTIONS[action]
    return act(
        str(message), url_for("admin_console.person_page", person=person), task, operator, person
    )


@bp.route("/enterprises/search", methods=["POST"])
@console_page
def find_enterprise(operator: Operator) -> Response:
    code = request.form.get("uscc", "")
    return _to_found(attempt(subjects.find_enterprise, operator, code), "enterprise")


@bp.route("/enterprises/<enterprise>")
@console_page
def enterprise_page(operator: Operator, enterprise: str) -> str:
    return render_template(
        "admin/enterprise.html",
        operator=operator,
        areas=areas_for(operator),
        enterprise=subjects.show_enterprise(operator, enterprise),
    )


@bp.route("/enterprises/<enterprise>/representative", methods=["POST"])
@console_page
def set_representative(operator: Operator, enterprise: str) -> Response:
    return act(
        _("The legal representative is changed"),
        url_for("admin_console.enterprise_page", enterprise=enterprise),
        subjects.set_representative,
        operator,
        enterprise,
        request.form.get("id_number", ""),
    )
