"""The citizen's own certificates, as the account and wallet pages list them, and revoking one.

A lost or stolen phone keeps a credential bound to a key the citizen no longer controls; the
holder revokes the certificate itself (its status-list bit flips, so every code made from it fails
at counters once they refresh), and the next wallet visit makes a fresh certificate for the new
phone. Revoking takes two steps, a confirmation page and then the revocation, both CSRF forms;
the identifier travels in the form body, never in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from yihao.wire.fields import CredentialType

from idp.auth.session import LoginSession, current_login
from idp.credentials.certificates import Held, find_by_identifier, held_by, holders_of, holds
from idp.credentials.status import (
    BY_CLIENT,
    BY_HOLDER,
    BY_OPERATOR,
    BY_SYSTEM,
    HOLDER_REASONS,
    Revoker,
    forget_cached,
    revoke,
)
from idp.oauth.principal import Principal
from idp.services import services
from idp.store.db import db
from idp.store.models import Certificate
from idp.web.errors import error_page
from idp.web.labels import localised

bp = Blueprint("my_certificates", __name__)
#: Where the pages send the citizen back to after revoking; nothing else is accepted.
_BACK = {"account": "account.account", "wallet": "wallet.wallet"}
#: How many past revocations the pages show.
_HISTORY = 10
_REASON_LABELS = {
    "key_compromise": _l("My phone was lost or stolen"),
    "unspecified": _l("I no longer want it"),
}
_REVOKER_LABELS = {
    BY_HOLDER: _l("You"),
    BY_OPERATOR: _l("The issuing authority"),
    BY_CLIENT: _l("The issuing authority"),
    BY_SYSTEM: _l("Replaced after a change in the registry"),
}


@dataclass(frozen=True)
class CertificateRow:
    identifier: str
    title: str
    holder: str
    valid_until: str | None
    revoked_at: datetime | None
    revoked_by: str | None


def _title(certificate: Certificate) -> str:
    type_ = services().catalogue.types[CredentialType(certificate.credential_type)]
    return localised(type_.label_zh, type_.label_en)


def _row(certificate: Certificate) -> CertificateRow:
    return CertificateRow(
        identifier=certificate.identifier,
        title=_title(certificate),
        holder=certificate.holder_masked,
        valid_until=certificate.valid_until.date().isoformat() if certificate.valid_until else None,
        revoked_at=certificate.revoked_at,
        revoked_by=str(_REVOKER_LABELS.get(certificate.revoked_by or "", ""))
        if certificate.revoked_at
        else None,
    )


@dataclass(frozen=True)
class MyCertificates:
    live: list[CertificateRow]
    revoked: list[CertificateRow]
    revoke_action: str
    back: str  # which page the revoke form returns to (a key of _BACK)
    just_revoked: bool


def certificate_rows(login: LoginSession, back: str) -> MyCertificates:
    """What ``_my_certificates.html`` shows: live certificates and recent revocations."""
    svc = services()
    holders = holders_of(svc, Principal(login.person))
    held: list[Held] = [h for holder in holders for h in held_by(svc, holder)]
    past = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.holder_index.in_([h.index for h in holders]),
            Certificate.revoked_at.is_not(None),
        )
        .order_by(Certificate.revoked_at.desc())
        .limit(_HISTORY)
    )
    return MyCertificates(
        live=[_row(h.certificate) for h in held if h.certificate.revoked_at is None],
        revoked=[_row(c) for c in past],
        revoke_action=url_for("my_certificates.revoke_mine"),
        back=back,
        just_revoked=request.args.get("revoked") == "1",
    )


@bp.route("/account/certificates/revoke", methods=["POST"])
def revoke_mine() -> Response | str | tuple[str, int]:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    back = request.form.get("back", "account")
    back = back if back in _BACK else "account"
    certificate = find_by_identifier(request.form.get("identifier", "")[:200])
    # A certificate of someone else is answered exactly like one that does not exist.
    if certificate is None or not holds(services(), Principal(login.person), certificate):
        return error_page(404, _("No such certificate"), _("It is not one of your certificates."))
    if certificate.revoked_at is not None:
        return redirect(url_for(_BACK[back]))
    reason = request.form.get("reason")
    if request.form.get("confirm") != "yes" or reason not in HOLDER_REASONS:
        return render_template(
            "certificate_revoke.html",
            certificate=_row(certificate),
            reasons=[(r, _REASON_LABELS[r]) for r in HOLDER_REASONS],
            back=back,
            action=url_for("my_certificates.revoke_mine"),
            cancel=url_for(_BACK[back]),
        )
    revoke(certificate, reason, Revoker(BY_HOLDER, login.person.public_id))
    forget_cached()
    return redirect(url_for(_BACK[back], revoked=1))
