"""The console's first page: the areas this operator's roles open, and signing out."""

from __future__ import annotations

from flask import render_template

from idp.admin.roles import Operator
from idp.services import services
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.nav import areas_for


@bp.route("/")
@console_page
def home(operator: Operator) -> str:
    return render_template(
        "admin/home.html",
        operator=operator,
        areas=areas_for(operator),
        session_minutes=services().settings.admin_session_ttl // 60,
    )
