"""E-certificates in the console (``idp.admin.certificates``): found by identifier or by holder,
revoked with a reason. A holder's number is posted and the results shown on that answer, so it
never reaches a URL; an identifier is no personal number and may sit in the query."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import certificates
from idp.admin.roles import Operator
from idp.credentials.status import REASONS
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import act, attempt
from idp.web.admin_console.nav import areas_for
from idp.web.labels import revocation_reason_label


def _page(operator: Operator, found: list[dict[str, Any]] | None) -> str:
    return render_template(
        "admin/certificates.html",
        operator=operator,
        areas=areas_for(operator),
        found=found,
        reasons=[(reason, revocation_reason_label(reason)) for reason in REASONS],
    )


@bp.route("/certificates")
@console_page
def certificates_page(operator: Operator) -> str:
    identifier = request.args.get("identifier", "").strip()
    found = attempt(certificates.show, operator, identifier) if identifier else None
    return _page(operator, None if found is None else [found])


@bp.route("/certificates/search", methods=["POST"])
@console_page
def find_by_holder(operator: Operator) -> str:
    number, code = request.form.get("id_number") or None, request.form.get("uscc") or None
    return _page(operator, attempt(certificates.of_holder, operator, number, code) or [])


@bp.route("/certificates/<identifier>/revoke", methods=["POST"])
@console_page
def revoke(operator: Operator, identifier: str) -> Response:
    return act(
        _("The certificate is revoked"),
        url_for("admin_console.certificates_page", identifier=identifier),
        certificates.revoke_certificate,
        operator,
        identifier,
        request.form.get("reason", ""),
    )
