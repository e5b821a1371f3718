"""Authorization codes and tokens. A ``grant_id`` ties a code to every token issued from it, so a
replayed code or refresh token can revoke the whole family (RFC 6749 4.1.2, RFC 9700 4.14.2)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.store.db import db, utcnow
from idp.store.models.mandates import Mandate
from idp.store.models.subjects import Enterprise, Person


class AuthorizationCode(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "authorization_codes"
    # Every authorization request with a nonce looks it up (OIDC Core 3.1.2.1 replay check).
    __table_args__ = (Index("ix_authorization_codes_client_nonce", "client_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), nullable=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(255), nullable=True)
    auth_time: Mapped[int] = mapped_column(Integer)
    #: How the person signed in (OIDC Core 2 ``acr``; RFC 8176 ``amr``, space-separated), for the
    #: ID tokens of this code and of every refresh in its grant.
    acr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Ending a login session finds the codes issued in it (Back-Channel Logout 1.0 2.1).
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    #: The mandate an agent acted under (``idp.oauth.delegation``); None for everyone else.
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("mandates.id"), nullable=True)
    #: The checked ``claims`` request (OIDC Core 5.5) as JSON, for the ID token and every token
    #: of the grant (UserInfo answers what was asked); None when there was none.
    claims_request: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return (self.amr or "").split()

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


class RevokedGrant(db.Model):  # type: ignore[name-defined,misc]
    """A grant revoked as a whole; tokens saved into it afterwards are born dead."""

    __tablename__ = "revoked_grants"

    grant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Token(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), nullable=True)
    scope: Mapped[str] = mapped_column(String(500))
    access_digest: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    auth_time: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Copied from the code, so an ID token issued on refresh keeps the sign-in's (OIDC Core 12.2),
    #: its login session's sid included (a relying service's id_token_hint and logout tokens).
    acr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issued_at: Mapped[int] = mapped_column(Integer)
    expires_in: Mapped[int] = mapped_column(Integer)
    refresh_expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: When the grant ends (IDP_GRANT_TTL after the code was redeemed), copied to each token it
    #: issues, so that rotation can never push a refresh token past it.
    grant_expires_at: Mapped[int] = mapped_column(Integer)
    revoked: Mapped[bool] = mapped_column(default=False)
    # RFC 9449 6: the thumbprint of the DPoP key the token is bound to; None for bearer tokens.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Copied from the code: the ``claims`` request UserInfo answers (OIDC Core 5.5).
    claims_request: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # RFC 8693 (idp.oauth.rfc8693): what an exchanged token is restricted to and who acts. The
    # ``subject`` is the ``sub`` its subject token named, kept through every hop; None elsewhere.
    audience: Mapped[str | None] = mapped_column(String(255), nullable=True)
    act: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The mandate an agent acted under: withdrawing it revokes exactly these tokens.
    mandate_id: Mapped[int | None] = mapped_column(
        ForeignKey("mandates.id"), nullable=True, index=True
    )
    # Loaded with the token where its subject is needed (introspection, userinfo): one query.
    person: Mapped[Person | None] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    mandate: Mapped[Mandate | None] = relationship()

    def get_nonce(self) -> None:
        """OIDC Core 12.2: an ID token issued on refresh carries no nonce."""

    def get_auth_time(self) -> int | None:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return (self.amr or "").split()

    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def get_expires_at(self) -> int:
        return self.issued_at + self.expires_in

    def is_expired(self) -> bool:
        return self.get_expires_at() < time.time()

    def is_revoked(self) -> bool:
        return self.revoked

    def is_refresh_usable(self) -> bool:
        return (
            not self.revoked
            and self.refresh_used_at is None
            and (self.refresh_expires_at or 0) >= time.time()
        )
