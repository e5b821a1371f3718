"""Counters in Redis (``IDP_REDIS_URL``), for many nodes: each key expires by itself.

A counter is a hash (``count``, ``last``, ``expires``: ms on the provider's clock, as in the
table) changed by one Lua script, which Redis runs atomically: the increment, the timestamp and
the expiry never interleave with another worker's.
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
redis.call('HSET', KEYS[1], 'last', ARGV[2])
local expires = redis.call('HGET', KEYS[1], 'expires')
if fresh or ARGV[4] == '1' then
  expires = ARGV[3]
  redis.call('HSET', KEYS[1], 'expires', expires)
  redis.call('PEXPIREAT', KEYS[1], expires)
end
return {count, expires}
"""


class RedisCounters:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = f"{prefix}throttle:"
        self._add: Any = self._redis.register_script(_ADD)

    def add(self, key: str, amount: int, ttl_ms: int, now_ms: int, *, sliding: bool) -> Count:
        count, expires = self._add(
            keys=[self._prefix + key], args=[amount, now_ms, now_ms + ttl_ms, int(sliding)]
        )
        return Count(int(count), now_ms, int(expires))

    def peek(self, keys: Sequence[str], now_ms: int) -> dict[str, Count]:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._prefix + key, "count", "last", "expires")
        counts: dict[str, Count] = {}
        for key, (count, last, expires) in zip(keys, pipe.execute(), strict=True):
            if count is not None and int(expires) > now_ms:
                counts[key] = Count(int(count), int(last), int(expires))
        return counts

    def reset(self, keys: Sequence[str]) -> None:
        self._redis.delete(*(self._prefix + key for key in keys))

    def reset_prefix(self, prefix: str) -> None:
        for key in self._redis.scan_iter(match=self._prefix + prefix + "*", count=1000):
            self._redis.delete(key)
