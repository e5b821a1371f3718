"""ID tokens (OIDC Core 2, 3.1.3.6, 12.2) signed by the key ring, and the audit of their releases.

Each says when and how the person signed in (``auth_time``, ``acr``, ``amr``): the login session's
values, carried by the authorization code and then by every token of its grant, so an ID token
issued on refresh tells the same sign-in, not the refresh (OIDC Core 12.2).
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from flask import g
from sqlalchemy import bindparam, select

from idp.oauth.claims import NON_PERSONAL, build_claims, released_names
from idp.oauth.claims_parameter import Member, parse, verified_requests
from idp.oauth.identity_assurance import add_verified_claims
from idp.oauth.principal import Principal
from idp.services import services
from idp.store.audit import record_release
from idp.store.db import db
from idp.store.models import AuthorizationCode, Client, Token

#: The length of ``authorization_codes.nonce``.
MAX_NONCE_LENGTH = 255


def release_claims(
    client: Client, principal: Principal, scope: str, channel: Member, requested: str | None
) -> dict[str, Any]:
    """Claims for ``principal`` under ``scope``, with the verified claims the stored ``claims``
    request (OIDC Core 5.5) asked for in this channel; recorded in the audit log when personal."""
    svc = services()
    claims = add_verified_claims(
        build_claims(svc, client, principal, scope),
        svc.cipher,
        principal,
        frozenset(scope.split()) & client.scopes,
        verified_requests(requested, channel),
    )
    names = released_names(claims)
    if names:
        record_release(
            principal.person.id,
            principal.enterprise_id,
            client.client_id,
            names,
            channel,
            principal.mandate_id,
        )
        db.session.commit()
    return claims


#: Whether a client's code already holds a nonce; served by ix_authorization_codes_client_nonce.
NONCE_HELD = (
    select(AuthorizationCode.id)
    .where(
        AuthorizationCode.client_id == bindparam("client_id"),
        AuthorizationCode.nonce == bindparam("nonce"),
    )
    .limit(1)
)


class _IDTokens(OpenIDToken):  # type: ignore[misc]
    """Signing, the standard claims and the release audit, for the code and the refresh grant."""

    def get_authorization_code_claims(self, code: AuthorizationCode | Token) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(code)
        # Back-Channel Logout 1.0 section 2.1 (and Front-Channel 3): the login session's id.
        if code.session_id:
            claims["sid"] = code.session_id
        return claims

    def resolve_client_private_key(self, client: Client) -> Any:
        return services().keys.signing_key(self.get_client_algorithm(client))[1]

    def get_client_algorithm(self, client: Client) -> str:
        return client.id_token_signed_response_alg

    def get_encode_header(self, client: Client) -> dict[str, str]:
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": services().keys.signing_key(alg)[0], "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        settings = services().settings
        # OIDC Core 2: azp identifies the party the token was issued to.
        return {
            "iss": settings.issuer,
            "aud": [client.client_id],
            "azp": client.client_id,
            "exp": int(time.time()) + settings.id_token_ttl,
        }

    def generate_user_info(self, user: Principal, scope: str) -> dict[str, Any]:
        # Authlib passes no client here; the grant put it on the request-local ``g``.
        return release_claims(g.oauth_client, user, scope, "id_token", g.oauth_claims_request)

    def process_token(self, grant: Any, response: Any) -> Any:
        g.oauth_client = grant.request.client
        code = getattr(grant.request, "authorization_code", None)
        g.oauth_claims_request = code.claims_request if code is not None else None
        return super().process_token(grant, response)


class OpenIDConnect(_IDTokens, OpenIDCode):  # type: ignore[misc]
    """ID tokens from the authorization code, and the OpenID checks of the request."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def validate_openid_authorization_request(self, grant: Any, redirect_uri: Any) -> None:
        # The nonce is stored with the code (255 characters); PostgreSQL refuses NUL in text.
        nonce = grant.request.payload.data.get("nonce")
        if nonce is not None and (len(nonce) > MAX_NONCE_LENGTH or "\x00" in nonce):
            raise InvalidRequestError(f"nonce: at most {MAX_NONCE_LENGTH} characters, no NUL")
        # OIDC Core 5.5: a bad claims parameter goes back to the client before any sign-in.
        if claims := grant.request.payload.data.get("claims"):
            parse(claims)
        super().validate_openid_authorization_request(grant, redirect_uri)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # OIDC Core 3.1.2.1: a nonce mitigates replay, so one already bound to a code is refused.
        params = {"client_id": request.payload.client_id, "nonce": nonce}
        return db.session.scalar(NONCE_HELD, params) is not None


class RefreshIDToken(_IDTokens):
    """OIDC Core 12.2: a refresh of an ``openid`` grant gets a new ID token about the same sign-in
    (``auth_time``, ``acr``, ``amr`` and ``sid`` from the token row) and without a nonce. It names
    the subject only: the claims were released with the first ID token, and UserInfo serves them
    afresh, so a refresh every few minutes does not release (and record) them again."""

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_compatible_claims(request)
        # Replaces Authlib's default auth_time (now) with the sign-in's.
        claims.update(self.get_authorization_code_claims(request.refresh_token))
        return claims

    def generate_user_info(self, user: Principal, scope: str) -> dict[str, Any]:
        # For an enterprise, openid alone would still say its USCC and name: only the subjects.
        claims = build_claims(services(), g.oauth_client, user, "openid")
        subjects = {k: v for k, v in claims.items() if k in NON_PERSONAL}
        if "act" in claims:
            subjects["act"] = {k: v for k, v in claims["act"].items() if k in NON_PERSONAL}
        return subjects
