"""The UserInfo endpoint (OIDC Core 5.3): the bearer token's claims, each release audited."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator

from idp.oauth.oidc_core import release_claims
from idp.oauth.principal import Principal
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
        return token if query_client(token.client_id) is not None else None


def protector() -> ResourceProtector:
    guard = ResourceProtector()
    guard.register_token_validator(DigestBearerValidator())
    return guard


def userinfo_claims(token: Token) -> dict[str, Any] | None:
    principal = Principal.of_token(token)
    client = query_client(token.client_id)
    if principal is None or client is None:
        return None
    return release_claims(client, principal, token.scope, "userinfo")
