"""Encryption of personal data at rest and the keyed index that finds it.

Identity numbers, names, phone numbers and addresses are stored only as AES-256-GCM ciphertext,
bound to their table and column (associated data) so a ciphertext cannot be moved to another row
kind. Lookups by number go through HMAC-SHA-256 under a separate key: an unkeyed hash of an 18-digit
number with a known structure is brute-forced in minutes, a keyed one is not.

Ciphertext names the data key it was made under (a 4-byte id derived from the key), so the key
can be rotated: ``IDP_DATA_KEY`` encrypts, older keys in ``IDP_DATA_KEY_FALLBACKS`` still
decrypt, and ``idp db re-encrypt`` (``idp.store.reencrypt``) moves every row to the current key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: version ‖ nonce ‖ sealed: made before keys were named, under the current key or a fallback.
_UNNAMED = b"\x01"
#: version ‖ key id ‖ nonce ‖ sealed.
_VERSION = b"\x02"
KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER = len(_VERSION) + KEY_ID_BYTES


class DecryptionError(ValueError):
    """Ciphertext was altered, moved to another column, or made under another key."""


def key_id(data_key: bytes) -> bytes:
    """The name a ciphertext gives its key: a keyed digest, so it tells nothing of the key."""
    return hmac.new(data_key, b"yihao-data-key-id", hashlib.sha256).digest()[:KEY_ID_BYTES]


@dataclass(frozen=True)
class FieldCipher:
    data_key: bytes
    index_key: bytes
    #: Older data keys (``IDP_DATA_KEY_FALLBACKS``): they decrypt, never encrypt.
    data_key_fallbacks: tuple[bytes, ...] = ()

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.data_key).encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + key_id(self.data_key) + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] == _VERSION:
            return self._open(self._named_key(blob, context), blob[_HEADER:], context)
        if blob[:1] == _UNNAMED:
            for key in (self.data_key, *self.data_key_fallbacks):
                try:
                    return self._open(key, blob[1:], context)
                except DecryptionError:
                    continue
            raise DecryptionError(
                f"ciphertext for {context} does not authenticate under IDP_DATA_KEY or any of "
                "IDP_DATA_KEY_FALLBACKS"
            )
        raise DecryptionError(f"unknown ciphertext version for {context}")

    def is_current(self, blob: bytes) -> bool:
        """Whether ``blob`` is already in the newest format under the current data key."""
        return blob[:_HEADER] == _VERSION + key_id(self.data_key)

    def reencrypt(self, blob: bytes, context: str) -> bytes | None:
        """``blob`` under the current key and format, or None when it is that already."""
        return None if self.is_current(blob) else self.encrypt(self.decrypt(blob, context), context)

    def _named_key(self, blob: bytes, context: str) -> bytes:
        wanted = blob[len(_VERSION) : _HEADER]
        for key in (self.data_key, *self.data_key_fallbacks):
            if hmac.compare_digest(key_id(key), wanted):
                return key
        raise DecryptionError(
            f"ciphertext for {context} was made under data key {wanted.hex()}, which is neither "
            "IDP_DATA_KEY nor one of IDP_DATA_KEY_FALLBACKS"
        )

    @staticmethod
    def _open(key: bytes, body: bytes, context: str) -> str:
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, sealed, context.encode()).decode()
        except InvalidTag:
            raise DecryptionError(f"ciphertext for {context} does not authenticate") from None

    def index(self, value: str, context: str) -> str:
        """Deterministic keyed digest used as a unique lookup column."""
        mac = hmac.new(self.index_key, f"{context}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A sub-key for another keyed use (pairwise subjects) so one secret never serves two."""
        return hmac.new(self.index_key, purpose.encode(), hashlib.sha256).digest()


def token_digest(token: str) -> str:
    """Tokens and codes are stored as SHA-256 digests: a database dump hands out no live tokens.

    They are 256-bit random strings, so an unkeyed hash is safe here, unlike identity numbers.
    """
    return hashlib.sha256(token.encode()).hexdigest()
