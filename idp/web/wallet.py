"""The wallet page (电子证照夹): the signed-in citizen's certificates, a purpose picker and a QR
code that the page re-signs every 30 seconds with a key that never leaves the phone.

The page is a first-party OAuth client (``idp.oauth.first_party``): it gets its access token by
the authorization code flow with PKCE, redeemed in-process through the real token endpoint, and
its script calls the same credential API as any other app.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    make_response,
    redirect,
    render_template,
    session,
)
from flask_babel import gettext as _
from yihao.qr import svg
from yihao.wire import base45
from yihao.wire.fields import CredentialType
from yihao.wire.qrtext import MAX_TEXT, PREFIX

from idp.auth.session import LoginSession, current_login
from idp.credentials.certificates import Held, held_by, holders_of
from idp.credentials.profiles import Profile
from idp.oauth.first_party import WALLET
from idp.oauth.principal import Principal
from idp.services import services
from idp.web import first_party_signin
from idp.web.errors import error_page
from idp.web.json_body import json_object
from idp.web.labels import field_label, field_value, localised
from idp.web.my_certificates import certificate_rows

bp = Blueprint("wallet", __name__)
_QR_ALPHABET = frozenset(base45.ALPHABET)  # base45 uses exactly the QR alphanumeric set
_REFRESH_MARGIN = 60


@dataclass(frozen=True)
class _Reveal:
    label: str
    value: str


@dataclass(frozen=True)
class _Purpose:
    name: str
    label: str
    reveals: list[_Reveal]


@dataclass(frozen=True)
class _Card:
    identifier: str
    title: str
    holder: str
    purposes: list[_Purpose]


def _token(login: LoginSession) -> str | None:
    grant = session.get("wallet")
    if not isinstance(grant, dict) or grant.get("person") != login.person.id:
        return None
    if float(grant.get("exp", 0)) < time.time() + _REFRESH_MARGIN:
        return None
    return str(grant["token"])


def _purpose(profile: Profile, held: Held) -> _Purpose:
    reveals = [
        _Reveal(field_label(f), field_value(f, held.data.get(f)))
        for f in profile.fields
        if f != "over_18"
    ]
    if "over_18" in profile.fields:
        reveals.append(_Reveal(field_label("over_18"), _("Only whether you are 18 or over")))
    return _Purpose(profile.name, localised(profile.label_zh, profile.label_en), reveals)


def _card(held: Held) -> _Card:
    catalogue = services().catalogue
    type_ = catalogue.types[CredentialType(held.certificate.credential_type)]
    return _Card(
        identifier=held.certificate.identifier,
        title=localised(type_.label_zh, type_.label_en),
        holder=held.certificate.holder_masked,
        purposes=[_purpose(p, held) for p in catalogue.profiles_for(type_.type)],
    )


@bp.route("/wallet")
def wallet() -> str | Response:
    login = current_login()
    token = _token(login) if login else None
    if login is None or token is None:
        return first_party_signin.start(WALLET)
    svc = services()
    held = [h for holder in holders_of(svc, Principal(login.person)) for h in held_by(svc, holder)]
    return render_template(
        "wallet.html",
        cards=[_card(h) for h in held if h.certificate.revoked_at is None],
        token=token,
        issuer=svc.settings.issuer,  # the audience of the key proof
        client_id=WALLET.client_id,
        certificates=certificate_rows(login, "wallet"),
    )


@bp.route("/wallet/callback")
def callback() -> Response:
    return first_party_signin.forget(WALLET, make_response(_complete()))


def _complete() -> str | Response | tuple[str, int]:
    body = first_party_signin.finish(WALLET)
    login = current_login()
    if body is None or login is None:
        return error_page(400, _("The sign-in has expired"), _("Please open the wallet again."))
    session["wallet"] = {
        "token": body["access_token"],
        "exp": time.time() + int(body["expires_in"]),
        "person": login.person.id,
    }
    return redirect("/wallet")  # type: ignore[return-value]


@bp.route("/wallet/qr", methods=["POST"])
def qr_image() -> Response | tuple[str, int]:
    """The QR code as SVG, drawn with the ``qrcode`` package; the text was made on the phone."""
    if current_login() is None:
        return error_page(401, _("Not signed in"), _("Please open the wallet again."))
    text = str(json_object().get("text", ""))
    if not text.startswith(PREFIX) or len(text) > MAX_TEXT or not set(text) <= _QR_ALPHABET:
        return error_page(400, _("Not a certificate code"), _("Please reload the wallet."))
    response = Response(svg(text), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response
