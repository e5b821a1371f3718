"""The UserInfo endpoint (OIDC Core 5.3): the bearer token's claims, each release audited."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from flask import request

from idp.oauth.oidc_core import release_claims
from idp.oauth.principal import Principal
from idp.oauth.rfc9449 import ALGORITHMS, DPoPError, verify_proof
from idp.oauth.server import query_client
from idp.oauth.tokens import accepted_token
from idp.store.crypto import token_digest
from idp.store.models import Token


class DigestBearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> Token | None:
        token = accepted_token(token_string, "access_token", whole_subject=True)
        # A refresh token is not an access token (RFC 6749 1.5); a disabled client's tokens
        # are nobody's (query_client sees no disabled client).
        if token is None or token.refresh_digest == token_digest(token_string):
            return None
        if token.audience is not None:  # RFC 8693: an exchanged token is for its audience only
            return None
        return token if query_client(token.client_id) is not None else None

    def validate_token(self, token: Token | None, scopes: Any, request: Any) -> None:
        super().validate_token(token, scopes, request)
        if token is not None and token.dpop_jkt is not None:
            # RFC 9449 7.1: a DPoP-bound token is no bearer token.
            raise DPoPRequired("the token is DPoP-bound: present it with the DPoP scheme")


class DPoPRequired(InvalidTokenError):  # type: ignore[misc]
    """401 with the DPoP challenge (RFC 9449 7.1), so the client learns which scheme to use;
    ``error`` is ``invalid_token`` for a token bound to another key or shown as Bearer,
    ``invalid_dpop_proof`` for a refused proof, and ``use_dpop_nonce`` (RFC 9449 9) for one
    without the server's nonce, which the client retries with the ``DPoP-Nonce`` it gets."""

    def __init__(self, description: str, error: str = InvalidTokenError.error) -> None:
        super().__init__(description)
        self.error = error

    def get_headers(self) -> list[tuple[str, str]]:
        challenge = f'DPoP error="{self.error}", algs="{" ".join(ALGORITHMS)}"'
        kept = [h for h in super().get_headers() if h[0] != "WWW-Authenticate"]
        return [*kept, ("WWW-Authenticate", challenge)]


class DPoPValidator(DigestBearerValidator):
    """``Authorization: DPoP <token>`` with a proof by the key it is bound to (RFC 9449 7)."""

    TOKEN_TYPE = "dpop"

    def authenticate_token(self, token_string: str) -> Token | None:
        token = super().authenticate_token(token_string)
        # The proof is checked here, where the token string is at hand for its ath.
        if token is None or token.dpop_jkt is None:
            return None
        try:
            jkt = verify_proof(
                request.headers.get("DPoP", ""), request.method, request.path, token_string
            )
        except DPoPError as exc:
            raise DPoPRequired(exc.description, exc.error) from None
        if jkt != token.dpop_jkt:  # RFC 9449 7.1: the proof's key must be the token's
            raise DPoPRequired("the token is bound to another key than the proof's")
        return token

    def validate_token(self, token: Token | None, scopes: Any, request: Any) -> None:
        BearerTokenValidator.validate_token(self, token, scopes, request)


def protector() -> ResourceProtector:
    guard = ResourceProtector()
    guard.register_token_validator(DigestBearerValidator())
    guard.register_token_validator(DPoPValidator())
    return guard


def userinfo_claims(token: Token) -> dict[str, Any] | None:
    principal = Principal.of_token(token)
    client = query_client(token.client_id)
    if principal is None or client is None:
        return None
    return release_claims(client, principal, token.scope, "userinfo", token.claims_request)
