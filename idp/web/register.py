"""Self-registration (``/register``) and password reset (``/recover``): the pages of
``idp.auth.registration``.

Both are three steps: number + name, then a one-time code (SMS to the registry's mobile number, or
a counter's activation code) with the new password, then the citizen is signed in. Every step is
a POST form; the number never appears in a URL. A flow started from the login page carries the
pending interaction's uid and goes back to it (``authorize.resume``) once signed in.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.auth import rfc6238
from idp.auth.one_time_codes import Purpose
from idp.auth.password_rules import MAX_LENGTH, PasswordProblem
from idp.auth.registration import (
    Claimant,
    Failure,
    Mismatch,
    Sent,
    finish,
    identify,
    masked_mobile,
    send_code,
)
from idp.auth.session import end_sessions, interactions, sign_in
from idp.services import services
from idp.store.models import Person

bp = Blueprint("register", __name__)

Reply = str | tuple[str, int] | Response
_STATE = "possession"
_SENT_TO = "sms_sent_to"

#: The two flows, by the purpose their codes are bound to.
_PAGES = {
    Purpose.REGISTER: {
        "title": _l("Register with your identity card"),
        "lead": _l("Enter the number and name on your resident identity card."),
        "start": "register.register",
        "send": "register.register_send",
        "finish": "register.register_finish",
        "submit": _l("Create my account"),
    },
    Purpose.RESET: {
        "title": _l("Reset your password"),
        "lead": _l("Enter your identity number and your name, as on your identity card."),
        "start": "register.recover",
        "send": "register.recover_send",
        "finish": "register.recover_finish",
        "submit": _l("Set the new password"),
    },
}

_MISMATCH = {
    Mismatch.MALFORMED: _l("Enter a valid 18-character resident identity number."),
    Mismatch.NO_MATCH: _l(
        "The number and name do not match our records. Check them, or ask at a service counter."
    ),
    Mismatch.ALREADY_REGISTERED: _l(
        "This number already has an account. Sign in, or reset your password if you forgot it."
    ),
    Mismatch.NOT_REGISTERED: _l("This number has no account yet. Register first."),
}
#: What is wrong with a new password (here, at reset and on the account page).
PASSWORD_PROBLEMS: Mapping[object, Any] = {
    PasswordProblem.TOO_SHORT: _l("Choose a password of at least 8 characters."),
    PasswordProblem.TOO_LONG: _l("Choose a password of at most %(n)d characters.", n=MAX_LENGTH),
    PasswordProblem.COMMON: _l(
        "This password is on a list of common passwords that attackers try first. Choose another."
    ),
    PasswordProblem.PERSONAL: _l(
        "The password must not contain your identity number or your birth date."
    ),
}
_FAILURES: Mapping[object, Any] = {
    Failure.WRONG_CODE: _l("The code is not correct."),
    Failure.NO_CODE: _l("This code has expired or has been used. Ask for a new one."),
    Failure.ALREADY_REGISTERED: _MISMATCH[Mismatch.ALREADY_REGISTERED],
    **PASSWORD_PROBLEMS,
}
_SENT = {
    Sent.NO_MOBILE: _l(
        "No mobile number is on record for you. Use an activation code from a service counter."
    ),
    Sent.LIMITED: _l(
        "Too many codes were sent. Try again in an hour, or use an activation code from a "
        "service counter."
    ),
    Sent.FAILED: _l(
        "The text message could not be sent. Try again later, or use an activation code from a "
        "service counter."
    ),
}
_SENT_STATUS = {Sent.NO_MOBILE: 400, Sent.LIMITED: 429, Sent.FAILED: 503}
PASSWORDS_DIFFER = _l("The two passwords are not the same.")


@bp.route("/register", methods=["GET", "POST"], endpoint="register")
@bp.route("/recover", methods=["GET", "POST"], endpoint="recover")
def start() -> Reply:
    purpose = _purpose()
    uid = _pending_uid(request.values.get("interaction", ""))
    if request.method == "GET":
        return _start_page(purpose, uid)
    number = request.form.get("number", "")[:18]
    found = identify(services(), purpose, number, request.form.get("name", "")[:100])
    if isinstance(found, Mismatch):
        status = 409 if found is Mismatch.ALREADY_REGISTERED else 400
        return _start_page(purpose, uid, number, found), status
    session[_STATE] = {"claimant": found.as_dict(), "uid": uid, "started": int(time.time())}
    session.pop(_SENT_TO, None)
    return redirect(url_for(_PAGES[purpose]["finish"]))


@bp.route("/register/send", methods=["POST"], endpoint="register_send")
@bp.route("/recover/send", methods=["POST"], endpoint="recover_send")
def send() -> Reply:
    purpose = _purpose()
    claimant = _claimant(purpose)
    if claimant is None:
        return redirect(url_for(_PAGES[purpose]["start"]))
    svc = services()
    outcome = send_code(svc, claimant, request.remote_addr or "")
    if outcome is not Sent.SENT:
        return _finish_page(purpose, claimant, str(_SENT[outcome])), _SENT_STATUS[outcome]
    session[_SENT_TO] = masked_mobile(svc, claimant)
    return redirect(url_for(_PAGES[purpose]["finish"]))


@bp.route("/register/finish", methods=["GET", "POST"], endpoint="register_finish")
@bp.route("/recover/finish", methods=["GET", "POST"], endpoint="recover_finish")
def complete() -> Reply:
    purpose = _purpose()
    claimant = _claimant(purpose)
    if claimant is None:
        return redirect(url_for(_PAGES[purpose]["start"]))
    if request.method == "GET":
        return _finish_page(purpose, claimant)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _finish_page(purpose, claimant, str(PASSWORDS_DIFFER)), 400
    outcome = finish(services(), claimant, request.form.get("code", "")[:32], password)
    if not isinstance(outcome, Person):
        return _finish_page(purpose, claimant, str(_FAILURES[outcome])), 400
    return _signed_in(outcome, purpose, session[_STATE].get("uid"))


def _signed_in(person: Person, purpose: Purpose, uid: str | None) -> Response:
    if purpose is Purpose.RESET and rfc6238.is_enrolled(person.id):
        # The reset proved the registry's mobile number, not the authenticator app: the new
        # password signs in on the sign-in page, with the app's code, like any other.
        end_sessions(person.id, None)
        session.pop(_STATE, None)
        return _onward(uid)
    sign_in(person, ("pwd",))  # keeps pending interactions, drops this flow's state
    if purpose is Purpose.RESET:
        end_sessions(person.id, None)  # every other session: this one is not saved yet
    return _onward(uid)


def _onward(uid: str | None) -> Response:
    if uid and uid in interactions():
        return redirect(url_for("authorize.resume", uid=uid))
    return redirect(url_for("account.account"))


def _purpose() -> Purpose:
    return Purpose.RESET if request.path.startswith("/recover") else Purpose.REGISTER


def _pending_uid(uid: str) -> str | None:
    """The interaction to go back to: only one pending in this browser's own session."""
    return uid if uid and uid in interactions() else None


def _claimant(purpose: Purpose) -> Claimant | None:
    state = session.get(_STATE)
    if not isinstance(state, dict) or state["claimant"]["purpose"] != purpose:
        return None
    if time.time() - state["started"] > services().settings.interaction_ttl:
        session.pop(_STATE, None)
        return None
    return Claimant.from_dict(state["claimant"])


def _start_page(
    purpose: Purpose, uid: str | None, number: str = "", mismatch: Mismatch | None = None
) -> str:
    pages = _PAGES[purpose]
    return render_template(
        "register_start.html",
        page=pages,
        action=url_for(pages["start"]),
        interaction=uid or "",
        number=number,
        error=str(_MISMATCH[mismatch]) if mismatch else None,
        sign_in_url=url_for("authorize.interaction", uid=uid) if uid else None,
        recover_url=url_for("register.recover", interaction=uid),
        already_registered=mismatch is Mismatch.ALREADY_REGISTERED,
    )


def _finish_page(purpose: Purpose, claimant: Claimant, error: str | None = None) -> str:
    pages = _PAGES[purpose]
    return render_template(
        "register_finish.html",
        page=pages,
        mobile=masked_mobile(services(), claimant),
        sent_to=session.get(_SENT_TO),
        send_action=url_for(pages["send"]),
        action=url_for(pages["finish"]),
        error=error,
    )
