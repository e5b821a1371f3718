"""Field encryption is authenticated and bound to its column; the index is keyed."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from idp.store.crypto import DecryptionError, FieldCipher, key_id

NUMBER = "11010519491231002X"


@pytest.fixture()
def cipher() -> FieldCipher:
    return FieldCipher(os.urandom(32), os.urandom(32))


def test_round_trip_and_fresh_nonce(cipher: FieldCipher) -> None:
    one, two = cipher.encrypt(NUMBER, "persons.number"), cipher.encrypt(NUMBER, "persons.number")
    assert one != two and NUMBER.encode() not in one
    assert cipher.decrypt(one, "persons.number") == NUMBER


def test_ciphertext_cannot_move_to_another_column(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(NUMBER, "persons.number")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, "persons.name")


def test_tampering_is_detected(cipher: FieldCipher) -> None:
    blob = bytearray(cipher.encrypt(NUMBER, "persons.number"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "persons.number")


def test_another_key_cannot_decrypt(cipher: FieldCipher) -> None:
    other = FieldCipher(os.urandom(32), os.urandom(32))
    with pytest.raises(DecryptionError):
        other.decrypt(cipher.encrypt(NUMBER, "c"), "c")


def test_index_is_keyed_and_deterministic(cipher: FieldCipher) -> None:
    assert cipher.index(NUMBER, "persons.number") == cipher.index(NUMBER, "persons.number")
    assert cipher.index(NUMBER, "persons.number") != hashlib.sha256(NUMBER.encode()).hexdigest()
    other = FieldCipher(cipher.data_key, os.urandom(32))
    assert other.index(NUMBER, "persons.number") != cipher.index(NUMBER, "persons.number")


def _unnamed(key: bytes, plaintext: str, context: str) -> bytes:
    """Ciphertext as it was written before keys were named (version 1)."""
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())


def test_ciphertext_names_its_key_and_not_the_key_itself(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(NUMBER, "c")
    assert blob[:5] == b"\x02" + key_id(cipher.data_key)
    assert key_id(cipher.data_key) not in cipher.data_key
    assert cipher.is_current(blob) and cipher.reencrypt(blob, "c") is None


def test_after_a_rotation_the_fallback_decrypts_both_formats(cipher: FieldCipher) -> None:
    named, unnamed = cipher.encrypt(NUMBER, "c"), _unnamed(cipher.data_key, NUMBER, "c")
    rotated = FieldCipher(os.urandom(32), cipher.index_key, (os.urandom(32), cipher.data_key))
    for blob in (named, unnamed):
        assert rotated.decrypt(blob, "c") == NUMBER and not rotated.is_current(blob)
        moved = rotated.reencrypt(blob, "c")
        assert moved is not None and rotated.is_current(moved)
        assert FieldCipher(rotated.data_key, cipher.index_key).decrypt(moved, "c") == NUMBER
    assert cipher.decrypt(unnamed, "c") == NUMBER  # the old format under the current key


def test_a_missing_key_is_named_in_the_error(cipher: FieldCipher) -> None:
    other = FieldCipher(os.urandom(32), cipher.index_key)
    blob = cipher.encrypt(NUMBER, "persons.number")
    wanted = key_id(cipher.data_key).hex()
    with pytest.raises(DecryptionError, match=f"persons.number was made under data key {wanted}"):
        other.decrypt(blob, "persons.number")
    with pytest.raises(DecryptionError, match="IDP_DATA_KEY or any of IDP_DATA_KEY_FALLBACKS"):
        other.decrypt(_unnamed(cipher.data_key, NUMBER, "c"), "c")
    with pytest.raises(DecryptionError, match="unknown ciphertext version"):
        other.decrypt(b"\x07" + blob[1:], "c")
