"""Values read from the database, kept per process for a few seconds (``IDP_KEY_CACHE_SECONDS``).

Nodes share keys, clients and revocations through the database only, so this interval is how long
a change on one node takes to reach the others, with no restart and no messaging; the node that
made the change forgets its copy at once. The key rings, the JWKS document, registered clients and
signed status lists all read through this one cache. It imports nothing of ours, so any layer may
use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    """Values by key, each loaded again once it is ``seconds`` old; safe to share across threads.

    A load that finds nothing (None) is not kept, so asking for unknown keys cannot fill the
    cache. Loads run outside the lock: two threads may load one key at once (both read the same
    rows), but a slow load never holds up the other keys. A load that overlaps ``forget`` or
    ``clear`` is not kept, so a copy read before a change cannot outlive it here.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        held = self._entries.get(key)
        if held is not None and time.monotonic() - held[0] < self._seconds:
            return held[1]
        generation = self._generation
        value = load()
        if value is not None:
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = (time.monotonic(), value)
        return value

    def forget(self, key: K) -> None:
        """Drop one value, after this process changed what it was built from."""
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every value, after this process changed what they were built from."""
        with self._lock:
            self._generation += 1
            self._entries.clear()


class TimedValue(Generic[V]):
    """One value (a key-ring snapshot, a document), a ``TimedCache`` of a single entry."""

    def __init__(self, seconds: float, load: Callable[[], V]) -> None:
        self._cache: TimedCache[None, V] = TimedCache(seconds)
        self._load = load

    def get(self) -> V:
        value = self._cache.get(None, self._load)
        assert value is not None, "a TimedValue's load always gives a value"
        return value

    def clear(self) -> None:
        self._cache.clear()
