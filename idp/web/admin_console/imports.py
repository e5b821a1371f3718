"""Registry imports in the console (``idp.admin.imports``): a CSV export uploaded as a file and
the per-line answer shown on the page that follows (rows are personal data: the answer names
line numbers and reasons only)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import imports
from idp.admin.roles import Operator
from idp.credentials.registries import KINDS
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import attempt, done, refuse
from idp.web.admin_console.nav import areas_for


def _page(operator: Operator, report: dict[str, object] | None = None) -> str:
    return render_template(
        "admin/imports.html",
        operator=operator,
        areas=areas_for(operator),
        kinds=list(KINDS),
        report=report,
    )


@bp.route("/imports")
@console_page
def imports_page(operator: Operator) -> str:
    return _page(operator)


@bp.route("/imports", methods=["POST"])
@console_page
def upload(operator: Operator) -> str | Response:
    here = url_for("admin_console.imports_page")
    uploaded = request.files.get("file")
    if uploaded is None or not uploaded.filename:
        return refuse(_("Choose the CSV file to import"), here)
    data = uploaded.stream.read(imports.MAX_UPLOAD_BYTES + 1)
    if len(data) > imports.MAX_UPLOAD_BYTES:
        return refuse(_("The file is too large: split the export"), here)
    report = attempt(imports.import_registry, operator, request.form.get("kind", ""), data)
    return done(None, here) if report is None else _page(operator, report)
