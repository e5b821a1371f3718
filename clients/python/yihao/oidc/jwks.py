"""The provider's signing keys, cached, and fetched again when a token names a key we lack.

The provider starts signing with a new key as soon as it rotates, without publishing it in
advance, so a cache that only expired on a timer would reject every sign-in until it did. One
refetch per unknown ``kid`` makes rotation need no restart; a ``kid`` still unknown after that is
an error, so a forged header cannot make us fetch more than once per token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import requests
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, KeySetSerialization, RSAKey

from yihao.oidc.errors import DiscoveryError

#: RFC 7518 3.1: the key type each accepted signature algorithm needs.
KEY_TYPE_FOR_ALG = {"RS256": RSAKey.key_type, "ES256": ECKey.key_type}


class JwksCache:
    """The key set at ``uri``; thread-safe, refetched after ``ttl`` seconds or on an unknown kid."""

    def __init__(
        self,
        uri: str,
        session: requests.Session,
        *,
        ttl: float,
        clock: Callable[[], float],
        timeout: float,
    ) -> None:
        self.uri = uri
        self._session = session
        self._ttl = ttl
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._cached: tuple[float, KeySet] | None = None

    def key_for(self, kid: str | None, alg: str) -> Key | None:
        """The verification key for a token header, or None when the provider has no such key."""
        key = _select(self._keys(refresh=False), kid, alg)
        if key is None:
            key = _select(self._keys(refresh=True), kid, alg)
        return key

    def _keys(self, *, refresh: bool) -> KeySet:
        with self._lock:
            cached = self._cached
            if not refresh and cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            keys = self._fetch()
            self._cached = (self._clock(), keys)
            return keys

    def _fetch(self) -> KeySet:
        try:
            response = self._session.get(self.uri, timeout=self._timeout)
            response.raise_for_status()
            document: Any = response.json()
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise DiscoveryError("the JWKS is not a key set")
            return KeySet.import_key_set(cast(KeySetSerialization, document))
        except (requests.RequestException, ValueError, JoseError) as exc:
            raise DiscoveryError("could not fetch the provider's JWKS") from exc


def _select(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    """OIDC Core 10.1.1: the key named by ``kid``; without a kid, the only candidate, if one."""
    candidates = [
        key
        for key in keys.keys
        if key.key_type == KEY_TYPE_FOR_ALG.get(alg)
        and key.get("use") in (None, "sig")
        and key.alg in (None, alg)
    ]
    if kid is None:
        return candidates[0] if len(candidates) == 1 else None
    return next((key for key in candidates if key.kid == kid), None)
