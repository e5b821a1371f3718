"""One page of a list, and a whole list for export: every admin list pages alike.

Offset paging over a stable order (newest first, then id): the audit tables only grow, so a
page seen again shows at most newer rows before it, never a row missed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import Select, func, select

from idp.admin.errors import Invalid
from idp.store.db import db

#: A select of any columns (``Select`` is generic over its row's column types).
Statement: TypeAlias = Select[*tuple[Any, ...]]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: The most rows one CSV export holds; more is refused (narrow the filters), never cut short.
EXPORT_MAX = 10_000


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None

    def shown(self, show: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        return {
            "items": [show(item) for item in self.items],
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next_offset": self.next_offset,
        }


def page_of(statement: Statement, offset: int = 0, limit: int = DEFAULT_LIMIT) -> Page:
    """Rows ``offset`` to ``offset + limit`` of an ordered ``select``, and how many there are."""
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(
            f"offset is 0 or more, limit 1 to {MAX_LIMIT}",
            errors=[{"pointer": "?limit" if offset >= 0 else "?offset", "detail": "out of range"}],
        )
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.execute(statement.offset(offset).limit(limit)).all())
    return Page(items, total or 0, offset, limit)


def everything(statement: Statement) -> list[Any]:
    """Every row of ``statement`` for an export, refused when there are over ``EXPORT_MAX``."""
    rows = list(db.session.execute(statement.limit(EXPORT_MAX + 1)).all())
    if len(rows) > EXPORT_MAX:
        raise Invalid(f"more than {EXPORT_MAX} rows match: narrow the time range or filters")
    return rows
