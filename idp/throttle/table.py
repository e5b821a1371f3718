"""The default backend: the ``throttle_counters`` table, on SQLite or PostgreSQL.

Each change is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the database adds to the
stored count under its row lock, so concurrent failures on any worker or node all count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from idp.store.db import autocommit_single_statement, db
from idp.store.models import ThrottleCounter
from idp.throttle.counters import Count

_TABLE: Any = ThrottleCounter.__table__


class TableCounters:
    def add(self, key: str, amount: int, ttl_ms: int, now_ms: int, *, sliding: bool) -> Count:
        on_postgresql = db.engine.dialect.name == "postgresql"
        dialect = postgresql if on_postgresql else sqlite
        # SQLite's max() of two arguments is PostgreSQL's greatest().
        larger = func.greatest if on_postgresql else func.max
        fresh = max(amount, 0)
        expired = _TABLE.c.expires_ms <= now_ms
        renewed = now_ms + ttl_ms
        statement = (
            dialect.insert(_TABLE)
            .values(key=key, count=fresh, last_ms=now_ms, expires_ms=renewed)
            .on_conflict_do_update(
                index_elements=[_TABLE.c.key],
                set_={
                    "count": case((expired, fresh), else_=larger(_TABLE.c.count + amount, 0)),
                    "last_ms": now_ms,
                    "expires_ms": renewed
                    if sliding
                    else case((expired, renewed), else_=_TABLE.c.expires_ms),
                },
            )
            .returning(_TABLE.c.count, _TABLE.c.last_ms, _TABLE.c.expires_ms)
        )
        count, last_ms, expires_ms = db.session.execute(statement).one()
        db.session.commit()
        return Count(count, last_ms, expires_ms)

    def peek(self, keys: Sequence[str], now_ms: int) -> dict[str, Count]:
        # One SELECT on its own needs no BEGIN and COMMIT (the address gate runs it on every
        # refusal of a flood).
        autocommit_single_statement()
        rows = db.session.execute(
            select(_TABLE).where(_TABLE.c.key.in_(keys), _TABLE.c.expires_ms > now_ms)
        ).all()
        db.session.commit()
        return {key: Count(count, last_ms, expires_ms) for key, count, last_ms, expires_ms in rows}

    def reset(self, keys: Sequence[str]) -> None:
        db.session.execute(delete(_TABLE).where(_TABLE.c.key.in_(keys)))
        db.session.commit()

    def reset_prefix(self, prefix: str) -> None:
        # autoescape: an underscore in an index digest is a character, not a LIKE wildcard.
        db.session.execute(delete(_TABLE).where(_TABLE.c.key.startswith(prefix, autoescape=True)))
        db.session.commit()
