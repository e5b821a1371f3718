"""One value per process, rebuilt from the database at most every few seconds.

Both key rings read through it: nodes share keys through the database only, so this interval is
how long a rotation on one node takes to reach the others, with no restart and no messaging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TimedCache(Generic[T]):
    def __init__(self, seconds: float, load: Callable[[], T]) -> None:
        self._seconds = seconds
        self._load = load
        self._value: tuple[float, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        held = self._value
        if held is not None and time.monotonic() - held[0] < self._seconds:
            return held[1]
        with self._lock:
            value = self._load()
            self._value = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        """Forget the value, after this process changed what it was built from."""
        self._value = None
