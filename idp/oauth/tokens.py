"""Issuing and storing access and refresh tokens.

Access tokens are opaque by default and JWTs per RFC 9068 for clients configured so (resource
servers that validate offline). Either way only a SHA-256 digest is stored, and every token row
carries the ``grant_id`` of the authorization it descends from and the moment that grant ends.

A grant's end is fixed when its code is redeemed (``IDP_GRANT_TTL``) and inherited by every
rotated token; a refresh token expires after ``IDP_REFRESH_TOKEN_TTL`` unused, but never after
its grant (RFC 9700 4.14.2: refresh tokens "SHOULD expire"; rotation must not extend them).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError
from flask import g, has_request_context
from joserfc import jwt
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from idp.oauth.claims import delegation_claims, subject_of
from idp.oauth.principal import Principal
from idp.oauth.rfc9449 import bound_jkt
from idp.services import Services, services
from idp.store.crypto import token_digest
from idp.store.db import autocommit_single_statement, db
from idp.store.models import AuthorizationCode, Client, Enterprise, Person, RevokedGrant, Token

# Statements built once, with bind parameters: composing a statement per request cost more
# Python than running it (docs/performance.md, "Where the time goes").
_INSERT_TOKEN = insert(Token.__table__)
_MARKER = select(RevokedGrant.grant_id).where(RevokedGrant.grant_id == bindparam("grant_id"))
#: Who a token is about, joined into its query: only the public ids for the protocol endpoints
#: (no ciphertext or password hash is read), every column where claims are released (userinfo).
_SUBJECT_IDS = (
    joinedload(Token.person).load_only(Person.public_id),
    # The representative is read on refresh, to check the person still acts for the enterprise.
    joinedload(Token.enterprise).load_only(
        Enterprise.public_id, Enterprise.legal_representative_id
    ),
)
_SUBJECT_WHOLE = (joinedload(Token.person), joinedload(Token.enterprise))
_BY_DIGEST = {
    (column, whole): select(Token)
    .options(*(_SUBJECT_WHOLE if whole else _SUBJECT_IDS))
    .where(getattr(Token, column) == bindparam("digest"))
    .limit(1)
    for column in ("access_digest", "refresh_digest")
    for whole in (False, True)
}


def issuing_time() -> int:
    """This request's one reading of the clock, in seconds: a token's ``iat``, its row's
    ``issued_at`` and an exchange's cap (``rfc8693``) see the same second, so a second ticking
    between them cannot stretch a token past what it was allowed (outside a request: now)."""
    if not has_request_context():
        return int(time.time())
    found: int | None = g.get("issuing_time")
    if found is None:
        found = g.issuing_time = int(time.time())
    return found


@dataclass(frozen=True)
class Exchanged:
    """What a token issued by exchange (RFC 8693, ``idp.oauth.rfc8693``) says beyond the usual:
    the one audience it is for, who acts (``act``, nested per hop), and the ``sub`` its subject
    token named, which stays the subject whichever client asks next."""

    audience: str
    act: dict[str, Any]
    subject: str


class TokenIssuer:
    """Authlib token generator: ``(grant_type, client, user, scope, ...) -> token response``."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc

    def __call__(
        self,
        grant_type: str,
        client: Client,
        user: Principal | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
        exchanged: Exchanged | None = None,
    ) -> dict[str, Any]:
        expires_in = expires_in or self._svc.settings.access_token_ttl
        scope = scope or ""
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self._access_token(client, user, scope, expires_in, exchanged),
            "expires_in": expires_in,
            "scope": scope,
        }
        if include_refresh_token and user is not None:
            token["refresh_token"] = secrets.token_urlsafe(32)
        if bound_jkt() is not None:
            token["token_type"] = "DPoP"  # RFC 9449 5
        return token

    def _access_token(
        self,
        client: Client,
        user: Principal | None,
        scope: str,
        ttl: int,
        exchanged: Exchanged | None = None,
    ) -> str:
        if client.access_token_format != "jwt":
            return secrets.token_urlsafe(32)
        now = issuing_time()
        kid, key = self._svc.keys.signing_key("ES256")
        claims = {
            "iss": self._svc.settings.issuer,
            "exp": now + ttl,
            "aud": client.client_id,
            # RFC 9068 2.2: sub is the resource owner, or the client itself without one.
            "sub": subject_of(self._svc, client, user) if user else client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if user is not None:
            claims.update(delegation_claims(self._svc, client, user))  # RFC 8693 4.1, 4.4
        if (jkt := bound_jkt()) is not None:
            claims["cnf"] = {"jkt": jkt}  # RFC 9449 6.1
        if exchanged is not None:  # RFC 8693 4.1: for its audience only, about the same subject
            claims.update(aud=exchanged.audience, sub=exchanged.subject, act=exchanged.act)
        header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
        return str(jwt.encode(header, claims, key, ["ES256"]))


def grant_end(svc: Services, source: AuthorizationCode | Token | None, expires_in: int) -> int:
    """When the grant of a token being issued ends: ``IDP_GRANT_TTL`` from the code's redemption,
    the same end for every refresh of it, and with its only token for a client's own grant."""
    if isinstance(source, Token):
        return source.grant_expires_at
    now = issuing_time()
    return now + (svc.settings.grant_ttl if source is not None else expires_in)


def save_token(
    svc: Services,
    token: dict[str, Any],
    client: Client,
    principal: Principal | None,
    grant_id: str,
    source: AuthorizationCode | Token | None,
    grant_expires_at: int,
    new_grant: bool = False,
    exchanged: Exchanged | None = None,
) -> None:
    """Store a token; ``source`` is the code or refresh token it came from (or the subject token
    it was exchanged for), whose sign-in (when, acr, amr) it keeps; ``new_grant`` when its grant
    id was made for it (client credentials), so no revocation of that grant can exist yet and
    the check after the commit is skipped.

    A Core INSERT rather than the ORM's unit of work: nothing reads the row back in this request,
    and the unit of work was a third of a client-credentials grant (docs/performance.md).
    """
    now = issuing_time()
    refresh = token.get("refresh_token")
    values = {
        "grant_id": grant_id,
        "client_id": client.client_id,
        "person_id": principal.person.id if principal else None,
        "enterprise_id": principal.enterprise_id if principal else None,
        "mandate_id": principal.mandate_id if principal else None,
        "scope": token.get("scope", ""),
        "access_digest": token_digest(token["access_token"]),
        "refresh_digest": token_digest(refresh) if refresh else None,
        "auth_time": source.auth_time if source else None,
        "acr": source.acr if source else None,
        "amr": source.amr if source else None,
        "session_id": source.session_id if source else None,
        "issued_at": now,
        "expires_in": int(token["expires_in"]),
        "refresh_expires_at": (
            min(now + svc.settings.refresh_token_ttl, grant_expires_at) if refresh else None
        ),
        "grant_expires_at": grant_expires_at,
        "revoked": False,
        "dpop_jkt": bound_jkt(),  # RFC 9449 6: the refresh token shares the row, so the binding
        "audience": exchanged.audience if exchanged else None,
        "act": exchanged.act if exchanged else None,
        "subject": exchanged.subject if exchanged else None,
        # OIDC Core 5.5: the grant's claims request, not passed on to a token made by exchange.
        "claims_request": source.claims_request
        if source is not None and exchanged is None
        else None,
    }
    if new_grant:
        autocommit_single_statement()  # the INSERT is all this request writes
    db.session.execute(_INSERT_TOKEN, values)
    db.session.commit()
    if new_grant:
        return
    # Checked after the insert is committed: a concurrent revoke_grant either committed its
    # marker before this read, or its UPDATE runs after the insert and catches the row.
    if _marked_revoked(grant_id):
        revoke_grant(grant_id)
        raise InvalidGrantError("the authorization was revoked")


def _marked_revoked(grant_id: str) -> bool:
    """One read on a connection of its own, autocommitted: without BEGIN and ROLLBACK it is one
    round trip instead of three, and the session stays an ordinary transaction for what the
    request writes next (the ID token's release records)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(_MARKER, {"grant_id": grant_id}).first() is not None


def revoke_grant(grant_id: str) -> int:
    """Revoke every token of one grant, including any still being issued; returns how many
    were live. The marker goes first so a token saved concurrently sees it (see save_token)."""
    if db.session.get(RevokedGrant, grant_id) is None:
        db.session.add(RevokedGrant(grant_id=grant_id))
        try:
            db.session.commit()
        except IntegrityError:  # revoked by a concurrent request: the marker is there either way
            db.session.rollback()
    count = Token.query.filter_by(grant_id=grant_id, revoked=False).update({"revoked": True})
    db.session.commit()
    return int(count)


def revoke_person(person_id: int) -> int:
    """Revoke every live token about one person (an operator disabled them); returns how many."""
    count = _revoke_live(person_id=person_id)
    db.session.commit()
    return count


def revoke_client_tokens(client_id: str) -> int:
    """Revoke every live token a client holds (an operator disabled it), in the caller's
    transaction; returns how many. Enabling the client again brings none of them back."""
    return _revoke_live(client_id=client_id)


def _revoke_live(**whose: object) -> int:
    return int(Token.query.filter_by(**whose, revoked=False).update({"revoked": True}))


def find_token(value: str, hint: str | None = None, whole_subject: bool = False) -> Token | None:
    """Look a token up by its digest, as access token or refresh token (RFC 7009 2.1 hints),
    with its person and enterprise in the same query."""
    order = (
        ("refresh_digest", "access_digest")
        if hint == "refresh_token"
        else ("access_digest", "refresh_digest")
    )
    for column in order:
        found = token_by_digest(column, value, whole_subject)
        if found is not None:
            return found
    return None


def accepted_token(
    value: str, hint: str | None = None, whole_subject: bool = False
) -> Token | None:
    """``find_token``, refusing a JWT access token whose signing key was withdrawn: where a
    token is accepted (introspection, userinfo), not where it is revoked (RFC 7009 still
    revokes its grant)."""
    if services().keys.signed_by_withdrawn(_jose_kid(value)):
        return None
    return find_token(value, hint, whole_subject)


def _jose_kid(value: str) -> object:
    """The ``kid`` of a compact JWS's protected header (RFC 7515 7.1), or None: opaque tokens
    have no dots. Unverified, which is enough: the token was found by its digest as issued."""
    if value.count(".") != 2:
        return None
    segment = value.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    return header.get("kid") if isinstance(header, dict) else None


def token_by_digest(column: str, value: str, whole_subject: bool = False) -> Token | None:
    """The token whose ``access_digest`` or ``refresh_digest`` is ``value``'s, with its subject."""
    params = {"digest": token_digest(value)}
    statement = _BY_DIGEST[column, whole_subject]
    found: Token | None = db.session.execute(statement, params).scalars().first()
    return found
