"""The client credentials grant (RFC 6749 4.4): a service acting for itself, never for a person,
so personal-data scopes are never granted on it."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from idp.oauth.claims import PERSONAL_SCOPES


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    # RFC 6749 4.4: only confidential clients may use this grant.
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        payload = self.request.payload
        requested = (payload.scope or "").split()
        allowed = self.request.client.get_allowed_scope(
            " ".join(s for s in requested if s not in PERSONAL_SCOPES and s != "openid")
        )
        # The request's own parameters are immutable; the token is issued from this copy.
        self.request.payload = BasicOAuth2Payload({**dict(payload.data.items()), "scope": allowed})
