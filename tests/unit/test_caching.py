"""The one per-process TTL cache (idp.caching) that keys, clients and status lists read through."""

from __future__ import annotations

import threading
from collections.abc import Callable

from idp.caching import TimedCache, TimedValue


def counting(value: str | None) -> tuple[Callable[[], str | None], list[int]]:
    calls: list[int] = []

    def load() -> str | None:
        calls.append(1)
        return value

    return load, calls


def test_a_value_is_loaded_once_while_fresh_and_again_once_stale() -> None:
    load, calls = counting("row")
    fresh: TimedCache[str, str] = TimedCache(3600)
    assert [fresh.get("a", load) for _ in range(3)] == ["row"] * 3
    assert len(calls) == 1
    stale: TimedCache[str, str] = TimedCache(0)
    stale.get("a", load)
    stale.get("a", load)
    assert len(calls) == 3


def test_keys_are_cached_apart_and_nothing_found_is_not_kept() -> None:
    cache: TimedCache[str, str] = TimedCache(3600)
    assert cache.get("a", lambda: "A") == "A" and cache.get("b", lambda: "B") == "B"
    assert cache.get("a", lambda: "other") == "A"
    missing, calls = counting(None)
    assert cache.get("unknown", missing) is None and cache.get("unknown", missing) is None
    assert len(calls) == 2  # probing unknown keys cannot fill the cache


def test_forget_and_clear_make_the_next_get_load_again() -> None:
    cache: TimedCache[str, str] = TimedCache(3600)
    cache.get("a", lambda: "old")
    cache.get("b", lambda: "old")
    cache.forget("a")
    assert cache.get("a", lambda: "new") == "new" and cache.get("b", lambda: "new") == "old"
    cache.clear()
    assert cache.get("b", lambda: "new") == "new"


def test_a_load_overlapping_a_change_is_not_kept() -> None:
    # Thread A reads the old row; meanwhile this process changes it and forgets the copy. A's
    # read must not be kept as the fresh value for the next cache period.
    cache: TimedCache[str, str] = TimedCache(3600)
    reading, changed = threading.Event(), threading.Event()

    def slow_old_read() -> str:
        reading.set()
        changed.wait(5)
        return "old"

    reader = threading.Thread(target=cache.get, args=("a", slow_old_read))
    reader.start()
    reading.wait(5)
    cache.forget("a")
    changed.set()
    reader.join(5)
    assert cache.get("a", lambda: "new") == "new"


def test_a_timed_value_is_one_entry() -> None:
    load, calls = counting("snapshot")
    value = TimedValue(3600, load)
    assert value.get() == value.get() == "snapshot" and len(calls) == 1
    value.clear()
    value.get()
    assert len(calls) == 2
