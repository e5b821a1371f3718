"""The authenticator app (TOTP): turning it on and off on the account page, and the interaction's
pages that ask for a code (``idp.oauth.authorization.step_up`` decides when).

Turning it on shows the secret once, as a QR code drawn inline as SVG (the page's CSP allows no
``data:`` image, and a served image would be one more URL holding a secret) and as text, and asks
for a first code; that code turns it on and shows the recovery codes, also once. Turning it off
asks for a current code or a recovery code. A session that gets ``MAX_FAILURES`` codes wrong here
is signed out, so a borrowed browser cannot try codes until one fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response
from yihao.qr import svg

from idp.auth import recovery_codes, rfc6238
from idp.auth.events import SecurityEvent, security_event
from idp.auth.session import LoginSession, current_login, sign_in, sign_out
from idp.oauth.assurance import AMR_PASSWORD_AND_TOTP, PASSKEY
from idp.oauth.authorization import step_up
from idp.oauth.authorization.state import Interaction
from idp.services import services
from idp.store.models import Client
from idp.web.errors import error_page

bp = Blueprint("second_factor", __name__)
#: Wrong codes a signed-in session may send to the account page before it is signed out.
MAX_FAILURES = 5
_FAILURES = "second_factor_failures"
#: The longest code field accepted: a recovery code with some spaces or hyphens.
MAX_CODE = 32

Reply = Response | str | tuple[str, int]


@dataclass(frozen=True)
class SecondFactorSection:
    """What ``_second_factor.html`` shows on the account page."""

    enabled_at: datetime | None
    recovery_left: int
    start_action: str
    remove_action: str
    notice: str | None  # "on" or "off" just after turning it on or off


def second_factor_section(login: LoginSession) -> SecondFactorSection:
    factor = rfc6238.confirmed_since(login.person.id)
    return SecondFactorSection(
        enabled_at=factor.confirmed_at if factor else None,
        recovery_left=recovery_codes.remaining(login.person.id) if factor else 0,
        start_action=url_for("second_factor.start"),
        remove_action=url_for("second_factor.remove"),
        notice=request.args.get("totp") if request.args.get("totp") in ("on", "off") else None,
    )


def _code() -> str:
    return request.form.get("code", "")[:MAX_CODE]


def _enrol_page(enrolment: rfc6238.Enrolment, error: str | None) -> str:
    secret = enrolment.secret
    return render_template(
        "totp_enrol.html",
        qr=Markup(svg(enrolment.uri)),  # noqa: S704  (drawn by qrcode from our own URI)
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        action=url_for("second_factor.confirm"),
        cancel=url_for("account.account"),
        error=error,
    )


def _to_account(notice: str | None = None) -> Response:
    return redirect(url_for("account.account", totp=notice))


@bp.route("/account/second-factor/totp/start", methods=["POST"])
def start() -> Reply:
    login = current_login()
    if login is None:
        return _to_account()
    enrolment = rfc6238.start_enrolment(services().cipher, login.person)
    return _to_account() if enrolment is None else _enrol_page(enrolment, None)


@bp.route("/account/second-factor/totp/confirm", methods=["POST"])
def confirm() -> Reply:
    login = current_login()
    if login is None:
        return _to_account()
    cipher = services().cipher
    codes = rfc6238.confirm_enrolment(cipher, login.person, _code())
    if codes is not None:
        done = url_for("account.account", totp="on")
        return render_template("recovery_codes.html", codes=codes, done=done)
    enrolment = rfc6238.pending_enrolment(cipher, login.person)
    if enrolment is None:
        return _to_account()
    error = _("That code is not right. Check the time on your phone and enter the newest code.")
    return _enrol_page(enrolment, error), 400


@bp.route("/account/second-factor/totp/remove", methods=["POST"])
def remove() -> Reply:
    login = current_login()
    if login is None or not rfc6238.is_enrolled(login.person.id):
        return _to_account()
    page = {"action": url_for("second_factor.remove"), "cancel": url_for("account.account")}
    if request.form.get("confirm") != "yes":
        return render_template("totp_remove.html", error=None, **page)
    if rfc6238.check_second_factor(services().cipher, login.person.id, _code()):
        session.pop(_FAILURES, None)
        rfc6238.remove(login.person.id)
        return _to_account("off")
    failures = int(session.get(_FAILURES, 0)) + 1
    if failures >= MAX_FAILURES:
        sign_out()
        return redirect(url_for("account.signed_out"))
    session[_FAILURES] = failures
    error = _("That code is not right. Enter the newest code from your app, or a recovery code.")
    return render_template("totp_remove.html", error=error, **page), 400


# --------------------------------------------------------------------------- the interaction


def _resume(found: Interaction) -> Response:
    return redirect(url_for("authorize.resume", uid=found.uid))


def second_factor_page(found: Interaction, client: Client) -> Reply:
    """A code from the app or a recovery code, after the password or to step up."""
    person = step_up.awaiting_second_factor(found)
    if person is None:
        return _resume(found)  # the steps ask again for what is missing
    action = url_for("authorize.interaction", uid=found.uid)
    if request.method == "GET":
        return render_template("totp_prompt.html", action=action, client_name=client.name)
    answer = step_up.give_code(found, person, _code())
    if answer is step_up.CodeAnswer.RIGHT:
        sign_in(person, AMR_PASSWORD_AND_TOTP)
        security_event(SecurityEvent.SIGNED_IN, person.id, method="totp")
        return _resume(found)
    security_event(SecurityEvent.SIGN_IN_FAILED, person.id, method="totp", reason=answer.value)
    if answer is step_up.CodeAnswer.ENDED:
        sign_out()
        return error_page(
            400, _("Too many wrong codes"), _("Go back to the service and sign in again.")
        )
    error = _("That code is not right. Enter the newest code from your app, or a recovery code.")
    page = render_template("totp_prompt.html", action=action, client_name=client.name, error=error)
    return page, 400


def step_up_page(found: Interaction, client: Client, login: LoginSession) -> Reply:
    """The service asks for more than this account can give now: say what, and offer the way
    back to the service (which then hears ``unmet_authentication_requirements``)."""
    if request.method == "POST":
        step_up.give_up(found)
        return _resume(found)
    return render_template(
        "step_up.html",
        action=url_for("authorize.interaction", uid=found.uid),
        client_name=client.name,
        passkey=step_up.needed_level(found, client) is PASSKEY,
        account=url_for("account.account"),
    )
