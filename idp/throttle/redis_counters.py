"""Counters in Redis (``IDP_REDIS_URL``), for many nodes: each key expires by itself.

A counter is a hash (``count``, ``last``) changed by one Lua script, which Redis runs atomically:
the increment, the timestamp and the expiry never interleave with another worker's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from idp.throttle.counters import Count

_ADD = """
local fresh = redis.call('EXISTS', KEYS[1]) == 0
local count = redis.call('HINCRBY', KEYS[1], 'count', ARGV[1])
if count < 0 then
  count = 0
  redis.call('HSET', KEYS[1], 'count', 0)
end
redis.call('HSET', KEYS[1], 'last', ARGV[3])
if fresh or ARGV[4] == '1' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {count, redis.call('PTTL', KEYS[1])}
"""


class RedisCounters:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = f"{prefix}throttle:"
        self._add: Any = self._redis.register_script(_ADD)

    def add(self, key: str, amount: int, ttl_ms: int, now_ms: int, *, sliding: bool) -> Count:
        count, left = self._add(
            keys=[self._prefix + key], args=[amount, ttl_ms, now_ms, int(sliding)]
        )
        return Count(int(count), now_ms, now_ms + int(left))

    def peek(self, keys: Sequence[str], now_ms: int) -> dict[str, Count]:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._prefix + key, "count", "last")
            pipe.pttl(self._prefix + key)
        found = pipe.execute()
        counts: dict[str, Count] = {}
        for key, (count, last), left in zip(keys, found[::2], found[1::2], strict=True):
            if count is not None and int(left) > 0:
                counts[key] = Count(int(count), int(last), now_ms + int(left))
        return counts

    def reset(self, keys: Sequence[str]) -> None:
        self._redis.delete(*(self._prefix + key for key in keys))
