"""The refresh token grant (RFC 6749 6) with rotation on every use.

Each refresh token works once. Presenting one that was already used means two parties hold it,
so the whole grant is revoked (RFC 9700 4.14.2, refresh token rotation and reuse detection).
"""

from __future__ import annotations

from dataclasses import replace

from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.principal import Principal
from idp.oauth.tokens import revoke_grant
from idp.store.crypto import token_digest
from idp.store.db import claim, utcnow
from idp.store.models import Token


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = (
            Token.query.options(joinedload(Token.person), joinedload(Token.enterprise))
            .filter_by(refresh_digest=token_digest(refresh_token))
            .one_or_none()
        )
        # A token of another client is refused without being spent, so it cannot be burnt by
        # whoever merely saw it.
        if row is None or row.client_id != self.request.client.client_id:
            return None
        if not row.is_refresh_usable():
            if row.refresh_used_at is not None:  # reuse: two parties hold it
                revoke_grant(row.grant_id)
            return None
        requested = set((self.request.payload.scope or "").split())
        if not requested <= set(row.scope.split()):
            # RFC 6749 6: refused before the token is spent, so the client keeps its grant.
            raise InvalidScopeError()
        won = claim(
            update(Token)
            .where(Token.id == row.id, Token.refresh_used_at.is_(None), Token.revoked.is_(False))
            .values(refresh_used_at=utcnow(), revoked=True),
            commit=False,  # spent in the transaction that stores the new token (save_token)
        )
        return row if won else None

    def authenticate_user(self, refresh_token: Token) -> Principal | None:
        principal = Principal.of_token(refresh_token)
        return replace(principal, auth_time=refresh_token.auth_time) if principal else None

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Already spent and revoked when it was claimed in ``authenticate_refresh_token``."""
