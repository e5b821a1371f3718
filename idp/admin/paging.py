"""One page of a list: every admin list (clients, people, certificates, audit) pages alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from idp.store.db import db

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None


def page_of(statement: Select[Any], offset: int = 0, limit: int = DEFAULT_LIMIT) -> Page[Any]:
    """Rows ``offset`` to ``offset + limit`` of an ordered ``select`` of one entity; the total."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = list(db.session.scalars(statement.offset(offset).limit(limit)))
    return Page(items, total or 0, offset, limit)
