"""Sessions in Redis, for many nodes: each record expires by itself at its absolute end.

Keys: ``<prefix>s:<digest>`` holds a record as JSON; ``<prefix>p:<person_id>`` is the set of the
person's session digests, for the account page and "sign out everywhere". Members whose record has
expired are dropped from the set when it is next read.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

import redis

from idp.sessions.store import SessionRecord


def _encode(record: SessionRecord) -> str:
    fields = asdict(record)
    fields["sealed"] = base64.b64encode(record.sealed).decode("ascii")
    return json.dumps(fields)


def _decode(text: bytes | str) -> SessionRecord:
    fields: dict[str, Any] = json.loads(text)
    fields["sealed"] = base64.b64decode(fields["sealed"])
    return SessionRecord(**fields)


class RedisStore:
    def __init__(self, url: str, prefix: str, longest_seconds: int) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._longest = longest_seconds

    def _key(self, digest: str) -> str:
        return f"{self._prefix}s:{digest}"

    def _person(self, person_id: int) -> str:
        return f"{self._prefix}p:{person_id}"

    def load(self, digest: str, now: int) -> SessionRecord | None:
        text = self._redis.get(self._key(digest))
        if text is None:
            return None
        record = _decode(text)
        return record if record.expires_at > now else None

    def save(self, digest: str, record: SessionRecord) -> None:
        pipe = self._redis.pipeline()
        pipe.set(self._key(digest), _encode(record), exat=record.expires_at)
        if record.person_id is not None:
            pipe.sadd(self._person(record.person_id), digest)
            # Every session in the set ends within the longest lifetime from now.
            pipe.expire(self._person(record.person_id), self._longest)
        pipe.execute()

    def delete(self, digest: str) -> None:
        text = self._redis.getdel(self._key(digest))
        if text is not None:
            record = _decode(text)
            if record.person_id is not None:
                self._redis.srem(self._person(record.person_id), digest)

    def _of_person(self, person_id: int) -> list[tuple[str, SessionRecord]]:
        digests = sorted(str(d) for d in self._redis.smembers(self._person(person_id)))
        if not digests:
            return []
        texts = self._redis.mget([self._key(d) for d in digests])
        gone = [d for d, t in zip(digests, texts, strict=True) if t is None]
        if gone:
            self._redis.srem(self._person(person_id), *gone)
        return [(d, _decode(t)) for d, t in zip(digests, texts, strict=True) if t is not None]

    def of_person(self, person_id: int, now: int) -> list[SessionRecord]:
        found = [r for _d, r in self._of_person(person_id) if r.expires_at > now]
        return sorted(found, key=lambda r: r.auth_time or 0, reverse=True)

    def end(self, person_id: int, sid: str | None, now: int) -> list[SessionRecord]:
        ended = []
        for digest, record in self._of_person(person_id):
            if sid is not None and record.sid != sid:
                continue
            # GETDEL: of two requests ending one session, one gets the record.
            if self._redis.getdel(self._key(digest)) is not None and record.expires_at > now:
                ended.append(record)
            self._redis.srem(self._person(person_id), digest)
        return ended
