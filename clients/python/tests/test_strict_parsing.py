"""Strict parsing (docs/formats.md "QR text", "Credential"): nothing rides along unsigned.

Each test starts from a real credential and presentation, so the one change it makes is the only
thing that can make the verdict fail.
"""

from __future__ import annotations

import zlib

import cbor2
import pytest
from sdk_world import World
from yihao.verifier import Result
from yihao.wire import base45
from yihao.wire.cose import COSE_SIGN1_TAG, loads_exact
from yihao.wire.errors import Failure, FormatError
from yihao.wire.qrtext import PREFIX, from_text
from yihao.wire.status_list import parse_token


def qr(body: bytes) -> str:
    return PREFIX + base45.encode(body)


def only(result: Result, failure: Failure) -> None:
    assert result.failures == (failure,), result.details
    assert not result.valid


def test_the_unmodified_presentation_is_valid(world: World) -> None:
    assert world.verifier().verify(world.text()).valid


def test_bytes_after_the_presentation(world: World) -> None:
    body = from_text(world.text())

    only(world.verifier().verify(qr(body + b"\x00")), Failure.CBOR)


def test_bytes_after_the_cose_structure_even_when_the_holder_signed_them(world: World) -> None:
    # The holder signature covers the padded bytes, so only strict parsing can refuse them.
    padded = world.credential() + b"\xf6"

    only(world.verifier().verify(world.text(padded)), Failure.CBOR)


def test_bytes_after_the_zlib_stream(world: World) -> None:
    stream = zlib.compress(from_text(world.text()), 9)
    assert world.verifier().verify(qr(stream)).valid

    only(world.verifier().verify(qr(stream + b"\x00\x01")), Failure.ZLIB)


def test_a_non_empty_unprotected_header(world: World) -> None:
    tag = loads_exact(world.credential())
    protected, _, payload, signature = tag.value
    # The issuer signature stays valid: the unprotected header is outside it (RFC 9052 §4.4).
    forged = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {4: b"x"}, payload, signature]))

    only(world.verifier().verify(world.text(forged)), Failure.CBOR)


def test_bytes_after_a_status_list_token(world: World) -> None:
    with pytest.raises(FormatError):
        parse_token(world.status_list() + b"\x00")


def test_bytes_after_the_status_list_zlib_stream(world: World) -> None:
    protected, unprotected, payload, signature = loads_exact(world.status_list()).value
    claims = dict(loads_exact(payload))
    body = dict(claims[65533])
    claims[65533] = {**body, "lst": body["lst"] + b"\x00"}
    forged = [protected, unprotected, cbor2.dumps(claims), signature]

    with pytest.raises(FormatError, match="trailed"):
        parse_token(cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, forged)))
