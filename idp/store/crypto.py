"""Encryption of personal data at rest and the keyed index that finds it.

Identity numbers, names, phone numbers and addresses are stored only as AES-256-GCM ciphertext,
bound to their table and column (associated data) so a ciphertext cannot be moved to another row
kind. Lookups by number go through HMAC-SHA-256 under a separate key: an unkeyed hash of an 18-digit
number with a known structure is brute-forced in minutes, a keyed one is not.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """Ciphertext was altered, moved to another column, or made under another key."""


@dataclass(frozen=True)
class FieldCipher:
    data_key: bytes
    index_key: bytes

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.data_key).encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] != _VERSION:
            raise DecryptionError("unknown ciphertext version")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return AESGCM(self.data_key).decrypt(nonce, sealed, context.encode()).decode()
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
