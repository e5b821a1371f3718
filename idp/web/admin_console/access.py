"""Who may open the admin console, and the sign-in that gets them there.

The console signs in through /authorize as a first-party client (``idp.oauth.first_party.CONSOLE``)
whose minimum level is a second factor, with ``max_age`` the admin session TTL: the same door,
the same throttling, the same step-up as every service. A page then takes the operator from the
session and holds them to ``idp.web.admin_api.auth.fresh_enough`` on every request, so a
console session ends ``IDP_ADMIN_SESSION_TTL`` after its sign-in whatever the cookie says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from flask import make_response, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.admin.errors import AdminError
from idp.admin.operators import roles_of
from idp.admin.roles import Operator
from idp.auth.session import LoginSession, current_login
from idp.oauth.assurance import TWO_FACTOR
from idp.oauth.first_party import CONSOLE
from idp.services import services
from idp.web import first_party_signin
from idp.web.admin_api.auth import fresh_enough
from idp.web.admin_console.blueprint import bp
from idp.web.errors import error_page

P = ParamSpec("P")
Page = str | Response | tuple[str, int]


def _sign_in() -> Response:
    # OIDC Core 3.1.2.1: max_age makes an older sign-in sign in again.
    ttl = str(services().settings.admin_session_ttl)
    return first_party_signin.start(CONSOLE, max_age=ttl, acr_values=TWO_FACTOR.acr)


def _operator(login: LoginSession) -> Operator | None:
    roles = roles_of(login.person.id)
    if not roles:
        return None
    return Operator("person", login.person.public_id, login.person.number_masked, roles)


def _fresh(login: LoginSession) -> bool:
    try:
        fresh_enough(login)
    except AdminError:
        return False
    return True


def console_page(view: Callable[..., Page]) -> Callable[..., Page]:
    """The view gets the ``Operator`` first; without a fresh two-factor sign-in the browser
    goes to sign in, and a person without an operator role gets a 403 page. A task's refusal
    escaping the view (a page its roles do not open, an unknown id) is its status's error page."""

    @functools.wraps(view)
    def wrapper(*args: object, **kwargs: object) -> Page:
        login = current_login()
        if login is None or not _fresh(login):
            return _sign_in()
        operator = _operator(login)
        if operator is None:
            return _not_an_operator()
        try:
            return view(operator, *args, **kwargs)
        except AdminError as refusal:
            return error_page(refusal.status, _("The console cannot do that"), refusal.detail)

    return wrapper


def _not_an_operator() -> tuple[str, int]:
    return error_page(
        403, _("Not an operator"), _("Your account holds no role in the admin console.")
    )


@bp.route("/callback")
def callback() -> Response:
    return first_party_signin.forget(CONSOLE, make_response(_complete()))


def _complete() -> Page:
    body = first_party_signin.finish(CONSOLE)
    login = current_login()
    if body is None or login is None:
        return error_page(400, _("The sign-in has expired"), _("Please open the console again."))
    if not _fresh(login):  # never loop back to /authorize: say what is missing
        return error_page(
            403,
            _("A second factor is needed"),
            _("The admin console needs a passkey, or a password and an authenticator app."),
        )
    return redirect(url_for("admin_console.home"))
