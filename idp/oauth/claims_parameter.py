"""The ``claims`` request parameter (OIDC Core 5.5), checked at /authorize and kept with the grant.

A request names claims per place of delivery: ``userinfo`` and ``id_token``. It never widens what
the granted scopes (and so the person's consent) allow: plain claims are released per scope as
before, and a claim asked for here without its scope is not released. What it adds is
``verified_claims`` (``idp.oauth.identity_assurance``), which exist only on request. The checked
request is stored, normalised, on the authorization code and on every token of its grant, so that
UserInfo later answers what was asked. Authlib parses none of this; it is written by hand.

Bad JSON or a wrong shape is ``invalid_request`` to the client. Claims this provider does not
know are ignored (OIDC Core 5.5): no scope releases them and no registry backs them. Members other
than ``userinfo`` and ``id_token`` are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from authlib.oauth2.rfc6749 import InvalidRequestError

from idp.oauth.identity_assurance import (
    VERIFIED_CLAIMS,
    check_claim_request,
    parse_request,
    requested_scopes,
)

Member = Literal["userinfo", "id_token"]
MEMBERS: tuple[Member, ...] = ("userinfo", "id_token")


def parse(text: str) -> dict[str, Any]:
    """The checked, normalised request; ``InvalidRequestError`` says what is wrong with it."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidRequestError("claims: not a JSON object") from None
    if not isinstance(found, dict):
        raise InvalidRequestError("claims: not a JSON object")
    return {name: _member(name, found[name]) for name in MEMBERS if name in found}


def _member(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequestError(f"claims: {name} must be an object")
    kept: dict[str, Any] = {}
    for claim, request in value.items():
        if claim == VERIFIED_CLAIMS:
            kept[claim] = parse_request(request)
            continue
        check_claim_request(name, request)
        kept[claim] = request
    return kept


def claims_request_of(params: Mapping[str, Any], scope: str) -> str | None:
    """The normalised request to store with a code: only for OpenID requests, where it means
    something (OIDC Core 5.5), and only when there is one."""
    text = params.get("claims")
    if not text or "openid" not in scope.split():
        return None
    # ASCII: a lone surrogate (valid JSON, "\ud800") cannot be encoded for the database otherwise.
    return json.dumps(parse(text), separators=(",", ":"))


def verified_scopes(text: str | None) -> frozenset[str]:
    """The scopes whose data a raw ``claims`` parameter asks for as verified claims, in either
    member: the consent page says so. A request that does not parse asks for none (it never
    reaches the consent page: /authorize refused it)."""
    try:
        found = parse(text) if text else {}
    except InvalidRequestError:
        return frozenset()
    return requested_scopes(r for m in found.values() for r in m.get(VERIFIED_CLAIMS, []))


def verified_requests(stored: str | None, member: Member) -> list[dict[str, Any]]:
    """The ``verified_claims`` requests of one member of a stored request (none: ``[]``)."""
    if not stored:
        return []
    found: list[dict[str, Any]] = json.loads(stored).get(member, {}).get(VERIFIED_CLAIMS, [])
    return found
