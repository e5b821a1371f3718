"""Argon2id password hashing (argon2-cffi) at the parameters configured in ``idp.config``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from idp.config import Argon2Params


class Passwords:
    """Hashing is memory-hard by design (19 MiB per hash by default), and the C allocator keeps
    what a thread used in that thread's arena: with every request thread hashing, a worker grew
    to ~175 MiB. So hashes run on a small pool of ``params.concurrent`` threads (one by default:
    a worker per core, and a second hash on the same core adds no throughput) and only those
    threads' arenas ever hold Argon2 memory; other sign-ins wait their turn."""

    def __init__(self, params: Argon2Params) -> None:
        # Threads start on first use, so a server that forks workers after building this has none.
        self._pool = ThreadPoolExecutor(params.concurrent, thread_name_prefix="argon2")
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        # Checked against when the account does not exist, so a miss costs the same time as a
        # wrong password and response timing does not reveal who is registered.
        self._decoy = self._hasher.hash("decoy password, never matches")

    def hash(self, password: str) -> str:
        return self._pool.submit(self._hasher.hash, password).result()

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            check = self._pool.submit(self._hasher.verify, stored or self._decoy, password)
            matched = check.result()
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
