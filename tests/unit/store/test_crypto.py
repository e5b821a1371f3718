"""Field encryption is authenticated and bound to its column; the index is keyed."""

from __future__ import annotations

import hashlib
import os

import pytest

from idp.store.crypto import DecryptionError, FieldCipher

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
