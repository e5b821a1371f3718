"""Argon2id password hashing (argon2-cffi) at the parameters configured in ``idp.config``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from idp.config import Argon2Params
from idp.observability import metrics

T = TypeVar("T")


class PasswordsBusy(Exception):
    """More hashes are running and waiting in this worker than ``IDP_ARGON2_QUEUE`` allows: the
    request is refused at once, so a flood cannot stack up minutes of hashing in front of the
    real users, and the caller answers 429 without hashing."""


class Passwords:
    """Hashing is memory-hard by design (19 MiB per hash by default), and the C allocator keeps
    what a thread used in that thread's arena: with every request thread hashing, a worker grew
    to ~175 MiB. So hashes run on a small pool of ``params.concurrent`` threads (one by default:
    a worker per core, and a second hash on the same core adds no throughput) and only those
    threads' arenas ever hold Argon2 memory; other sign-ins wait their turn, at most
    ``params.queue`` of them (``PasswordsBusy`` beyond that)."""

    def __init__(self, params: Argon2Params) -> None:
        # Threads start on first use, so a server that forks workers after building this has none.
        self._pool = ThreadPoolExecutor(params.concurrent, thread_name_prefix="argon2")
        self._admitted = threading.BoundedSemaphore(params.concurrent + params.queue)
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        # Checked against when the account does not exist, so a miss costs the same time as a
        # wrong password and response timing does not reveal who is registered.
        self._decoy = self._hasher.hash("decoy password, never matches")

    def _run(self, work: Callable[..., T], *args: str) -> T:
        if not self._admitted.acquire(blocking=False):
            raise PasswordsBusy
        metrics.argon2_waiting(1)
        try:
            future = self._pool.submit(_started, work, *args)
        except BaseException:
            metrics.argon2_waiting(-1)  # never queued
            self._admitted.release()
            raise
        try:
            return future.result()
        finally:
            self._admitted.release()

    def hash(self, password: str) -> str:
        return self._run(self._hasher.hash, password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            matched = self._run(self._hasher.verify, stored or self._decoy, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def _started(work: Callable[..., T], *args: str) -> T:
    """On an Argon2 thread: the hash leaves the queue (the queue-length metric) and runs."""
    metrics.argon2_waiting(-1)
    return work(*args)
