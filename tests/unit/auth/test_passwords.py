"""Argon2id hashing: right parameters in the hash, wrong passwords and unknown users refused."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from idp.auth.passwords import Passwords
from idp.config import Argon2Params


def test_hash_records_argon2id_parameters() -> None:
    stored = Passwords(Argon2Params()).hash("s3cret-pass")
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored


def test_verify() -> None:
    passwords = Passwords(Argon2Params(memory_kib=1024, time_cost=1))
    stored = passwords.hash("right password")
    assert passwords.verify(stored, "right password")
    assert not passwords.verify(stored, "wrong password")
    assert not passwords.verify(None, "decoy password, never matches")
    assert not passwords.verify("not a hash", "anything")


def test_weaker_hashes_are_flagged_for_rehash() -> None:
    weak = Passwords(Argon2Params(memory_kib=1024, time_cost=1)).hash("pw-12345")
    assert Passwords(Argon2Params()).needs_rehash(weak)


def test_at_most_the_configured_number_of_hashes_run_at_once() -> None:
    passwords = Passwords(Argon2Params(memory_kib=1024, time_cost=1, concurrent=2))
    real = passwords._hasher
    running, peak, lock = 0, 0, threading.Lock()

    def counted(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)  # long enough for the other threads to arrive, if they may
        try:
            return real.hash(password)
        finally:
            with lock:
                running -= 1

    passwords._hasher = SimpleNamespace(hash=counted)  # type: ignore[assignment]
    threads = [threading.Thread(target=passwords.hash, args=("pw-12345",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2
