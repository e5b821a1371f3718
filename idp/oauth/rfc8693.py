"""Token exchange (RFC 8693): a service calls another on behalf of the person or enterprise whose
access token it holds, with a token for that other service only.

Authlib has no server-side RFC 8693 grant, so this one is written by hand on Authlib's grant
interface (``BaseGrant`` + ``TokenEndpointMixin``) and registered in ``build_server`` like the
others. The rules, each where RFC 8693 leaves them to the server:

- Only confidential clients exchange, authenticated as at the token endpoint (RFC 8693 2.1).
- Only along an operator's exchange policy (``ExchangePolicy``: this client, this audience, at
  most these scopes). A client with no policy is ``unauthorized_client``; an audience outside its
  policies ``invalid_target``; scopes beyond the policy or the subject token ``invalid_scope``.
- The subject token is a live access token issued here, held by the requesting client or issued
  for it as audience (the next hop), about a person or an enterprise. Anything else is
  ``invalid_request`` (RFC 8693 2.2.2 names that code for an unacceptable subject token).
- A DPoP-bound subject token is exchanged only with a DPoP proof by its key (RFC 9449: holding
  a bound token is not enough to use it); the new token is bound to the proof's key then.
- The result is an access token for one audience, never a refresh token, living no longer than
  its subject token, in the subject token's grant (so revoking that grant revokes it), with
  ``act`` naming the requesting client over the subject token's own ``act`` (RFC 8693 4.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin
from sqlalchemy import select

from idp.oauth.claims import actor, subject_of
from idp.oauth.delegation import still_acts
from idp.oauth.principal import Principal
from idp.oauth.rfc9449 import bound_jkt
from idp.oauth.tokens import Exchanged, TokenIssuer, accepted_token, issuing_time, save_token
from idp.observability import metrics
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import Client, ExchangePolicy, Token

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
#: RFC 8693 3: the only token type accepted and issued here.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
#: Parameters RFC 8693 2.1 allows once; ``audience`` and ``resource`` may repeat.
_SINGLE = (
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "scope",
)
_LONGEST_TARGET = 255  # ExchangePolicy.audience
#: The server's cached client lookup (``idp.oauth.server.query_client``): None for a disabled one.
ClientLookup = Callable[[str], Client | None]


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8693 2.2.2: no token for the target service the request names."""

    error = "invalid_target"


def actor_claim(client_id: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    """RFC 8693 4.1: the current actor at the top, the earlier chain nested below it."""
    return {"sub": client_id, "act": previous} if previous else {"sub": client_id}


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):  # type: ignore[misc]
    GRANT_TYPE = GRANT_TYPE
    # RFC 8693 2.1 leaves client authentication to the server: confidential clients only.
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        client: Client = self.authenticate_token_endpoint_client()
        self.request.client = client
        policies = _policies_of(client.client_id)
        if not policies:  # RFC 6749 5.2: this client may not use this grant at all
            raise UnauthorizedClientError("no token exchange is configured for this client")
        data = self._parameters()
        find = self.server.query_client
        subject = _subject_token(data["subject_token"], data["subject_token_type"], client, find)
        _check_actor_token(data.get("actor_token"), data.get("actor_token_type"), client, find)
        audience = self._target()
        policy = next((p for p in policies if p.audience == audience), None)
        if policy is None:
            raise InvalidTargetError("no exchange for this client to that audience")
        self._subject = subject
        self._audience = audience
        self._scope = _granted_scope(data.get("scope"), policy, subject)

    def _parameters(self) -> dict[str, str]:
        listed = self.request.payload.datalist
        if any(len(listed.get(name, [])) > 1 for name in _SINGLE):
            raise InvalidRequestError("a parameter is repeated")
        data: dict[str, str] = {
            k: v for k, v in self.request.payload.data.items() if isinstance(v, str)
        }
        for name in ("subject_token", "subject_token_type"):
            if not data.get(name):
                raise InvalidRequestError(f"{name} is required")
        requested = data.get("requested_token_type")
        if requested is not None and requested != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError("only access tokens are issued by exchange")
        return data

    def _target(self) -> str:
        """The one audience: RFC 8693 2.1 ``audience`` and ``resource`` both name it."""
        listed = self.request.payload.datalist
        named = {str(v) for k in ("audience", "resource") for v in listed.get(k, []) if v}
        if not named:
            raise InvalidRequestError("audience or resource is required")
        if len(named) > 1:
            raise InvalidTargetError("one audience per exchange")
        (audience,) = named
        if len(audience) > _LONGEST_TARGET or "\x00" in audience:
            raise InvalidTargetError("no exchange for this client to that audience")
        return audience

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        svc = services()
        subject: Token = self._subject
        client: Client = self.request.client
        principal = Principal.of_token(subject)
        assert principal is not None  # _subject_token refuses a client's own token
        find = self.server.query_client
        exchanged = Exchanged(
            audience=self._audience,
            act=actor_claim(client.client_id, _earlier_actors(subject, principal, find)),
            subject=subject.subject or _named_subject(subject, principal, find),
        )
        expires_in = min(svc.settings.access_token_ttl, _remaining(subject))
        issue = TokenIssuer(svc)
        token = issue(GRANT_TYPE, client, principal, self._scope, expires_in, False, exchanged)
        token["issued_token_type"] = ACCESS_TOKEN_TYPE  # RFC 8693 2.2.1
        save_token(
            svc,
            token,
            client,
            principal,
            subject.grant_id,
            subject,
            subject.grant_expires_at,
            exchanged=exchanged,
        )
        metrics.token_issued(GRANT_TYPE)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _policies_of(client_id: str) -> list[ExchangePolicy]:
    statement = select(ExchangePolicy).where(ExchangePolicy.client_id == client_id)
    return list(db.session.scalars(statement))


def _subject_token(value: str, token_type: str, client: Client, find: ClientLookup) -> Token:
    """The subject token, if this client may exchange it (RFC 8693 2.1, 2.2.2)."""
    if token_type != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError("subject_token_type must be an access token")
    token = _live_access_token(value, find)
    if token is None or client.client_id not in (token.client_id, token.audience):
        raise InvalidRequestError("the subject token is not valid")
    if token.person is None:
        raise InvalidRequestError("the subject token is about no person or enterprise")
    if not still_acts(token):
        raise InvalidRequestError("the subject token's person no longer acts for the enterprise")
    if token.dpop_jkt is not None and bound_jkt() != token.dpop_jkt:
        # RFC 9449 7: a bound token is used only with a proof by its key.
        raise InvalidRequestError("the subject token is DPoP-bound: send a proof by its key")
    return token


def _check_actor_token(
    value: str | None, token_type: str | None, client: Client, find: ClientLookup
) -> None:
    """RFC 8693 2.1: ``actor_token_type`` comes with ``actor_token`` and only with it. The actor
    is the authenticated client, so an actor token may only be that client's own live token."""
    if (value is None) != (token_type is None):
        raise InvalidRequestError("actor_token and actor_token_type come together")
    if value is None:
        return
    if token_type != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError("actor_token_type must be an access token")
    token = _live_access_token(value, find)
    if token is None or token.client_id != client.client_id or token.person_id is not None:
        raise InvalidRequestError("the actor token must be the requesting client's own token")


def _live_access_token(value: str, find: ClientLookup) -> Token | None:
    """An access token (not a refresh token) issued here, neither revoked, expired nor held by
    a disabled client."""
    token = accepted_token(value, "access_token")
    if token is None or token.access_digest != token_digest(value):
        return None
    if token.is_revoked() or token.is_expired():
        return None
    return token if find(token.client_id) is not None else None


def _remaining(subject: Token) -> int:
    """Seconds the subject token still lives: the exchanged token lives no longer."""
    left = subject.get_expires_at() - issuing_time()
    if left < 1:  # it expired since it was found
        raise InvalidRequestError("the subject token is not valid")
    return left


def _granted_scope(requested: str | None, policy: ExchangePolicy, subject: Token) -> str:
    """RFC 8693 2.1 ``scope``: within the policy and the subject token; by default all of both."""
    allowed = policy.scope_set & frozenset(subject.scope.split())
    wanted = frozenset(requested.split()) if requested is not None else allowed
    if not wanted or not wanted <= allowed:
        raise InvalidScopeError("the scope is beyond this exchange's policy or subject token")
    return " ".join(sorted(wanted))


def _earlier_actors(
    subject: Token, principal: Principal, find: ClientLookup
) -> dict[str, Any] | None:
    """The chain below the new actor: the subject token's own exchanges, or else the agent or
    legal representative who signed in for the enterprise (as its holder saw them)."""
    if subject.act is not None or principal.enterprise is None:
        return subject.act
    holder = find(subject.client_id)
    assert holder is not None  # checked live in _live_access_token
    return actor(services(), holder, principal)


def _named_subject(subject: Token, principal: Principal, find: ClientLookup) -> str:
    """The ``sub`` the subject token carries (pairwise for the client that holds it)."""
    holder = find(subject.client_id)
    assert holder is not None  # checked live in _live_access_token
    return subject_of(services(), holder, principal)
