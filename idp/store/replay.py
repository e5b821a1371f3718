"""Spending a one-time value in the shared ``seen_values`` table: the primary key decides, so of
two nodes racing with the same value exactly one succeeds, on SQLite and PostgreSQL alike.

The home of this rule for every caller (client-assertion and request-object ``jti``, DPoP
proofs): each names its values under a prefix of its own and keeps them as long as they could
still be accepted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import SeenValue


def spend_once(prefix: str, value: str, expires_at: datetime) -> bool:
    """Record ``value`` under ``prefix`` until ``expires_at``; False when it was already spent.

    The value is kept as a digest: any value fits the column whole (no two long ones collide on
    a prefix), and no NUL reaches PostgreSQL.
    """
    db.session.add(SeenValue(key=f"{prefix}:{token_digest(value)}", expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
