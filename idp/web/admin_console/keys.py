"""Keys in the console (``idp.admin.keys``): the token signing keys and the issuer and trust-list
keys with their states and certificate ends; rotating either, and withdrawing a signing key
that leaked (the runbook's "a signing key is compromised")."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import keys
from idp.admin.roles import Operator
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import act
from idp.web.admin_console.nav import areas_for


@bp.route("/keys")
@console_page
def keys_page(operator: Operator) -> str:
    return render_template(
        "admin/keys.html",
        operator=operator,
        areas=areas_for(operator),
        keys=keys.list_keys(operator),
    )


@bp.route("/keys/signing/rotate", methods=["POST"])
@console_page
def rotate_signing(operator: Operator) -> Response:
    here = url_for("admin_console.keys_page")
    return act(_("New token signing keys are in use"), here, keys.rotate_signing_keys, operator)


@bp.route("/keys/issuer/rotate", methods=["POST"])
@console_page
def rotate_issuer(operator: Operator) -> Response:
    message = _("A new issuer key is certified and in use")
    return act(message, url_for("admin_console.keys_page"), keys.rotate_issuer_key, operator)


@bp.route("/keys/signing/<kid>/withdraw", methods=["POST"])
@console_page
def withdraw_key(operator: Operator, kid: str) -> Response:
    message = _("The key is withdrawn: tokens it signed are refused")
    here = url_for("admin_console.keys_page")
    return act(message, here, keys.withdraw_signing_key, operator, kid)
