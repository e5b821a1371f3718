"""Each person's sign-in history: what the account page lists, and where they signed in from.

Rows are written by ``idp.auth.events.security_event`` for the person-attributed sign-in events,
so every way of signing in (password, passkey, ...) lands here by logging its event. Refusals by
the throttle are logged but not written: they cost no hash, and a row written only for registered
numbers would make a refused registered number measurably slower than an unknown one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import request
from sqlalchemy import func, select

from idp.services import services
from idp.sessions.devices import mask_address
from idp.store.db import db, utcnow
from idp.store.models import SignInEntry
from idp.throttle.keys import address_digest

SIGNED_IN = "signed_in"


def record(person_id: int, result: str, method: str) -> None:
    """One entry for the request being answered (commits)."""
    address = request.remote_addr
    db.session.add(
        SignInEntry(
            person_id=person_id,
            method=method,
            result=result,
            address_masked=mask_address(address),
            address_digest=address_digest(services().cipher, address),
        )
    )
    db.session.commit()


def _kept_since() -> datetime:
    return utcnow() - timedelta(days=services().settings.sign_in_history_days)


def signed_in_from(person_id: int | None, digest: str) -> bool:
    """Has this person signed in from this client before (within the history kept)? Asked for an
    unknown number too (``None``), so that both take one query."""
    kept = _kept_since()
    found = db.session.execute(
        select(SignInEntry.id)
        .where(
            SignInEntry.person_id == (person_id or 0),
            SignInEntry.address_digest == digest,
            SignInEntry.result == SIGNED_IN,
            SignInEntry.at > kept,
        )
        .limit(1)
    ).first()
    return found is not None


def recent(person_id: int, count: int) -> list[SignInEntry]:
    return list(
        db.session.scalars(
            select(SignInEntry)
            .where(SignInEntry.person_id == person_id)
            .order_by(SignInEntry.at.desc(), SignInEntry.id.desc())
            .limit(count)
        )
    )


def sign_ins(person_id: int) -> int:
    """How many times the person signed in within the history kept (support's "is this account
    in use"), one count over the person's rows."""
    count = db.session.scalar(
        select(func.count())
        .select_from(SignInEntry)
        .where(
            SignInEntry.person_id == person_id,
            SignInEntry.result == SIGNED_IN,
            SignInEntry.at > _kept_since(),
        )
    )
    return int(count or 0)
