"""A Redis key prefix of this test run, for a provider using the Redis at 127.0.0.1:6379, and its
keys removed afterwards; skips when Redis is not running."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def redis_prefix() -> Iterator[str]:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    prefix = f"yihao-test-{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        keys = list(connection.scan_iter(prefix + "*"))
        if keys:
            connection.delete(*keys)
