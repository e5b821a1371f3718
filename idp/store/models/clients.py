"""Registered relying parties, with Authlib's client interface implemented on the row itself."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import JSON, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.crypto import token_digest
from idp.store.db import db, utcnow


class Client(db.Model, ClientMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Secrets are 256-bit random strings shown once; a SHA-256 digest is enough and keeps the
    # token endpoint fast (a password hash here would cost 50 ms per client_credentials call).
    secret_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(500))
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    subject_type: Mapped[str] = mapped_column(String(16), default="pairwise")
    sector_identifier: Mapped[str] = mapped_column(String(255))
    purposes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    access_token_format: Mapped[str] = mapped_column(String(8), default="opaque")
    # OIDC Back-Channel Logout 1.0 section 2.2: where logout tokens go, and whether sid is needed.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    backchannel_logout_session_required: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    #: The lowest level of assurance (an ``acr`` of ``idp.oauth.assurance``) the client accepts,
    #: whatever its requests ask; None: whatever they ask.
    minimum_acr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Personal scopes (``idp.oauth.claims.PERSONAL_SCOPES``) asked for at registration through
    #: the admin API or dynamic registration, space-separated, not in ``scope`` until an admin
    #: approves each.
    pending_scopes: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: Set by an operator: the client can neither authenticate nor start a sign-in.
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: RFC 7592 3: the digest of the registration access token a dynamically registered client
    #: manages its own registration with; None for clients an operator registered.
    registration_token_digest: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True
    )
    #: RFC 9126 6: the client may start a sign-in only with a request it pushed to ``/par``.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    #: A security profile the client is held to (``idp.oauth.fapi2``), or "" for none.
    profile: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "id_token_signed_response_alg": self.id_token_signed_response_alg,
        }

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 3.1.2.3: omitting redirect_uri is allowed only with a single registered one.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 9700 2.1: exact string comparison, no prefix or pattern matching.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_digest is None:
            return False
        return hmac.compare_digest(self.secret_digest, token_digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == "client_assertion_jwt":
            method = "private_key_jwt"
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


def sector_of(redirect_uris: list[str], sector_identifier_uri: str | None) -> str:
    """OIDC Core 8.1: the sector is the host of sector_identifier_uri, else of the redirect URI."""
    source = sector_identifier_uri or (redirect_uris[0] if redirect_uris else "")
    return urlsplit(source).hostname or ""


class InitialAccessToken(db.Model):  # type: ignore[name-defined,misc]
    """RFC 7591 3: what opens dynamic registration, issued by an operator, stored as a digest,
    good until ``expires_at`` for ``uses_left`` registrations."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    uses_left: Mapped[int] = mapped_column(Integer)
