"""The authorization code grant (RFC 6749 4.1).

Codes are claimed with one conditional UPDATE, so of two racing redemptions exactly one wins, on
SQLite and PostgreSQL alike. A second redemption of a used code revokes every token the first one
produced (RFC 6749 4.1.2: "SHOULD revoke ... all tokens previously issued based on that code").
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.oauth2.rfc6749 import grants
from sqlalchemy import update

from idp.oauth.assurance import acr_of
from idp.oauth.claims_parameter import claims_request_of
from idp.oauth.fapi2 import code_ttl
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.principal import Principal
from idp.oauth.tokens import revoke_grant
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import claim, db, utcnow
from idp.store.models import AuthorizationCode, Client


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 43

    def save_authorization_code(self, code: str, request: Any) -> None:
        principal: Principal = request.user
        client: Client = request.client
        data = request.payload.data
        db.session.add(
            AuthorizationCode(
                code_digest=token_digest(code),
                grant_id=secrets.token_hex(16),
                client_id=client.client_id,
                person_id=principal.person.id,
                enterprise_id=principal.enterprise_id,
                mandate_id=principal.mandate_id,
                redirect_uri=request.payload.redirect_uri or client.get_default_redirect_uri(),
                scope=(scope := client.get_allowed_scope(request.payload.scope)),
                nonce=data.get("nonce"),
                auth_time=principal.auth_time or int(time.time()),
                acr=acr_of(principal.amr),
                amr=" ".join(principal.amr) or None,
                session_id=principal.session_id,
                claims_request=claims_request_of(data, scope),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=int(time.time()) + code_ttl(client, services().settings.code_ttl),
            )
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        digest = token_digest(code)
        won = claim(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.code_digest == digest,
                AuthorizationCode.client_id == client.client_id,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        row = db.session.query(AuthorizationCode).filter_by(code_digest=digest).one_or_none()
        if row is None or row.client_id != client.client_id:
            return None
        if not won:
            revoke_grant(row.grant_id)
            return None
        return None if row.is_expired() else row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Kept, marked used, so that a replay is recognised and its tokens revoked."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Principal | None:
        return Principal.load(
            authorization_code.person_id,
            authorization_code.enterprise_id,
            authorization_code.auth_time,
            authorization_code.mandate_id,
        )
