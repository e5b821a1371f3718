"""The counters every worker and node share: one interface, a database table or Redis behind it.

Hand-written rather than ``limits``' storage interface: the rules in ``policy`` need, from one
atomic operation, the new count *and* when the previous change was, with an expiry that either
stays put (a fixed window) or moves with each change (remember failures for a while after the
last one). ``limits`` has no database storage and its interface exposes neither, so a small
interface of our own keeps both backends to a single statement (SQL) or script (Redis) each, and
never to a read-modify-write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Count:
    count: int
    #: when the count last changed, ms since the epoch
    last_ms: int
    #: when the count is forgotten, ms since the epoch
    expires_ms: int


class Counters(Protocol):
    def add(self, key: str, amount: int, ttl_ms: int, now_ms: int, *, sliding: bool) -> Count:
        """Atomically add ``amount`` (negative: give back, never below zero) and return the new
        count. An expired counter starts again from zero. ``sliding``: it expires ``ttl_ms``
        after this change; else ``ttl_ms`` after it started (a fixed window)."""
        ...

    def peek(self, keys: Sequence[str], now_ms: int) -> dict[str, Count]:
        """The live counters among ``keys``; an expired or missing one is absent."""
        ...

    def reset(self, keys: Sequence[str]) -> None: ...

    def reset_prefix(self, prefix: str) -> None:
        """Forget every counter whose key starts with ``prefix`` (support's unlock; rare)."""
        ...
