"""COSE_Sign1 with ES256 (RFC 9052 §4.2 and §4.4, RFC 9053 §2.1), the only shape this format uses.

Written by hand over cbor2 and cryptography rather than with pycose: a verifier at a counter
checks one structure with one algorithm, and the general library's object model costs more time
per verification than the signature check itself. Everything else (CBOR, ECDSA) is the libraries'.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from yihao.wire.errors import Failure, FormatError

COSE_SIGN1_TAG = 18  # RFC 9052 §4.2
HEADER_ALG = 1
HEADER_KID = 4
HEADER_TYP = 16  # RFC 9596
HEADER_X5CHAIN = 33  # RFC 9360 §2: one certificate as a bstr
ALG_ES256 = -7  # RFC 9053 §2.1
KID_BYTES = 8
_COORDINATE = 32
_ECDSA = ec.ECDSA(hashes.SHA256())

#: What cbor2 raises on hostile input besides its own errors (deep nesting, huge lengths).
DECODE_ERRORS = (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, KeyError)


class TrailingBytes(ValueError):
    """Well-formed CBOR followed by more bytes: one item was expected and something else came."""


def loads_exact(data: bytes) -> Any:
    """Exactly one CBOR item, nothing after it (RFC 8949 §5.1: a sequence is not an item).

    ``cbor2.loads`` stops after the first item and ignores the rest, so bytes appended to a
    presentation or a COSE structure would ride along unnoticed.
    """
    stream = BytesIO(data)
    item = cbor2.CBORDecoder(stream).decode()
    if stream.tell() != len(data):
        raise TrailingBytes("bytes after the CBOR item")
    return item


@dataclass(frozen=True)
class Sign1:
    protected: bytes  # the serialized protected header, exactly as signed
    kid: bytes
    typ: str | None
    payload: bytes
    signature: bytes
    x5chain: bytes | None = None  # the signer's certificate (DER), when the header carries it


def p1363_signature(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA P-256 over SHA-256 as r || s (RFC 9053 §2.1), the form WebCrypto also produces."""
    r, s = decode_dss_signature(private_key.sign(message, _ECDSA))
    return r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")


def p1363_verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != 2 * _COORDINATE:
        return False
    r = int.from_bytes(signature[:_COORDINATE], "big")
    s = int.from_bytes(signature[_COORDINATE:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), message, _ECDSA)
    except InvalidSignature:
        return False
    return True


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    # RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(
    payload: bytes,
    kid: bytes,
    private_key: ec.EllipticCurvePrivateKey,
    typ: str | None = None,
    x5chain: bytes | None = None,
) -> bytes:
    """A tagged COSE_Sign1 with alg and kid (typ, x5chain when given) protected, no unprotected."""
    header: dict[int, Any] = {HEADER_ALG: ALG_ES256, HEADER_KID: kid}
    if typ is not None:
        header[HEADER_TYP] = typ
    if x5chain is not None:
        header[HEADER_X5CHAIN] = x5chain
    protected = cbor2.dumps(header, canonical=True)
    signature = p1363_signature(private_key, _to_be_signed(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def _bad(detail: str) -> FormatError:
    return FormatError(Failure.CBOR, detail)


def _load(data: bytes) -> Any:
    try:
        return loads_exact(data)
    except DECODE_ERRORS:
        raise _bad("not well-formed CBOR, or bytes after it") from None


def parse_sign1(data: bytes) -> Sign1:
    """Structure only; the signature is checked by ``verify_sign1`` once the key is known."""
    item = _load(data)
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        raise _bad("not a tagged COSE_Sign1")
    body = item.value
    if not isinstance(body, list | tuple) or len(body) != 4:
        raise _bad("a COSE_Sign1 is an array of four items")
    protected, unprotected, payload, signature = body
    if not all(isinstance(x, bytes) for x in (protected, payload, signature)):
        raise _bad("protected header, payload and signature are byte strings")
    if unprotected != {}:  # docs/formats.md: everything that matters is signed
        raise _bad("the unprotected header must be an empty map")
    header = _load(protected)
    if not isinstance(header, dict) or header.get(HEADER_ALG) != ALG_ES256:
        raise _bad("the protected header must name ES256")
    kid, typ = header.get(HEADER_KID), header.get(HEADER_TYP)
    x5chain = header.get(HEADER_X5CHAIN)
    if not isinstance(kid, bytes) or len(kid) != KID_BYTES:
        raise _bad("the protected header carries an 8-byte kid")
    if typ is not None and not isinstance(typ, str):
        raise _bad("typ is a text string")
    if x5chain is not None and not isinstance(x5chain, bytes):
        raise _bad("x5chain is one certificate as a byte string")
    return Sign1(protected, kid, typ, payload, signature, x5chain)


def verify_sign1(message: Sign1, public_key: ec.EllipticCurvePublicKey) -> bool:
    return p1363_verify(
        public_key, message.signature, _to_be_signed(message.protected, message.payload)
    )
