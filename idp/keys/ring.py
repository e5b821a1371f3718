"""The signing-key ring, shared by every node through the database.

Each supported algorithm has one active key; rotation retires it and creates a successor. A
retired key stays in the JWKS until every token it signed has expired, so clients that cache the
JWKS keep verifying across a rotation. Nodes read the ring through a short in-process cache, so a
rotation on one node reaches the others within ``key_cache_seconds`` without a restart.

A new key is published before it signs: every node keeps signing with its predecessor until the
new key is two ``key_cache_seconds`` old (the ring's snapshot and the JWKS bytes built from it are
each cached that long), by which time every node's JWKS lists it. Otherwise a node
that already signs with the new key could hand a client a token whose key another node's JWKS
does not show yet, and the client's one refetch would fail.

A compromised key is withdrawn instead (``withdraw``): it leaves the JWKS, never signs again, and
tokens it signed are refused (``signed_by_withdrawn``), on this node at once and on the others
within ``key_cache_seconds``; withdrawing an active key first puts a successor in its place,
which signs at once, unpublished elsewhere for that interval (a compromise does not wait).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from joserfc.jwk import ECKey, KeySet, KeySetSerialization, RSAKey
from sqlalchemy import select

from idp.caching import TimedValue
from idp.store.crypto import FieldCipher
from idp.store.db import db, utcnow
from idp.store.models import SigningKey

SUPPORTED_ALGS = ("RS256", "ES256")
#: Cache periods a new key waits, published, before it signs.
PUBLISH_AHEAD = 2
_CONTEXT = "signing_keys.private"

Key = RSAKey | ECKey


@dataclass(frozen=True)
class _Signer:
    kid: str
    key: Key
    created_at: datetime


@dataclass(frozen=True)
class _Snapshot:
    signing: dict[str, list[_Signer]]  # per algorithm, newest first
    public: list[dict[str, Any]]
    public_json: bytes  # the JWKS document, serialised once per snapshot
    withdrawn: frozenset[str]


def _generate(alg: str) -> Key:
    # RFC 7518 3.3: RS256 keys of 2048 bits or more; 3.4: ES256 on P-256.
    return RSAKey.generate_key(2048) if alg == "RS256" else ECKey.generate_key("P-256")


class KeyRing:
    def __init__(self, cipher: FieldCipher, publish_for: timedelta, cache_seconds: int) -> None:
        self._cipher = cipher
        self._publish_for = publish_for
        self._cache_seconds = cache_seconds
        self._snapshot = TimedValue(cache_seconds, self._load)
        self._on_withdrawal: list[Callable[[], None]] = []

    def when_withdrawn(self, forget: Callable[[], None]) -> None:
        """Call ``forget`` when this process withdraws a key: a cache built from the ring (the
        JWKS bytes) drops the key now rather than within ``key_cache_seconds``."""
        self._on_withdrawal.append(forget)

    def ensure(self) -> list[str]:
        """Create an active key for every algorithm that lacks one; return the new key ids."""
        active = {
            k.alg
            for k in db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
        }
        created = [self._create(alg) for alg in SUPPORTED_ALGS if alg not in active]
        db.session.commit()
        self._snapshot.clear()
        return created

    def rotate(self, algs: tuple[str, ...] = SUPPORTED_ALGS) -> list[str]:
        """Retire the active keys of ``algs`` and create successors; return the new key ids."""
        created = self._replace(algs)
        db.session.commit()
        self._snapshot.clear()
        return created

    def withdraw(self, key: SigningKey) -> list[str]:
        """Withdraw ``key`` (compromised), replacing it first if active; the new key ids."""
        created = self._replace((key.alg,)) if key.retired_at is None else []
        now = utcnow()
        key.retired_at = key.retired_at or now
        key.withdrawn_at = now
        db.session.commit()
        self._snapshot.clear()
        for forget in self._on_withdrawal:
            forget()
        return created

    def find(self, kid: str) -> SigningKey | None:
        found: SigningKey | None = db.session.scalar(select(SigningKey).filter_by(kid=kid))
        return found

    def signed_by_withdrawn(self, kid: object) -> bool:
        """Whether ``kid`` (from a token's JOSE header) names a withdrawn key."""
        return isinstance(kid, str) and kid in self._current().withdrawn

    def signing_key(self, alg: str) -> tuple[str, Key]:
        """The (kid, private key) that signs for ``alg`` now: the newest key every node already
        publishes, or the newest of all when none is that old (a fresh ring)."""
        signers = self._current().signing[alg]
        published_since = utcnow() - timedelta(seconds=PUBLISH_AHEAD * self._cache_seconds)
        chosen = next((s for s in signers if s.created_at <= published_since), signers[0])
        return chosen.kid, chosen.key

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self._current().public)}

    def jwks_json(self) -> bytes:
        return self._current().public_json

    def verification_keys(self) -> KeySet:
        """Every published key, for checking tokens we issued (id_token_hint, logout)."""
        return KeySet.import_key_set(cast(KeySetSerialization, self.jwks()))

    def listing(self) -> list[SigningKey]:
        return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))

    def _replace(self, algs: tuple[str, ...]) -> list[str]:
        now = utcnow()
        active = select(SigningKey).where(SigningKey.retired_at.is_(None), SigningKey.alg.in_(algs))
        for key in db.session.scalars(active):
            key.retired_at = now
        return [self._create(alg) for alg in algs]

    def _signer(self, row: SigningKey) -> _Signer:
        pem = self._cipher.decrypt(row.private_cipher, _CONTEXT)
        loader = RSAKey if row.alg == "RS256" else ECKey
        return _Signer(row.kid, loader.import_key(pem, {"kid": row.kid}), row.created_at)

    def _create(self, alg: str) -> str:
        key = _generate(alg)
        kid = key.thumbprint()  # RFC 7638 thumbprint: stable, derived, never guessed
        public = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
        pem = key.as_pem(private=True).decode()
        db.session.add(
            SigningKey(
                kid=kid,
                alg=alg,
                public_jwk=public,
                private_cipher=self._cipher.encrypt(pem, _CONTEXT),
            )
        )
        return kid

    def _current(self) -> _Snapshot:
        return self._snapshot.get()

    def _load(self) -> _Snapshot:
        now = utcnow()
        cutoff = now - self._publish_for
        rows = db.session.scalars(
            select(SigningKey)
            .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > cutoff))
            .where(SigningKey.withdrawn_at.is_(None))
            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        ).all()
        # A key retired this recently may still sign (see the module docstring).
        still_signing = now - timedelta(seconds=(PUBLISH_AHEAD + 1) * self._cache_seconds)
        signing: dict[str, list[_Signer]] = {}
        for row in rows:
            if row.retired_at is None or row.retired_at > still_signing:
                signing.setdefault(row.alg, []).append(self._signer(row))
        active = {row.alg for row in rows if row.retired_at is None}
        missing = [alg for alg in SUPPORTED_ALGS if alg not in active]
        if missing:
            raise RuntimeError(
                f"no active signing key for {', '.join(missing)}: run `idp db upgrade`"
            )
        public = [row.public_jwk for row in rows]
        withdrawn = frozenset(
            db.session.scalars(select(SigningKey.kid).where(SigningKey.withdrawn_at.isnot(None)))
        )
        return _Snapshot(signing, public, json.dumps({"keys": public}).encode(), withdrawn)
