"""Recording and listing releases of personal data ("who used my data")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from idp.store.db import db
from idp.store.models import Release


def record_release(
    person_id: int,
    enterprise_id: int | None,
    client_id: str,
    claims: Iterable[str],
    channel: str,
    mandate_id: int | None = None,
) -> None:
    db.session.add(
        Release(
            person_id=person_id,
            enterprise_id=enterprise_id,
            mandate_id=mandate_id,
            client_id=client_id,
            claims=" ".join(sorted(claims)),
            channel=channel,
        )
    )


def releases_of(person_id: int, limit: int = 200) -> list[Release]:
    query = (
        select(Release)
        .where(Release.person_id == person_id)
        .order_by(Release.released_at.desc(), Release.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def releases_for_enterprise(enterprise_id: int, limit: int = 200) -> list[Release]:
    """The enterprise's "who used our data": every release while someone acted for it, with the
    person who acted (the legal representative, or an agent under ``mandate_id``)."""
    query = (
        select(Release)
        .where(Release.enterprise_id == enterprise_id)
        .order_by(Release.released_at.desc(), Release.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
