"""The authorization endpoint's routes and pages (RFC 6749 3.1, OIDC Core 3.1.2).

What a request needs next is decided by the steps in ``idp.oauth.authorization``; this module
turns their outcome into HTTP (a redirect to a page, an error page, the client's response) and
renders the pages: sign in, choose an enterprise, consent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as WerkzeugResponse

from idp.auth.login import LoginFailure, authenticate
from idp.auth.session import LoginSession, current_login, sign_in
from idp.identifiers import mask_identifier
from idp.oauth.authorization import answers, pipeline, step_up
from idp.oauth.authorization import state as interactions
from idp.oauth.authorization.state import Interaction, Page
from idp.oauth.authorization.steps import (
    Refusal,
    Refused,
    Show,
    chosen_enterprise,
    requested_scopes,
)
from idp.oauth.claims import PERSONAL_SCOPES, SCOPE_CLAIMS
from idp.oauth.claims_parameter import verified_scopes
from idp.oauth.delegation import choices_for
from idp.oauth.registry_claims import SUBJECT_SCOPES
from idp.oauth.server import query_client
from idp.services import services
from idp.store.models import Client, Person
from idp.store.subjects import enterprise_uscc
from idp.throttle.policy import Refusal as Throttled
from idp.web.errors import error_page
from idp.web.i18n import remember_locale
from idp.web.labels import SENSITIVE_SCOPES, claim_label, scope_label
from idp.web.reflected import refuse_overlong
from idp.web.second_factor import second_factor_page, step_up_page

bp = Blueprint("authorize", __name__)

Reply = Response | WerkzeugResponse | tuple[str, int] | str


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Reply:
    # OIDC Core 3.1.2.1: the endpoint accepts GET and POST; ui_locales picks the page language.
    remember_locale(request.values.get("ui_locales"))
    params = request.values.to_dict(flat=True)
    return refuse_overlong(params) or _reply(pipeline.start(params))


@bp.route("/authorize/resume/<uid>")
def resume(uid: str) -> Reply:
    return _reply(pipeline.resume(uid))


def _reply(outcome: Response | Refused | Show) -> Reply:
    if isinstance(outcome, Show):
        return redirect(url_for("authorize.interaction", uid=outcome.uid))
    if isinstance(outcome, Refused):
        title, message = _REFUSALS[outcome.reason]
        return error_page(400, str(title), outcome.description or str(message))
    return outcome


_REFUSALS = {
    Refusal.UNKNOWN_CLIENT: (
        _l("Unknown application"),
        _l("The service that sent you here is not registered."),
    ),
    Refusal.UNVERIFIED_REDIRECT_URI: (
        _l("Invalid return address"),
        _l("The service asked to return to an address it has not registered."),
    ),
    Refusal.EXPIRED: (
        _l("This sign-in has expired"),
        _l("Go back to the service and start again."),
    ),
    Refusal.INVALID_REQUEST: (_l("Invalid request"), _l("Invalid request")),
    Refusal.INVALID_REQUEST_OBJECT: (
        _l("Invalid signed request"),
        _l("The service sent a signed request that could not be accepted."),
    ),
    Refusal.REQUEST_URI: (
        _l("This sign-in request is no longer valid"),
        _l("Go back to the service and start again."),
    ),
}


@bp.route("/interaction/<uid>", methods=["GET", "POST"])
def interaction(uid: str) -> Reply:
    found = interactions.load(uid)
    client = query_client(found.params.get("client_id", "")) if found else None
    if found is None or client is None or found.page is None:
        return _reply(Refused(Refusal.EXPIRED))
    if found.page is Page.LOGIN:
        return _login_page(found, client)
    if found.page is Page.SECOND_FACTOR:  # after the password too, before any session
        return second_factor_page(found, client)
    login = current_login()
    if login is None:
        return _resume(uid)  # signed out meanwhile: the steps ask for a sign-in again
    return _SIGNED_IN_PAGES[found.page](found, client, login)


def _resume(uid: str) -> WerkzeugResponse:
    return redirect(url_for("authorize.resume", uid=uid))


_LOGIN_MESSAGES = {
    LoginFailure.MALFORMED: _l("Enter a valid 18-character resident identity number."),
    LoginFailure.BAD_CREDENTIALS: _l("The identity number or password is not correct."),
    LoginFailure.DISABLED: _l("This account has been disabled. Please contact the service desk."),
}
_LOGIN_STATUS = {LoginFailure.DISABLED: 403}
_THROTTLED = _l("Too many attempts. Wait a moment, then try again.")


def _login_page(found: Interaction, client: Client) -> Reply:
    action = url_for("authorize.interaction", uid=found.uid)
    if request.method == "GET":
        hint = found.params.get("login_hint", "")[:18]
        return render_template(
            "login.html", action=action, username=hint, error=None, client_name=client.name
        )
    svc = services()
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    outcome = authenticate(
        svc.cipher, svc.passwords, svc.throttle, username, password, request.remote_addr
    )
    if not isinstance(outcome, Person):
        message = _THROTTLED if isinstance(outcome, Throttled) else _LOGIN_MESSAGES[outcome]
        page = render_template(
            "login.html",
            action=action,
            username=username[:18],
            error=str(message),
            client_name=client.name,
        )
        if isinstance(outcome, Throttled):  # the same page for every number, RFC 6585 4
            return Response(page, 429, {"Retry-After": str(outcome.retry_after)})
        return page, _LOGIN_STATUS.get(outcome, 401)
    if step_up.password_accepted(found, outcome):  # a second factor first
        return redirect(url_for("authorize.interaction", uid=found.uid))
    sign_in(outcome, ("pwd",))
    return _resume(found.uid)


@dataclass(frozen=True)
class _Choice:
    id: int
    name: str
    uscc_masked: str
    #: Offered through a mandate (as agent, 经办人), not as legal representative.
    as_agent: bool


def _enterprise_page(found: Interaction, client: Client, login: LoginSession) -> Reply:
    if request.method == "POST":
        allow = request.form.get("decision") == "allow"
        answers.choose_enterprise(found, request.form.get("enterprise_id", ""), allow)
        return _resume(found.uid)
    cipher = services().cipher
    choices = [
        _Choice(
            a.enterprise.id,
            a.enterprise.name,
            mask_identifier(enterprise_uscc(cipher, a.enterprise)),
            a.mandate is not None,
        )
        for a in choices_for(login.person, client.client_id, requested_scopes(found, client))
    ]
    return render_template(
        "enterprise.html",
        action=url_for("authorize.interaction", uid=found.uid),
        client_name=client.name,
        enterprises=choices,
    )


class _Item:
    def __init__(self, scope: str, purpose: str, enterprise_login: bool, verified: bool) -> None:
        self.label = scope_label(scope)
        # In an enterprise login these scopes release the enterprise's records, not the person's.
        about_enterprise = enterprise_login and scope in SUBJECT_SCOPES
        self.claims = [
            claim_label(c, enterprise=about_enterprise)
            for c in SCOPE_CLAIMS[scope]
            if c not in ("sub", "entity_type")
        ]
        self.purpose = purpose
        self.sensitive = scope in SENSITIVE_SCOPES
        #: Asked for as verified claims, with the registry records as evidence (OIDC4IDA).
        self.verified = verified


def _consent_page(found: Interaction, client: Client, login: LoginSession) -> Reply:
    if request.method == "POST":
        answers.decide(found, client, login, request.form.get("decision") == "allow")
        return _resume(found.uid)
    default_purpose = _("To provide the service you asked {client} for.").replace(
        "{client}", client.name
    )
    scopes = requested_scopes(found, client) & PERSONAL_SCOPES
    enterprise = chosen_enterprise(found, login.person, client)
    verified = verified_scopes(found.params.get("claims"))
    return render_template(
        "consent.html",
        action=url_for("authorize.interaction", uid=found.uid),
        client_name=client.name,
        acting_for=enterprise.name if enterprise else None,
        items=[
            _Item(s, client.purposes.get(s, default_purpose), enterprise is not None, s in verified)
            for s in sorted(scopes)
        ],
    )


_SIGNED_IN_PAGES: dict[Page, Callable[[Interaction, Client, LoginSession], Reply]] = {
    Page.ENTERPRISE: _enterprise_page,
    Page.CONSENT: _consent_page,
    Page.STEP_UP: step_up_page,
}
