"""QR text: "YH1:" + base45 (RFC 9285) of the presentation, zlib-compressed only if that is shorter.

A zlib stream always starts with 0x78 here (deflate, 32 KiB window) and a presentation always
starts with 0x83 (a CBOR array of three), so the first byte says which one follows and no flag
is spent. Every character is in the QR alphanumeric set, so encoders pick alphanumeric mode.
"""

from __future__ import annotations

import zlib

from yihao.wire import base45
from yihao.wire.errors import Failure, FormatError

PREFIX = "YH1:"
#: QR version 40 at error correction L holds 4,296 alphanumeric characters; nothing longer is a QR.
MAX_TEXT = 4296
MAX_INFLATED = 64 * 1024
_ZLIB_FIRST_BYTE = 0x78


def to_text(body: bytes) -> str:
    packed = zlib.compress(body, 9)
    chosen = packed if len(packed) < len(body) else body
    return PREFIX + base45.encode(chosen)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(data, MAX_INFLATED)
    except zlib.error:
        raise FormatError(Failure.ZLIB, "not a valid zlib stream") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise FormatError(Failure.ZLIB, "truncated, or inflates to more than 64 KiB")
    if inflater.unused_data:  # decompressobj keeps bytes after the stream's end aside, silently
        raise FormatError(Failure.ZLIB, "bytes after the end of the zlib stream")
    return body


def from_text(text: str) -> bytes:
    if len(text) > MAX_TEXT:
        raise FormatError(Failure.TOO_LONG, f"more than {MAX_TEXT} characters")
    if not text.startswith(PREFIX):
        raise FormatError(Failure.PREFIX, f"does not start with {PREFIX}")
    try:
        data = base45.decode(text[len(PREFIX) :])
    except ValueError:
        raise FormatError(Failure.BASE45, "not valid base45") from None
    if not data:
        raise FormatError(Failure.BASE45, "nothing after the prefix")
    return _inflate(data) if data[0] == _ZLIB_FIRST_BYTE else data
