"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, sections 2 to 4).

With a valid ``id_token_hint`` from this browser's own session the session ends at once. Without
one, or with one of another session (another person's, or this person's on another device: its
``sid`` is not this session's), the person confirms first (section 6: such requests are a
denial-of-service vector), and that form is CSRF-checked.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.auth.session import current_login
from idp.oauth.server import YihaoServer
from idp.web.csrf import protect_form
from idp.web.errors import error_page
from idp.web.reflected import refuse_overlong

bp = Blueprint("logout", __name__)
_PASS_THROUGH = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str | tuple[str, int]:
    server: YihaoServer = current_app.extensions["yihao_server"]
    too_long = refuse_overlong(request.values.to_dict(flat=True))
    if too_long:
        return too_long
    try:
        validated = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return error_page(
            400, _("Invalid sign-out request"), error.get_error_description() or error.error
        )
    confirmed = request.method == "POST" and "confirm" in request.form
    if _needs_confirmation(validated) and not confirmed:
        hidden = {k: request.values[k] for k in _PASS_THROUGH if request.values.get(k)}
        client = validated.client
        return render_template(
            "logout.html",
            action=url_for("logout.logout"),
            client_name=client.name if client else None,
            hidden={**hidden, "confirm": "1"},
        )
    if confirmed:
        protect_form()  # token and origin, as for every other form; a bad one gets its page
    response: Response | None = server.create_endpoint_response("end_session", validated)
    return response or render_template("logged_out.html")


def _needs_confirmation(validated: Any) -> bool:
    if validated.needs_confirmation:  # no id_token_hint
        return True
    login = current_login()
    return login is not None and validated.id_token_claims.get("sid") != login.sid
