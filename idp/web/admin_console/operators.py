"""Operators' roles in the console (``idp.admin.operators``): who holds which, grant, withdraw."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import operators
from idp.admin.roles import Operator, Role
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import attempt, done
from idp.web.admin_console.nav import areas_for
from idp.web.labels import role_label


@bp.route("/operators")
@console_page
def operators_page(operator: Operator) -> str | Response:
    return render_template(
        "admin/operators.html",
        operator=operator,
        areas=areas_for(operator),
        rows=operators.list_operators(operator),
        roles=[(role.value, role_label(role)) for role in Role],
    )


@bp.route("/operators", methods=["POST"])
@console_page
def grant(operator: Operator) -> Response:
    here = url_for("admin_console.operators_page")
    granted = attempt(
        operators.grant, operator, request.form.get("id_number", ""), request.form.get("role", "")
    )
    shown = (
        None
        if granted is None
        else str(_("Role granted to %(number)s", number=granted["id_number"]))
    )
    return done(shown, here)


@bp.route("/operators/<person>/roles/<role>/withdraw", methods=["POST"])
@console_page
def withdraw(operator: Operator, person: str, role: str) -> Response:
    here = url_for("admin_console.operators_page")
    taken = attempt(operators.withdraw, operator, person, role)
    shown = (
        None
        if taken is None
        else str(_("Role withdrawn from %(number)s", number=taken["id_number"]))
    )
    return done(shown, here)
