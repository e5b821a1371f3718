"""Token introspection (RFC 7662). A client may introspect only tokens issued to it (2.1: the
server decides who may ask), so one relying service cannot probe another's tokens."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp.oauth.claims import delegation_claims, subject_of
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.principal import Principal
from idp.oauth.tokens import accepted_token
from idp.services import services
from idp.store.db import autocommit_single_statement
from idp.store.models import Client, Token


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        autocommit_single_statement()  # introspection only reads: no BEGIN, no ROLLBACK
        return accepted_token(token_string, token_type_hint)

    def check_permission(self, token: Token, client: Client, request: Any) -> bool:
        # An exchanged token (RFC 8693) is also answered to the service it is for, its audience.
        return client.client_id in (token.client_id, token.audience)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        client = self.server.query_client(token.client_id)
        payload: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "token_type": "DPoP" if token.dpop_jkt else "Bearer",
            "scope": token.scope,
            "exp": token.get_expires_at(),
            "iat": token.issued_at,
            "iss": services().settings.issuer,
        }
        if token.dpop_jkt:
            payload["cnf"] = {"jkt": token.dpop_jkt}  # RFC 9449 6.2
        if token.audience is not None:  # RFC 8693 2.2.1 and 4.1: an exchanged token
            payload.update(aud=token.audience, act=token.act)
        principal = Principal.of_token(token)
        # RFC 9068 2.2 as for JWT access tokens: the client itself when no one else is the subject.
        payload["sub"] = token.subject or (
            subject_of(services(), client, principal) if principal else token.client_id
        )
        if principal is not None and token.audience is None:
            payload.update(delegation_claims(services(), client, principal))  # RFC 8693 4.1
        return payload
