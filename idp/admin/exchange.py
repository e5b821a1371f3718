"""Token-exchange policies (RFC 8693, ``idp.oauth.rfc8693``): list, add, remove.

A policy lets one confidential client exchange the tokens people gave it for tokens to one other
service, with at most the policy's scopes: it hands people's authority onward, so only an admin
adds or removes one (``clients.exchange``), and each change is an admin action. Removing a policy
stops new exchanges at once; tokens already exchanged live out their short lifetime.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from idp.admin import actions, paging
from idp.admin.clients import client_row
from idp.admin.errors import Conflict, Invalid, NotFound
from idp.admin.roles import ROLE_SCOPES, Operator, Permission, needs
from idp.admin.times import iso
from idp.oauth.claims import SUPPORTED_SCOPES
from idp.store.db import db
from idp.store.models import ExchangePolicy

LONGEST_AUDIENCE = 255


def shown(policy: ExchangePolicy) -> dict[str, Any]:
    return {
        "client_id": policy.client_id,
        "audience": policy.audience,
        "scope": policy.scopes,
        "created_by": policy.created_by,
        "created_at": iso(policy.created_at),
    }


@needs(Permission.CLIENTS_READ)
def list_policies(
    operator: Operator,
    client_id: str | None = None,
    offset: int = 0,
    limit: int = paging.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """A page of policies, oldest first, of one client or of all."""
    statement = select(ExchangePolicy).order_by(ExchangePolicy.created_at, ExchangePolicy.id)
    if client_id is not None:
        statement = statement.where(ExchangePolicy.client_id == client_row(client_id).client_id)
    return paging.page_of(statement, offset, limit).shown(lambda row: shown(row[0]))


@needs(Permission.EXCHANGE_POLICIES)
def add_policy(
    operator: Operator, client_id: str, audience: str, scopes: list[str]
) -> dict[str, Any]:
    """Let ``client_id`` exchange for ``audience`` with at most ``scopes``."""
    client = client_row(client_id)
    if client.token_endpoint_auth_method == "none":  # RFC 8693 2.1: it must authenticate
        raise _invalid("/client_id", "only a confidential client may exchange tokens")
    audience = _checked_audience(audience)
    scope = _checked_scopes(scopes)
    if _policy(client_id, audience) is not None:
        raise Conflict("this client has a policy for that audience already")
    policy = ExchangePolicy(
        client_id=client_id, audience=audience, scopes=scope, created_by=operator.label
    )
    db.session.add(policy)
    db.session.flush()
    after = {"audience": audience, "scope": scope}
    actions.record(operator, "exchange_policy.add", "client", client_id, after=after)
    db.session.commit()
    return shown(policy)


@needs(Permission.EXCHANGE_POLICIES)
def remove_policy(operator: Operator, client_id: str, audience: str) -> dict[str, Any]:
    """No more exchanges for ``audience`` by ``client_id``."""
    policy = _policy(client_row(client_id).client_id, audience)
    if policy is None:
        raise NotFound("this client has no policy for that audience")
    before = {"audience": policy.audience, "scope": policy.scopes}
    db.session.delete(policy)
    actions.record(operator, "exchange_policy.remove", "client", client_id, before=before)
    db.session.commit()
    return {"client_id": client_id, "audience": audience, "removed": True}


def _policy(client_id: str, audience: str) -> ExchangePolicy | None:
    if len(audience) > LONGEST_AUDIENCE or "\x00" in audience:
        return None  # PostgreSQL refuses NUL in text: no such policy either way
    statement = select(ExchangePolicy).filter_by(client_id=client_id, audience=audience)
    found: ExchangePolicy | None = db.session.scalar(statement)
    return found


def _checked_audience(audience: str) -> str:
    audience = audience.strip()
    if not 1 <= len(audience) <= LONGEST_AUDIENCE or not audience.isprintable() or " " in audience:
        raise _invalid("/audience", f"one audience, 1 to {LONGEST_AUDIENCE} printable characters")
    return audience


def _checked_scopes(scopes: list[str]) -> str:
    named = sorted({s for item in scopes for s in item.split()})
    # Admin scopes belong to a client's own tokens, never to a person's: none to exchange.
    unknown = [s for s in named if s not in SUPPORTED_SCOPES or s in ROLE_SCOPES]
    if not named or unknown:
        raise _invalid("/scope", f"one or more known scopes (unknown: {' '.join(unknown)})")
    return " ".join(named)


def _invalid(pointer: str, detail: str) -> Invalid:
    return Invalid(detail, errors=[{"pointer": pointer, "detail": detail}])
