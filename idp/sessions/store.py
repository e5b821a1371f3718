"""One interface for the session stores, and what every backend shares.

A record is keyed by the SHA-256 digest of the cookie's id, and its contents (pending
interactions, the CSRF token, the wallet's access token) are encrypted under a key derived from
that id, so a copy of the store yields neither a working cookie nor a login hint. What the account
page lists about a session (when, which device, a masked address) is kept in the clear beside it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Bytes of randomness in a cookie id and in a public session id (``sid``).
COOKIE_ID_BYTES = 32
SID_BYTES = 16
_NONCE_BYTES = 12


@dataclass
class SessionRecord:
    """One browser's session. ``person_id`` is None until someone signs in."""

    sid: str
    created_at: int
    last_seen: int
    expires_at: int
    device: str
    address: str
    person_id: int | None = None
    auth_time: int | None = None
    sealed: bytes = b""


class SessionStore(Protocol):
    """Where session records live; every method is safe to call from many nodes at once."""

    def load(self, digest: str, now: int) -> SessionRecord | None:
        """The record under ``digest``, or None when there is none or it has expired."""
        ...

    def save(self, digest: str, record: SessionRecord) -> None:
        """Insert or replace the record under ``digest``."""
        ...

    def delete(self, digest: str) -> None: ...

    def of_person(self, person_id: int, now: int) -> list[SessionRecord]:
        """The person's unexpired sessions, newest sign-in first."""
        ...

    def end(self, person_id: int, sid: str | None, now: int) -> list[SessionRecord]:
        """Delete the person's session ``sid`` (all of them when None); returns what ended."""
        ...


def new_cookie_id() -> str:
    return secrets.token_urlsafe(COOKIE_ID_BYTES)


def new_sid() -> str:
    return secrets.token_hex(SID_BYTES)


def is_sid(value: str) -> bool:
    """Whether ``value`` has the form ``new_sid`` makes (before it reaches a store's query)."""
    return len(value) == 2 * SID_BYTES and all(c in "0123456789abcdef" for c in value)


def digest_of(cookie_id: str) -> str:
    """The store key for a cookie id: knowing the key does not give the cookie."""
    return hashlib.sha256(cookie_id.encode("ascii", "replace")).hexdigest()


def _data_key(cookie_id: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"yihao-session-data")
    return hkdf.derive(cookie_id.encode("ascii", "replace"))


def seal(cookie_id: str, data: dict[str, Any]) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = json.dumps(data, separators=(",", ":")).encode()
    return nonce + AESGCM(_data_key(cookie_id)).encrypt(nonce, plain, None)


def unseal(cookie_id: str, sealed: bytes) -> dict[str, Any]:
    """The session's contents; empty when there are none or they do not open with this id."""
    if len(sealed) <= _NONCE_BYTES:
        return {}
    try:
        plain = AESGCM(_data_key(cookie_id)).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None
        )
    except InvalidTag:
        return {}
    data = json.loads(plain)
    return data if isinstance(data, dict) else {}
