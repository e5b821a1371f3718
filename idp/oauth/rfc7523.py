"""``private_key_jwt`` client authentication (RFC 7523 2.2, OIDC Core 9), on Authlib's assertion
checker, with the audience and the one-time ``jti`` store supplied here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.jwk import KeySet, KeySetSerialization

from idp.store.db import utcnow
from idp.store.models import Client
from idp.store.replay import spend_once

METHOD = "private_key_jwt"


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    CLIENT_AUTH_METHOD = METHOD

    def __init__(self, issuer: str, token_endpoint: str) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self._audiences = [issuer, token_endpoint]

    def get_audiences(self) -> list[str]:
        return self._audiences

    def resolve_client_public_key(self, client: Client) -> KeySet:
        # A client registered for another method has no keys: an assertion naming it is refused
        # as invalid_client, not left to fail on an empty key set.
        keys = registered_keys(client)
        if client.token_endpoint_auth_method != METHOD or keys is None:
            raise InvalidClientError(description="the client does not use private_key_jwt")
        return keys

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """One use per ``jti`` (RFC 7523 3, item 7), remembered until the assertion expires."""
        expires = utcnow() + timedelta(
            seconds=max(int(claims.get("exp", 0)) - int(claims.get("iat", 0)), 300)
        )
        return spend_once("jti", f"{claims['sub']}\x00{jti}", expires)


def registered_keys(client: Client) -> KeySet | None:
    """The public keys the client registered (``jwks``), which verify what it signs: its
    assertions here and its request objects (``idp.oauth.rfc9101``); None when it has none."""
    if not (client.jwks or {}).get("keys"):
        return None
    return KeySet.import_key_set(cast(KeySetSerialization, client.jwks))
