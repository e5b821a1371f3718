"""The authorization endpoint (RFC 6749 3.1, OIDC Core 3.1.2) and the interactions it needs.

One decision point, ``_decide``, looks at a validated request and the login session and either
issues the code or starts the next interaction step (login, enterprise choice, consent). Each step
records its outcome on the pending interaction in the server-side session and resumes the request by
its id, so the original parameters (which may carry a login hint) never reappear in a URL.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as WerkzeugResponse

from idp.auth.login import LoginFailure, authenticate
from idp.auth.session import LoginSession, current_login, interactions, sign_in
from idp.identifiers import mask_identifier
from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth.claims import PERSONAL_SCOPES, SCOPE_CLAIMS, subject_of
from idp.oauth.principal import Principal
from idp.oauth.server import YihaoServer, query_client
from idp.services import services
from idp.store.consents import grant_consent, has_consent
from idp.store.db import db
from idp.store.models import Client, Enterprise, Person
from idp.store.subjects import enterprise_uscc
from idp.throttle.policy import Refusal
from idp.web.errors import error_page
from idp.web.i18n import remember_locale
from idp.web.labels import SENSITIVE_SCOPES, claim_label, scope_label
from idp.web.reflected import refuse_overlong

bp = Blueprint("authorize", __name__)

#: Pending interactions kept per browser; older ones are dropped (bounds what one browser stores).
MAX_PENDING = 4

Reply = Response | WerkzeugResponse | tuple[str, int] | str


def _server() -> YihaoServer:
    found: YihaoServer = current_app.extensions["yihao_server"]
    return found


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Reply:
    # OIDC Core 3.1.2.1: the endpoint accepts GET and POST; ui_locales picks the page language.
    remember_locale(request.values.get("ui_locales"))
    params = request.values.to_dict(flat=True)
    return refuse_overlong(params) or _process(None, params, None)


@bp.route("/authorize/resume/<uid>")
def resume(uid: str) -> Reply:
    pending = interactions().get(uid)
    if pending is None:
        return _expired()
    params: dict[str, str] = pending["params"]
    prepared = OAuth2Request(
        "GET", request.url_root.rstrip("/") + "/authorize", headers=request.headers
    )
    prepared.payload = BasicOAuth2Payload(params)
    return _process(uid, params, prepared)


def _process(uid: str | None, params: dict[str, str], prepared: OAuth2Request | None) -> Reply:
    client = query_client(params["client_id"]) if params.get("client_id") else None
    if client is None:
        return error_page(
            400, _("Unknown application"), _("The service that sent you here is not registered.")
        )
    # RFC 6749 4.1.2.1: never redirect to an unverified redirect URI; tell the person instead.
    redirect_uri = params.get("redirect_uri")
    # OIDC Core 3.1.2.1 makes redirect_uri REQUIRED; plain OAuth may omit it when exactly one
    # is registered (RFC 6749 3.1.2.3).
    openid = "openid" in params.get("scope", "").split()
    if (redirect_uri and not client.check_redirect_uri(redirect_uri)) or (
        not redirect_uri and (openid or client.get_default_redirect_uri() is None)
    ):
        return error_page(
            400,
            _("Invalid return address"),
            _("The service asked to return to an address it has not registered."),
        )
    login = current_login()
    grant = None
    try:
        grant = _server().get_consent_grant(request=prepared, end_user=_principal(login))
        return _decide(uid, params, prepared, grant, client, login)
    except OAuth2Error as error:
        error.state = params.get("state")
        if grant is not None and not error.redirect_uri:
            # RFC 6749 4.1.2.1: an error found once the client and its redirect URI are verified
            # (a malformed max_age or id_token_hint) goes back to the client.
            error.redirect_uri = grant.redirect_uri
        return _error_response(error)


def _principal(
    login: LoginSession | None, enterprise: Enterprise | None = None
) -> Principal | None:
    if login is None:
        return None
    return Principal(login.person, enterprise, login.auth_time, login.sid)


def _decide(
    uid: str | None,
    params: dict[str, str],
    prepared: OAuth2Request | None,
    grant: Any,
    client: Client,
    login: LoginSession | None,
) -> Reply:
    pending: dict[str, Any] = interactions().get(uid, {}) if uid else {}
    prompts = set(params.get("prompt", "").split())
    redirect_uri = grant.redirect_uri
    if _needs_login(params, prompts, pending, client, login):
        if "none" in prompts:
            raise LoginRequiredError(redirect_uri=redirect_uri)
        return _start(uid, params, "login")
    assert login is not None
    scopes = frozenset(client.get_allowed_scope(params.get("scope")).split())
    enterprise: Enterprise | None = None
    if "enterprise" in scopes and pending.get("consent") != "deny":
        enterprise = _chosen_enterprise(pending, login)
        if enterprise is None:
            if "none" in prompts:
                raise InteractionRequiredError(redirect_uri=redirect_uri)
            return _start(uid, params, "enterprise")
    if pending.get("consent") == "deny":
        return _finish(uid, prepared, grant, None)
    if _needs_consent(scopes, prompts, pending, client, login, enterprise):
        if "none" in prompts:
            raise ConsentRequiredError(redirect_uri=redirect_uri)
        return _start(uid, params, "consent")
    return _finish(uid, prepared, grant, _principal(login, enterprise))


def _needs_login(
    params: dict[str, str],
    prompts: set[str],
    pending: dict[str, Any],
    client: Client,
    login: LoginSession | None,
) -> bool:
    max_age = params.get("max_age")
    # OIDC Core 3.1.2.1: max_age is a non-negative number of seconds; checked before any login.
    if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
        raise InvalidRequestError("max_age must be a non-negative integer")
    if login is None:
        return True
    if pending.get("logged_in"):
        return False
    if "login" in prompts:
        return True
    if max_age is not None and time.time() - login.auth_time > int(max_age):
        return True
    hint = params.get("id_token_hint")
    if not hint:
        return False
    return _hinted_subject(hint) != subject_of(services(), client, Principal(login.person))


def _hinted_subject(hint: str) -> str:
    """The ``sub`` of an ID token we issued; its expiry does not matter (OIDC Core 3.1.2.1)."""
    try:
        token = jwt.decode(
            hint, services().keys.verification_keys(), algorithms=list(SUPPORTED_ALGS)
        )
    except (JoseError, ValueError):
        raise InvalidRequestError("id_token_hint is not an ID token issued here") from None
    return str(token.claims.get("sub", ""))


def _chosen_enterprise(pending: dict[str, Any], login: LoginSession) -> Enterprise | None:
    chosen = pending.get("enterprise_id")
    if chosen is None:
        return None
    enterprise = db.session.get(Enterprise, int(chosen))
    if enterprise is None or enterprise.legal_representative_id != login.person.id:
        return None
    return enterprise


def _needs_consent(
    scopes: frozenset[str],
    prompts: set[str],
    pending: dict[str, Any],
    client: Client,
    login: LoginSession,
    enterprise: Enterprise | None,
) -> bool:
    if not scopes & PERSONAL_SCOPES or pending.get("consent") == "allow":
        return False
    if "consent" in prompts:
        return True
    return not has_consent(
        login.person.id, client.client_id, enterprise.id if enterprise else None, scopes
    )


def _start(uid: str | None, params: dict[str, str], step: str) -> WerkzeugResponse:
    pending = interactions()
    if uid is None or uid not in pending:
        uid = secrets.token_urlsafe(12)
        for stale in sorted(pending, key=lambda k: pending[k]["started"])[
            : max(0, len(pending) - MAX_PENDING + 1)
        ]:
            del pending[stale]
        pending[uid] = {"params": params, "started": int(time.time())}
    pending[uid]["step"] = step
    session.modified = True
    return redirect(url_for("authorize.interaction", uid=uid))


def _finish(
    uid: str | None, prepared: OAuth2Request | None, grant: Any, user: Principal | None
) -> Reply:
    if uid is not None:
        interactions().pop(uid, None)
        session.modified = True
    response: Response = _server().create_authorization_response(
        request=prepared, grant_user=user, grant=grant
    )
    return response


def _error_response(error: OAuth2Error) -> Reply:
    if not error.redirect_uri:
        return error_page(400, _("Invalid request"), error.get_error_description() or error.error)
    status, body, headers = error()
    response: Response = _server().handle_response(status, body, headers)
    # RFC 9207 2: error responses carry iss as well.
    response.location = add_params_to_uri(response.location, {"iss": services().settings.issuer})
    return response


def _expired() -> tuple[str, int]:
    return error_page(
        400, _("This sign-in has expired"), _("Go back to the service and start again.")
    )


@bp.route("/interaction/<uid>", methods=["GET", "POST"])
def interaction(uid: str) -> Reply:
    pending = interactions().get(uid)
    if pending is None:
        return _expired()
    client = query_client(pending["params"].get("client_id", ""))
    if client is None:
        return _expired()
    step = pending.get("step")
    if step == "login":
        return _login_step(uid, pending, client)
    login = current_login()
    if login is None:
        return _start(uid, pending["params"], "login")
    if step == "enterprise":
        return _enterprise_step(uid, pending, client, login)
    return _consent_step(uid, pending, client, login)


def _resume(uid: str) -> WerkzeugResponse:
    session.modified = True
    return redirect(url_for("authorize.resume", uid=uid))


_LOGIN_MESSAGES = {
    LoginFailure.MALFORMED: _l("Enter a valid 18-character resident identity number."),
    LoginFailure.BAD_CREDENTIALS: _l("The identity number or password is not correct."),
    LoginFailure.DISABLED: _l("This account has been disabled. Please contact the service desk."),
}
_LOGIN_STATUS = {LoginFailure.DISABLED: 403}
_THROTTLED = _l("Too many attempts. Wait a moment, then try again.")


def _login_step(uid: str, pending: dict[str, Any], client: Client) -> Reply:
    action = url_for("authorize.interaction", uid=uid)
    hint = pending["params"].get("login_hint", "")[:18]
    if request.method == "GET":
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
        message = _THROTTLED if isinstance(outcome, Refusal) else _LOGIN_MESSAGES[outcome]
        page = render_template(
            "login.html",
            action=action,
            username=username[:18],
            error=str(message),
            client_name=client.name,
        )
        if isinstance(outcome, Refusal):  # the same page for every number, RFC 6585 4
            return Response(page, 429, {"Retry-After": str(outcome.retry_after)})
        return page, _LOGIN_STATUS.get(outcome, 401)
    sign_in(outcome, ("pwd",))
    interactions()[uid]["logged_in"] = True
    return _resume(uid)


def _enterprise_step(
    uid: str, pending: dict[str, Any], client: Client, login: LoginSession
) -> Reply:
    if request.method == "POST":
        choice = request.form.get("enterprise_id", "")
        if request.form.get("decision") != "allow":
            pending["consent"] = "deny"
        elif choice.isdigit():
            pending["enterprise_id"] = int(choice)
        return _resume(uid)
    svc = services()
    choices = [
        _Choice(e.id, e.name, mask_identifier(enterprise_uscc(svc.cipher, e)))
        for e in login.person.enterprises
    ]
    action = url_for("authorize.interaction", uid=uid)
    return render_template(
        "enterprise.html", action=action, client_name=client.name, enterprises=choices
    )


@dataclass(frozen=True)
class _Choice:
    id: int
    name: str
    uscc_masked: str


class _Item:
    def __init__(self, scope: str, purpose: str) -> None:
        self.label = scope_label(scope)
        self.claims = [
            claim_label(c) for c in SCOPE_CLAIMS[scope] if c not in ("sub", "entity_type")
        ]
        self.purpose = purpose
        self.sensitive = scope in SENSITIVE_SCOPES


def _consent_step(uid: str, pending: dict[str, Any], client: Client, login: LoginSession) -> Reply:
    scopes = frozenset(client.get_allowed_scope(pending["params"].get("scope")).split())
    enterprise = _chosen_enterprise(pending, login)
    if request.method == "POST":
        if request.form.get("decision") == "allow":
            grant_consent(
                login.person.id, client.client_id, enterprise.id if enterprise else None, scopes
            )
            pending["consent"] = "allow"
        else:
            pending["consent"] = "deny"
        return _resume(uid)
    default_purpose = _("To provide the service you asked {client} for.").replace(
        "{client}", client.name
    )
    items = [
        _Item(s, client.purposes.get(s, default_purpose)) for s in sorted(scopes & PERSONAL_SCOPES)
    ]
    return render_template(
        "consent.html",
        action=url_for("authorize.interaction", uid=uid),
        client_name=client.name,
        acting_for=enterprise.name if enterprise else None,
        items=items,
    )
