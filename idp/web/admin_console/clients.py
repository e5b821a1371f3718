"""Relying services in the console (``idp.admin.clients``): listed a page at a time, registered,
edited, their pending personal scopes approved, the secret rotated, disabled and re-enabled; and
initial access tokens for developers' own registrations (RFC 7591 3).

A secret or token is shown on the answer to the form that made it, once, and never again (the
pages are ``no-store``); everything else follows post/redirect/get. The security profile and
PAR are the same fields the admin task takes (``clients.register``, ``clients.edit``): the
registration rules decide, here as at every door.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.admin import clients, exchange
from idp.admin.roles import Operator, Permission
from idp.oauth import fapi2
from idp.oauth.registration import ClientSpec
from idp.web.admin_console.access import console_page
from idp.web.admin_console.blueprint import bp
from idp.web.admin_console.feedback import act, attempt, done, refuse
from idp.web.admin_console.nav import allowed, areas_for

#: The token endpoint methods a service registered here can use (private_key_jwt with its keys).
_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
_SWITCHES = {
    "disable": (clients.disable, _l("The service is disabled")),
    "enable": (clients.enable, _l("The service is enabled again")),
}


def _lines(name: str) -> list[str]:
    """A textarea's lines, one URI each, blanks dropped."""
    return [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]


def _key_set(text: str) -> dict[str, Any] | None:
    """The pasted JWK set (RFC 7517 5), or None when the box is empty; ValueError when it is
    not a JSON object (RecursionError when nested too deep). Whether its keys fit the method
    is the registration rules' to say."""
    if not text.strip():
        return None
    found = json.loads(text)
    if not isinstance(found, dict):
        raise ValueError("not a JSON object")
    return found


def _security() -> dict[str, Any]:
    """The form's profile and PAR fields, as the spec and the edit task name them."""
    return {
        "require_pushed_authorization_requests": "require_par" in request.form,
        "profile": request.form.get("profile", ""),
    }


def _render(operator: Operator, template: str, **context: Any) -> str:
    return render_template(template, operator=operator, areas=areas_for(operator), **context)


@bp.route("/clients")
@console_page
def clients_page(operator: Operator) -> str:
    offset = request.args.get("offset", "0")
    page = clients.list_clients(operator, int(offset) if offset.isdigit() else 0)
    may_issue = allowed(operator, Permission.INITIAL_ACCESS_TOKENS)
    return _render(
        operator,
        "admin/clients.html",
        page=page,
        previous=max(page["offset"] - page["limit"], 0) if page["offset"] else None,
        following=page["next_offset"],
        may_write=allowed(operator, Permission.CLIENTS_WRITE),
        may_issue=may_issue,
        open_tokens=clients.list_initial_access_tokens(operator)["items"] if may_issue else [],
        auth_methods=_AUTH_METHODS,
        profiles=fapi2.PROFILES,
    )


@bp.route("/clients", methods=["POST"])
@console_page
def register(operator: Operator) -> str | Response:
    grant_types = ["authorization_code", "refresh_token"]
    here = url_for("admin_console.clients_page")
    try:
        jwks = _key_set(request.form.get("jwks", ""))
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to read
        return refuse(_("The public keys must be a JWK set in JSON."), here)
    spec = ClientSpec(
        name=request.form.get("name", "").strip(),
        redirect_uris=_lines("redirect_uris"),
        post_logout_redirect_uris=_lines("post_logout_redirect_uris"),
        scope=" ".join(request.form.get("scope", "").split()),
        grant_types=grant_types,
        auth_method=request.form.get("auth_method", _AUTH_METHODS[0]),
        jwks=jwks,
        **_security(),
    )
    registered = attempt(clients.register, operator, spec)
    if registered is None:
        return done(None, here)
    return _render(operator, "admin/client_secret.html", shown=registered)


@bp.route("/clients/<client_id>")
@console_page
def client_page(operator: Operator, client_id: str) -> str:
    return _render(
        operator,
        "admin/client.html",
        client=clients.show_client(operator, client_id),
        policies=exchange.list_policies(operator, client_id)["items"],
        may_write=allowed(operator, Permission.CLIENTS_WRITE),
        may_approve=allowed(operator, Permission.CLIENTS_APPROVE),
        may_exchange=allowed(operator, Permission.EXCHANGE_POLICIES),
        profiles=fapi2.PROFILES,
    )


@bp.route("/clients/<client_id>/edit", methods=["POST"])
@console_page
def edit(operator: Operator, client_id: str) -> Response:
    changes = {
        "name": request.form.get("name", "").strip(),
        "redirect_uris": _lines("redirect_uris"),
        "post_logout_redirect_uris": _lines("post_logout_redirect_uris"),
        "scope": " ".join(request.form.get("scope", "").split()),
        **_security(),
    }
    current = clients.show_client(operator, client_id)
    changed = {k: v for k, v in changes.items() if v != current[k]}
    here = url_for("admin_console.client_page", client_id=client_id)
    return act(_("The service is changed"), here, clients.edit, operator, client_id, changed)


@bp.route("/clients/<client_id>/approve", methods=["POST"])
@console_page
def approve(operator: Operator, client_id: str) -> Response:
    scopes = request.form.getlist("scope") or None
    here = url_for("admin_console.client_page", client_id=client_id)
    return act(_("The scopes are approved"), here, clients.approve, operator, client_id, scopes)


@bp.route("/clients/<client_id>/secret", methods=["POST"])
@console_page
def rotate_secret(operator: Operator, client_id: str) -> str | Response:
    rotated = attempt(clients.rotate_secret, operator, client_id)
    if rotated is None:
        return done(None, url_for("admin_console.client_page", client_id=client_id))
    return _render(operator, "admin/client_secret.html", shown=rotated)


@bp.route("/clients/<client_id>/<switch>", methods=["POST"])
@console_page
def switch(operator: Operator, client_id: str, switch: str) -> Response:
    if switch not in _SWITCHES:
        abort(404)
    task, message = _SWITCHES[switch]
    here = url_for("admin_console.client_page", client_id=client_id)
    return act(str(message), here, task, operator, client_id)


@bp.route("/initial-access-tokens", methods=["POST"])
@console_page
def issue_initial_access_token(operator: Operator) -> str | Response:
    days, uses = request.form.get("days", "7"), request.form.get("uses", "1")
    issued = attempt(
        clients.issue_initial_access_token,
        operator,
        expires_in=int(days) * 86400 if days.isdigit() else -1,
        uses=int(uses) if uses.isdigit() else -1,
        note=request.form.get("note", ""),
    )
    if issued is None:
        return done(None, url_for("admin_console.clients_page"))
    return _render(operator, "admin/initial_access_token.html", issued=issued)


@bp.route("/initial-access-tokens/<int:token_id>/revoke", methods=["POST"])
@console_page
def revoke_initial_access_token(operator: Operator, token_id: int) -> Response:
    here = url_for("admin_console.clients_page")
    message = _("The initial access token is closed")
    return act(message, here, clients.revoke_initial_access_token, operator, token_id)
