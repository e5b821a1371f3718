"""Token Status List in CWT form (draft-ietf-oauth-status-list, §4.2 and §5.2), one bit per entry.

The list is a zlib-compressed byte string; entry ``i`` is bit ``i % 8`` (least significant first)
of byte ``i // 8`` (§4.1). 0 is VALID, 1 is INVALID (§7.1). A token is a COSE_Sign1 by the
credential issuer with typ "application/statuslist+cwt", its subject the list's own URI.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from yihao.wire.cose import DECODE_ERRORS, Sign1, loads_exact, parse_sign1, sign1
from yihao.wire.errors import Failure, FormatError

TYP = "application/statuslist+cwt"
VALID, INVALID = 0, 1
CLAIM_SUB, CLAIM_EXP, CLAIM_IAT = 2, 4, 6
CLAIM_TTL, CLAIM_STATUS_LIST = 65534, 65533
_MAX_ENTRIES = 1 << 24


@dataclass(frozen=True)
class StatusListToken:
    uri: str
    issued_at: int
    expires: int | None
    ttl: int | None
    bits: bytes  # decompressed, one bit per entry

    def status(self, index: int) -> int | None:
        """The entry's status, or None when the index lies beyond the list."""
        byte = index // 8
        if index < 0 or byte >= len(self.bits):
            return None
        return (self.bits[byte] >> (index % 8)) & 1


def pack(invalid: Iterable[int], size: int) -> bytes:
    bits = bytearray((size + 7) // 8)
    for index in invalid:
        bits[index // 8] |= 1 << (index % 8)
    return bytes(bits)


def encode_token(
    token: StatusListToken, kid: bytes, private_key: ec.EllipticCurvePrivateKey
) -> bytes:
    claims: dict[int, Any] = {
        CLAIM_SUB: token.uri,
        CLAIM_IAT: token.issued_at,
        CLAIM_STATUS_LIST: {"bits": 1, "lst": zlib.compress(token.bits, 9)},
    }
    if token.expires is not None:
        claims[CLAIM_EXP] = token.expires
    if token.ttl is not None:
        claims[CLAIM_TTL] = token.ttl
    return sign1(cbor2.dumps(claims, canonical=True), kid, private_key, typ=TYP)


def _optional_uint(value: object, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(Failure.STATUS_UNKNOWN, f"{what} is not an unsigned integer")
    return value


def _inflate(lst: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        bits = inflater.decompress(lst, _MAX_ENTRIES // 8)
    except zlib.error:
        raise FormatError(Failure.STATUS_UNKNOWN, "the list is not valid zlib") from None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise FormatError(Failure.STATUS_UNKNOWN, "the list is truncated, too large or trailed")
    return bits


def parse_token(data: bytes) -> tuple[Sign1, StatusListToken]:
    """Structure only: the caller checks the signature with a trusted issuer's key."""
    try:
        message = parse_sign1(data)
        claims = loads_exact(message.payload)
    except (FormatError, *DECODE_ERRORS):
        raise FormatError(Failure.STATUS_UNKNOWN, "not a status list token") from None
    if message.typ != TYP or not isinstance(claims, dict):
        raise FormatError(Failure.STATUS_UNKNOWN, f"typ is not {TYP}")
    body = claims.get(CLAIM_STATUS_LIST)
    uri, iat = claims.get(CLAIM_SUB), _optional_uint(claims.get(CLAIM_IAT), "iat")
    if not isinstance(uri, str) or iat is None or not isinstance(body, dict):
        raise FormatError(Failure.STATUS_UNKNOWN, "sub, iat and status_list are required")
    if body.get("bits") != 1 or not isinstance(body.get("lst"), bytes):
        raise FormatError(Failure.STATUS_UNKNOWN, "only 1-bit lists are understood")
    token = StatusListToken(
        uri=uri,
        issued_at=iat,
        expires=_optional_uint(claims.get(CLAIM_EXP), "exp"),
        ttl=_optional_uint(claims.get(CLAIM_TTL), "ttl"),
        bits=_inflate(body["lst"]),
    )
    return message, token
