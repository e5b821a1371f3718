"""A client's token-exchange policies in the console (``idp.admin.exchange``): listed on the
client's page, added and removed there by an operator whose roles allow it (``clients.exchange``).

The audience travels in the form, not the path: it is any printable text, slashes included.
"""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin import exchange
from idp.admin.roles import Operator
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import act


def _here(client_id: str) -> str:
    return url_for("admin_console.client_page", client_id=client_id)


@bp.route("/clients/<client_id>/exchange-policies", methods=["POST"])
@console_page
def add_exchange_policy(operator: Operator, client_id: str) -> Response:
    audience = request.form.get("audience", "")
    scopes = request.form.get("scope", "").split()
    message = _("The exchange policy is added")
    return act(
        message, _here(client_id), exchange.add_policy, operator, client_id, audience, scopes
    )


@bp.route("/clients/<client_id>/exchange-policies/remove", methods=["POST"])
@console_page
def remove_exchange_policy(operator: Operator, client_id: str) -> Response:
    audience = request.form.get("audience", "")
    message = _("The exchange policy is removed")
    return act(message, _here(client_id), exchange.remove_policy, operator, client_id, audience)
