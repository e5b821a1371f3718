"""``/dev/sms-outbox``: the text messages the development outbox holds instead of sending them.
Only while there is no SMS gateway (never in production, which refuses to start without one);
otherwise 404, like any unknown page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from idp.notify.sms import outbox
from idp.services import services

bp = Blueprint("sms_outbox", __name__)


@bp.route("/dev/sms-outbox")
def show() -> str:
    svc = services()
    if svc.settings.production or svc.settings.sms_gateway_url:
        abort(404)
    return render_template("sms_outbox.html", messages=outbox(svc.cipher))
