"""Token revocation (RFC 7009). Revoking a refresh token ends the whole grant (2.1: the server
SHOULD also invalidate the access tokens based on the same authorization)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint

from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.tokens import find_token, revoke_grant
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import Token


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: Token, request: Any) -> None:
        presented = token_digest(request.form.get("token", ""))
        if presented == token.refresh_digest:
            revoke_grant(token.grant_id)
            return
        token.revoked = True
        db.session.commit()
