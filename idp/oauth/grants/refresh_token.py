"""The refresh token grant (RFC 6749 6) with rotation on every use.

Each refresh token works once. Presenting one that was already used means two parties hold it,
so the whole grant is revoked (RFC 9700 4.14.2, refresh token rotation and reuse detection). The
new token keeps its grant's end (``idp.oauth.tokens.grant_end``), so rotation never extends it. A
token that acts for an enterprise is refused, and its grant revoked, once the person no longer
represents it or their mandate ended: the right to act came from that role, not from the person.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from sqlalchemy import bindparam, update

from idp.oauth.delegation import still_acts
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.principal import Principal
from idp.oauth.rfc9449 import bound_jkt
from idp.oauth.tokens import revoke_grant, token_by_digest
from idp.store.db import claim, utcnow
from idp.store.models import Token

# Built once (see idp.oauth.tokens); the session need not mirror it: the row is not read again.
_SPEND = (
    update(Token)
    .where(
        Token.id == bindparam("token_id"),
        Token.refresh_used_at.is_(None),
        Token.revoked.is_(False),
    )
    .values(refresh_used_at=bindparam("used_at"), revoked=True)
    .execution_options(synchronize_session=False)
)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = token_by_digest("refresh_digest", refresh_token)
        # A token of another client is refused without being spent, so it cannot be burnt by
        # whoever merely saw it.
        if row is None or row.client_id != self.request.client.client_id:
            return None
        if not row.is_refresh_usable():
            if row.refresh_used_at is not None:  # reuse: two parties hold it
                revoke_grant(row.grant_id)
            return None
        if not still_acts(row):
            revoke_grant(row.grant_id)
            return None
        if not _same_key(row, self.request.client):
            return None
        requested = set((self.request.payload.scope or "").split())
        if not requested <= set(row.scope.split()):
            # RFC 6749 6: refused before the token is spent, so the client keeps its grant.
            raise InvalidScopeError()
        # Spent in the transaction that stores the new token (save_token commits both).
        spend = {"token_id": row.id, "used_at": utcnow()}
        return row if claim(_SPEND, spend, commit=False) else None

    def authenticate_user(self, refresh_token: Token) -> Principal | None:
        principal = Principal.of_token(refresh_token)
        return replace(principal, auth_time=refresh_token.auth_time) if principal else None

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Already spent and revoked when it was claimed in ``authenticate_refresh_token``."""


def _same_key(row: Token, client: Any) -> bool:
    """RFC 9449 5: a public client's refresh token is bound to its DPoP key, so refreshing it
    takes a proof by that key; a confidential client's is bound by its authentication instead."""
    if row.dpop_jkt is None or client.token_endpoint_auth_method != "none":
        return True
    return bound_jkt() == row.dpop_jkt
