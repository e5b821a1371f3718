"""Changing one's password on the account page, after proving the current one: a session found
unattended must not be enough to lock its owner out. The other sessions of the person end."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.auth.events import SecurityEvent, security_event
from idp.auth.password_rules import password_problem, personal_words
from idp.auth.session import current_login, end_sessions, sessions_of
from idp.services import services
from idp.store.db import db
from idp.store.subjects import read_person
from idp.web.register import PASSWORD_PROBLEMS, PASSWORDS_DIFFER

bp = Blueprint("password", __name__)

WRONG_CURRENT = _l("Your current password is not correct.")


@bp.route("/account/password", methods=["GET", "POST"])
def change() -> str | tuple[str, int] | Response:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    if request.method == "GET":
        return _page(None)
    svc = services()
    person = login.person
    new = request.form.get("password", "")
    if not svc.passwords.verify(person.password_hash, request.form.get("current", "")):
        return _page(WRONG_CURRENT), 400
    if new != request.form.get("password_again", ""):
        return _page(PASSWORDS_DIFFER), 400
    problem = password_problem(new, personal_words(read_person(svc.cipher, person).number))
    if problem is not None:
        return _page(PASSWORD_PROBLEMS[problem]), 400
    person.password_hash = svc.passwords.hash(new)
    db.session.commit()
    for other in sessions_of(person.id):
        if other.sid != login.sid:
            end_sessions(person.id, other.sid)
    security_event(SecurityEvent.PASSWORD_CHANGED, person.id)
    return redirect(url_for("account.account"))


def _page(error: object | None) -> str:
    return render_template(
        "password_change.html",
        action=url_for("password.change"),
        cancel=url_for("account.account"),
        error=str(error) if error is not None else None,
    )
