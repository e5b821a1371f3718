"""The wallet page (电子证照夹): the signed-in citizen's certificates, a purpose picker and a QR
code that the page re-signs every 30 seconds with a key that never leaves the phone.

The page is a first-party OAuth client (``idp.oauth.first_party``): it gets its access token by
the authorization code flow with PKCE, redeemed in-process through the real token endpoint, and
its script calls the same credential API as any other app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from yihao.qr import svg
from yihao.wire import base45
from yihao.wire.fields import CredentialType
from yihao.wire.qrtext import MAX_TEXT, PREFIX

from idp.auth.session import LoginSession, current_login
from idp.credentials.certificates import Held, held_by, holders_of
from idp.credentials.profiles import Profile
from idp.oauth.first_party import WALLET_CLIENT_ID, WALLET_SCOPE, ensure_wallet_client
from idp.oauth.first_party import wallet_redirect_uri as _redirect_uri
from idp.oauth.principal import Principal
from idp.oauth.server import YihaoServer
from idp.services import services
from idp.web.errors import error_page
from idp.web.json_body import json_object
from idp.web.labels import field_label, field_value, localised
from idp.web.my_certificates import certificate_rows

bp = Blueprint("wallet", __name__)
_QR_ALPHABET = frozenset(base45.ALPHABET)  # base45 uses exactly the QR alphanumeric set
_REFRESH_MARGIN = 60
#: The state and PKCE verifier of a wallet sign-in in progress. They live in a cookie of their
#: own, not in the session: signing in starts a fresh session (``idp.auth.session.sign_in``),
#: which would drop them on the way back.
_PENDING_COOKIE = "yihao_wallet_pending"
_PENDING_PATH = "/wallet/callback"
_PENDING_MAX_AGE = 600


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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _start_authorization() -> Response:
    """Sign in (or just fetch a token, when already signed in) through /authorize."""
    settings = services().settings
    ensure_wallet_client(settings)
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = {
        "client_id": WALLET_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": _redirect_uri(settings),
        "scope": WALLET_SCOPE,
        "state": state,
        # RFC 7636 4.2: S256, like every other client.
        "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    target = f"{settings.issuer}/authorize?{urlencode(query)}"
    response: Response = redirect(target)  # type: ignore[assignment]
    response.set_cookie(
        _PENDING_COOKIE,
        _pending_signer().dumps({"state": state, "verifier": verifier}),
        max_age=_PENDING_MAX_AGE,
        path=_PENDING_PATH,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    return response


def _pending_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="yihao-wallet-pending")


def _pending() -> dict[str, Any] | None:
    try:
        pending = _pending_signer().loads(
            request.cookies.get(_PENDING_COOKIE, ""), max_age=_PENDING_MAX_AGE
        )
    except BadData:  # a missing, altered or expired cookie
        return None
    return pending if isinstance(pending, dict) else None


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
        return _start_authorization()
    svc = services()
    held = [h for holder in holders_of(svc, Principal(login.person)) for h in held_by(svc, holder)]
    return render_template(
        "wallet.html",
        cards=[_card(h) for h in held if h.certificate.revoked_at is None],
        token=token,
        issuer=svc.settings.issuer,  # the audience of the key proof
        client_id=WALLET_CLIENT_ID,
        certificates=certificate_rows(login, "wallet"),
    )


def _exchange(code: str, verifier: str) -> dict[str, Any] | None:
    """Redeem the code through the token endpoint itself, in-process (no HTTP to ourselves)."""
    settings = services().settings
    server: YihaoServer = current_app.extensions["yihao_server"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(settings),
        "client_id": WALLET_CLIENT_ID,
        "code_verifier": verifier,
    }
    with current_app.test_request_context("/token", method="POST", data=form):
        response = server.create_token_response()
    if response.status_code != 200:
        return None
    body: dict[str, Any] = json.loads(response.get_data())
    return body


@bp.route("/wallet/callback")
def callback() -> Response:
    response = make_response(_complete())
    response.delete_cookie(
        _PENDING_COOKIE,
        path=_PENDING_PATH,
        secure=services().settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    return response


def _complete() -> str | Response | tuple[str, int]:
    pending = _pending()
    state, code = request.args.get("state", ""), request.args.get("code")
    if not isinstance(pending, dict) or not hmac.compare_digest(str(pending["state"]), state):
        return error_page(400, _("The sign-in has expired"), _("Please open the wallet again."))
    login = current_login()
    # RFC 9207 2.4: the response must come from this issuer.
    if request.args.get("iss") != services().settings.issuer or code is None or login is None:
        return error_page(403, _("Not signed in"), _("The wallet needs you to sign in and agree."))
    body = _exchange(code, str(pending["verifier"]))
    if body is None:
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
