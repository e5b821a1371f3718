"""Passkeys on the account page (add, list, remove) and on the sign-in page (sign in with one).

The ceremonies are ``idp.auth.webauthn``; this module is their HTTP skin. The browser side is
``static/passkeys.js``: it asks for options, calls ``navigator.credentials``, and posts the result
back as JSON with the CSRF token in ``X-CSRFToken``, so the one same-origin rule of
``idp.web.csrf`` guards these endpoints as it does every form. Removing a passkey is a plain form.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as WerkzeugResponse

from idp.auth.events import SecurityEvent, security_event
from idp.auth.session import LoginSession, current_login, interactions, sign_in
from idp.auth.webauthn import (
    MAX_NAME,
    PasskeyFailure,
    RelyingParty,
    SignInRefused,
    authenticate,
    authentication_options,
    passkeys_of,
    register,
    registration_options,
    remove,
)
from idp.services import services
from idp.store.subjects import read_person
from idp.web.csrf import origin_of
from idp.web.json_body import json_object

bp = Blueprint("passkeys", __name__)
#: RFC 8176 2: a key held in hardware (or a platform's keystore) with user verification on it.
PASSKEY_AMR = ("hwk", "mfa")

_MESSAGES = {
    PasskeyFailure.EXPIRED: _l("This took too long. Please try again."),
    PasskeyFailure.INVALID: _l("The passkey could not be verified. Please try again."),
    PasskeyFailure.UNKNOWN: _l(
        "This passkey is not registered here. Sign in with your password and add it again."
    ),
    PasskeyFailure.DUPLICATE: _l("This passkey is registered already."),
    PasskeyFailure.TOO_MANY: _l("You have too many passkeys. Remove one first."),
    PasskeyFailure.DISABLED: _l("This account has been disabled. Please contact the service desk."),
}
_STATUS = {PasskeyFailure.DISABLED: 403, PasskeyFailure.TOO_MANY: 409}


def relying_party() -> RelyingParty | None:
    """The provider as a WebAuthn relying party, or None when its issuer's host is an IP address
    (``make run``'s default ``http://127.0.0.1:5000``): browsers refuse one as an RP ID (WebAuthn
    L3 5.1.2: the RP ID is a registrable domain suffix of the origin)."""
    issuer = services().settings.issuer
    host = urlsplit(issuer).hostname or ""
    origin = origin_of(issuer)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return RelyingParty(host, origin) if host and origin else None
    return None


@dataclass(frozen=True)
class SignInLinks:
    options: str
    verify: str


@bp.app_context_processor
def _sign_in_links() -> dict[str, SignInLinks]:
    """``passkey_sign_in`` for ``_passkey_sign_in.html`` on the interaction's pages (the login
    page), where passkeys can work; ``idp.web.authorize`` need not know about them."""
    uid = (request.view_args or {}).get("uid")
    if request.endpoint != "authorize.interaction" or uid is None or relying_party() is None:
        return {}
    return {
        "passkey_sign_in": SignInLinks(
            url_for("passkeys.sign_in_options", uid=uid),
            url_for("passkeys.sign_in_with_passkey", uid=uid),
        )
    }


@dataclass(frozen=True)
class PasskeyRow:
    name: str
    created_at: datetime
    last_used_at: datetime | None
    remove_action: str


@dataclass(frozen=True)
class MyPasskeys:
    available: bool
    rows: list[PasskeyRow]
    options_action: str
    register_action: str
    changed: str | None  # "added" or "removed", right after one of those


def passkey_rows(login: LoginSession) -> MyPasskeys:
    """What ``_passkeys.html`` shows on the account page."""
    changed = request.args.get("passkey")
    return MyPasskeys(
        available=relying_party() is not None,
        rows=[
            PasskeyRow(
                p.name,
                p.created_at,
                p.last_used_at,
                url_for("passkeys.remove_passkey", passkey_id=p.id),
            )
            for p in passkeys_of(login.person.id)
        ],
        options_action=url_for("passkeys.new_passkey_options"),
        register_action=url_for("passkeys.add_passkey"),
        changed=changed if changed in ("added", "removed") else None,
    )


def _refused(status: int, error: str, message: str) -> tuple[Response, int]:
    return jsonify(error=error, message=message), status


def _failed(failure: PasskeyFailure) -> tuple[Response, int]:
    return _refused(_STATUS.get(failure, 400), failure.value, str(_MESSAGES[failure]))


def _not_signed_in() -> tuple[Response, int]:
    return _refused(401, "login_required", _("Please sign in again."))


def _unavailable() -> tuple[Response, int]:
    return _refused(404, "unavailable", _("Passkeys are not available on this server."))


def _credential(body: dict[str, Any]) -> dict[str, Any]:
    found = body.get("credential")
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class _Adding:
    login: LoginSession
    rp: RelyingParty


def _adding() -> _Adding | tuple[Response, int]:
    """Who is adding a passkey, or the JSON refusal: nobody signed in, or no passkeys here."""
    login, rp = current_login(), relying_party()
    if login is None:
        return _not_signed_in()
    if rp is None:
        return _unavailable()
    return _Adding(login, rp)


@bp.route("/account/passkeys/options", methods=["POST"])
def new_passkey_options() -> Response | tuple[Response, int]:
    adding = _adding()
    if not isinstance(adding, _Adding):
        return adding
    person = adding.login.person
    name = read_person(services().cipher, person).name
    return jsonify(registration_options(adding.rp, person, name))


@bp.route("/account/passkeys", methods=["POST"])
def add_passkey() -> Response | tuple[Response, int]:
    adding = _adding()
    if not isinstance(adding, _Adding):
        return adding
    body = json_object()
    name = " ".join(str(body.get("name", "")).split())[:MAX_NAME] or _("Passkey")
    person = adding.login.person
    outcome = register(adding.rp, person, _credential(body), name)
    if isinstance(outcome, PasskeyFailure):
        return _failed(outcome)
    security_event(SecurityEvent.FACTOR_ADDED, person.id, factor="passkey", passkey=outcome.id)
    return jsonify(redirect=url_for("account.account", passkey="added"))


@bp.route("/account/passkeys/<int:passkey_id>/remove", methods=["POST"])
def remove_passkey(passkey_id: int) -> WerkzeugResponse:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    removed = remove(login.person.id, passkey_id)
    if removed is None:
        return redirect(url_for("account.account"))
    security_event(
        SecurityEvent.FACTOR_REMOVED, login.person.id, factor="passkey", passkey=passkey_id
    )
    return redirect(url_for("account.account", passkey="removed"))


def _expired() -> tuple[Response, int]:
    return _refused(
        400, "expired", _("This sign-in has expired. Go back to the service and start again.")
    )


@bp.route("/interaction/<uid>/passkey/options", methods=["POST"])
def sign_in_options(uid: str) -> Response | tuple[Response, int]:
    rp = relying_party()
    if rp is None:
        return _unavailable()
    if uid not in interactions():
        return _expired()
    return jsonify(authentication_options(rp))


@bp.route("/interaction/<uid>/passkey", methods=["POST"])
def sign_in_with_passkey(uid: str) -> Response | tuple[Response, int]:
    """A discoverable passkey signs the person in; the pending interaction then carries on."""
    rp = relying_party()
    if rp is None:
        return _unavailable()
    body = json_object()
    if uid not in interactions():
        return _expired()
    outcome = authenticate(rp, _credential(body))
    if isinstance(outcome, SignInRefused):
        security_event(
            SecurityEvent.SIGN_IN_FAILED,
            outcome.person_id,
            method="passkey",
            reason=outcome.failure.value,
        )
        return _failed(outcome.failure)
    sign_in(outcome.person, PASSKEY_AMR)
    security_event(
        SecurityEvent.SIGNED_IN, outcome.person.id, method="passkey", passkey=outcome.passkey.id
    )
    return jsonify(redirect=url_for("authorize.resume", uid=uid))
