"""Signing in through /authorize as one of the provider's own clients (``idp.oauth.first_party``).

The state and PKCE verifier of a sign-in in progress live in a cookie of their own (per client,
on its callback path), not in the session: signing in starts a fresh session
(``idp.auth.session.sign_in``), which would drop them on the way back. The code is redeemed
through the token endpoint itself, in-process, so the first-party clients meet every rule of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, redirect, request
from itsdangerous import BadData, URLSafeTimedSerializer

from idp.oauth.first_party import FirstParty, ensure_client
from idp.oauth.server import YihaoServer
from idp.services import services

_MAX_AGE = 600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _cookie(party: FirstParty) -> str:
    return f"{party.client_id.replace('-', '_')}_pending"


def _signer(party: FirstParty) -> URLSafeTimedSerializer:
    # Signs with IDP_SECRET_KEY, still verifies under IDP_SECRET_KEY_FALLBACKS.
    return URLSafeTimedSerializer(
        services().settings.signing_keys, salt=f"{party.client_id}-pending"
    )


def start(party: FirstParty, **extra: str) -> Response:
    """Redirect to /authorize (``extra``: e.g. OIDC Core 3.1.2.1 ``max_age``, ``acr_values``)."""
    settings = services().settings
    ensure_client(settings, party)
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = {
        "client_id": party.client_id,
        "response_type": "code",
        "redirect_uri": party.redirect_uri(settings),
        "scope": party.scope,
        "state": state,
        # RFC 7636 4.2: S256, like every other client.
        "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
        **extra,
    }
    response: Response = redirect(f"{settings.issuer}/authorize?{urlencode(query)}")  # type: ignore[assignment]
    response.set_cookie(
        _cookie(party),
        _signer(party).dumps({"state": state, "verifier": verifier}),
        max_age=_MAX_AGE,
        path=party.callback,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    return response


def finish(party: FirstParty) -> dict[str, Any] | None:
    """The token response for the code on this callback, or None when the state does not match
    the cookie's, the response is not from this issuer, or the code is refused."""
    pending = _pending(party)
    state, code = request.args.get("state", ""), request.args.get("code")
    if pending is None or not hmac.compare_digest(str(pending.get("state")), state):
        return None
    # RFC 9207 2.4: the response must come from this issuer.
    if request.args.get("iss") != services().settings.issuer or code is None:
        return None
    return _exchange(party, code, str(pending.get("verifier")))


def forget(party: FirstParty, response: Response) -> Response:
    """Drop the pending-sign-in cookie (on every callback answer, good or bad)."""
    response.delete_cookie(
        _cookie(party),
        path=party.callback,
        secure=services().settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    return response


def _pending(party: FirstParty) -> dict[str, Any] | None:
    try:
        pending = _signer(party).loads(request.cookies.get(_cookie(party), ""), max_age=_MAX_AGE)
    except BadData:  # a missing, altered or expired cookie
        return None
    return pending if isinstance(pending, dict) else None


def _exchange(party: FirstParty, code: str, verifier: str) -> dict[str, Any] | None:
    server: YihaoServer = current_app.extensions["yihao_server"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": party.redirect_uri(services().settings),
        "client_id": party.client_id,
        "code_verifier": verifier,
    }
    with current_app.test_request_context("/token", method="POST", data=form):
        response = server.create_token_response()
    if response.status_code != 200:
        return None
    body: dict[str, Any] = json.loads(response.get_data())
    return body
