"""Recording and listing releases of personal data ("who used my data")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from idp.store.db import db
from idp.store.models import Release


def record_release(
    person_id: int, enterprise_id: int | None, client_id: str, claims: Iterable[str], channel: str
) -> None:
    db.session.add(
        Release(
            person_id=person_id,
            enterprise_id=enterprise_id,
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
