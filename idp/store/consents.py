"""Standing consent decisions: remembered per person, client, acting enterprise and scope set."""

from __future__ import annotations

from sqlalchemy import select, update

from idp.store.db import db, utcnow
from idp.store.models import Consent, Token


def _active(person_id: int, client_id: str, enterprise_id: int | None) -> Consent | None:
    query = select(Consent).where(
        Consent.person_id == person_id,
        Consent.client_id == client_id,
        Consent.enterprise_id.is_(None)
        if enterprise_id is None
        else Consent.enterprise_id == enterprise_id,
        Consent.revoked_at.is_(None),
    )
    return db.session.scalars(query).first()


def has_consent(
    person_id: int, client_id: str, enterprise_id: int | None, scopes: frozenset[str]
) -> bool:
    found = _active(person_id, client_id, enterprise_id)
    return found is not None and scopes <= found.scope_set


def grant_consent(
    person_id: int, client_id: str, enterprise_id: int | None, scopes: frozenset[str]
) -> None:
    found = _active(person_id, client_id, enterprise_id)
    merged = scopes | (found.scope_set if found else frozenset())
    if found is not None:
        found.revoked_at = utcnow()
    db.session.add(
        Consent(
            person_id=person_id,
            client_id=client_id,
            enterprise_id=enterprise_id,
            scopes=" ".join(sorted(merged)),
        )
    )
    db.session.commit()


def consents_of(person_id: int) -> list[Consent]:
    query = select(Consent).where(Consent.person_id == person_id, Consent.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(Consent.granted_at.desc())))


def withdraw_consent(person_id: int, consent_id: int) -> bool:
    """Withdraw one consent and revoke the tokens it let the client obtain."""
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.person_id != person_id or consent.revoked_at is not None:
        return False
    consent.revoked_at = utcnow()
    # Whole grants: a token another service obtained by exchange (RFC 8693) from one of this
    # client's tokens shares its grant, and acted on this consent too.
    grants = select(Token.grant_id).where(
        Token.person_id == person_id, Token.client_id == consent.client_id
    )
    db.session.execute(
        update(Token)
        .where(Token.person_id == person_id, Token.grant_id.in_(grants))
        .values(revoked=True)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True
