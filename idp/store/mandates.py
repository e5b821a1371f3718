"""Storing and finding mandates (``idp.store.models.mandates``); the rules of who may grant one,
and what withdrawing one revokes, are the protocol's (``idp.oauth.delegation``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, union

from idp.store.db import db, utcnow
from idp.store.models import AuthorizationCode, Enterprise, Mandate, Person, Token


def add_mandate(
    enterprise: Enterprise,
    agent: Person,
    granted_by: Person,
    scopes: Iterable[str],
    client_ids: Iterable[str] | None,
    valid_until: datetime,
) -> Mandate:
    mandate = Mandate(
        enterprise=enterprise,
        agent=agent,
        granted_by=granted_by,
        scopes=" ".join(sorted(set(scopes))),
        client_ids=" ".join(sorted(set(client_ids))) if client_ids is not None else None,
        valid_until=valid_until,
    )
    db.session.add(mandate)
    db.session.commit()
    return mandate


def mandates_of(enterprise_id: int) -> list[Mandate]:
    """The enterprise's mandates not withdrawn, expired ones included (the page says so)."""
    query = select(Mandate).where(
        Mandate.enterprise_id == enterprise_id, Mandate.withdrawn_at.is_(None)
    )
    return list(db.session.scalars(query.order_by(Mandate.created_at.desc(), Mandate.id.desc())))


def mandates_held(agent_id: int) -> list[Mandate]:
    """Every mandate a person was ever given, longest-lasting first; whether one is live is
    ``Mandate.is_live``'s to say, in one place (a person holds a handful)."""
    query = select(Mandate).where(Mandate.agent_id == agent_id)
    return list(db.session.scalars(query.order_by(Mandate.valid_until.desc(), Mandate.id)))


def mark_withdrawn(mandate: Mandate) -> None:
    mandate.withdrawn_at = utcnow()
    db.session.commit()


def grant_ids_of(mandate_id: int) -> set[str]:
    """Every grant an agent obtained under the mandate: from its codes, redeemed or not, and
    its tokens (a refreshed token keeps its grant id, so the codes alone would do; both is
    cheaper than being wrong)."""
    query = union(
        select(AuthorizationCode.grant_id).where(AuthorizationCode.mandate_id == mandate_id),
        select(Token.grant_id).where(Token.mandate_id == mandate_id),
    )
    return set(db.session.scalars(query))
