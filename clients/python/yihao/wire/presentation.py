"""The presentation: what the phone shows, a credential and the holder's signature over a time step.

    presentation = [credential: bstr (tagged COSE_Sign1), step: uint, holder_sig: bstr .size 64]
    step = floor(unix time / 30)
    holder signature = ES256 (r || s) over  "YH1P" || step as 8-byte big-endian || credential

The signed message is plain concatenation rather than a CBOR structure so that a wallet page can
build it with a DataView and hand it to WebCrypto unchanged. The step travels in the clear, so a
verifier checks exactly one holder signature and can tell a stale step from a forged one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cbor2

from yihao.wire.cose import DECODE_ERRORS, loads_exact
from yihao.wire.errors import Failure, FormatError

STEP_SECONDS = 30
HOLDER_CONTEXT = b"YH1P"
_SIGNATURE = 64


@dataclass(frozen=True)
class Presentation:
    credential: bytes
    step: int
    holder_signature: bytes


def time_step(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def holder_message(credential: bytes, step: int) -> bytes:
    return HOLDER_CONTEXT + step.to_bytes(8, "big") + credential


def encode_presentation(presentation: Presentation) -> bytes:
    return cbor2.dumps([presentation.credential, presentation.step, presentation.holder_signature])


def decode_presentation(body: bytes) -> Presentation:
    try:
        item = loads_exact(body)
    except DECODE_ERRORS:
        raise FormatError(Failure.CBOR, "not one well-formed CBOR item") from None
    if not isinstance(item, list) or len(item) != 3:
        raise FormatError(Failure.CBOR, "a presentation is an array of three items")
    credential, step, signature = item
    if not isinstance(credential, bytes) or not isinstance(signature, bytes):
        raise FormatError(Failure.CBOR, "credential and holder signature are byte strings")
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < 2**63:
        raise FormatError(Failure.CBOR, "the time step is an unsigned integer")
    if len(signature) != _SIGNATURE:
        raise FormatError(Failure.CBOR, "the holder signature is 64 bytes")
    return Presentation(credential, step, signature)
