"""The signed trust list (docs/formats.md "Trust list"): a JSON document inside a COSE_Sign1.

    COSE_Sign1 (tag 18), ES256, protected {1: -7, 4: kid, 16: TYP, 33: signer certificate DER}
      payload = the trust list as UTF-8 JSON, keys sorted, no insignificant whitespace

The envelope is COSE like every other signed object here, so a verifier needs one signature
format and one ES256 check; the payload stays the JSON document operators and other tools read.
The signer's certificate travels in the protected header (RFC 9360 §2), so a verifier holding
only the pinned root can check it, and it is signed along with the list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from yihao.wire.cose import Sign1, parse_sign1, sign1
from yihao.wire.errors import FormatError

TYP = "application/yihao-trust-list+cose"
MEDIA_TYPE = "application/cose"
#: Far more than any real list (a few certificates and a catalogue), far less than a memory bomb.
MAX_BYTES = 1 << 20


class TrustListError(ValueError):
    """Not a trust list this verifier can accept; the message says what is wrong."""


@dataclass(frozen=True)
class SignedTrustList:
    message: Sign1
    document: dict[str, Any]
    sequence: int
    signer_certificate: bytes


def canonical_json(document: dict[str, Any]) -> bytes:
    """One byte string per document, so "the same content" means the same bytes on every node."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encode_trust_list(
    document: dict[str, Any],
    kid: bytes,
    certificate_der: bytes,
    private_key: ec.EllipticCurvePrivateKey,
) -> bytes:
    return sign1(canonical_json(document), kid, private_key, typ=TYP, x5chain=certificate_der)


def _sequence(document: dict[str, Any]) -> int:
    value = document.get("sequence")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise TrustListError("the trust list's sequence is not a positive integer")
    return value


def parse_trust_list(data: bytes) -> SignedTrustList:
    """Structure only: the caller validates the certificate and then the signature."""
    if len(data) > MAX_BYTES:
        raise TrustListError("the trust list is too large")
    try:
        message = parse_sign1(data)
    except FormatError as exc:
        raise TrustListError(f"not a signed trust list: {exc.detail}") from None
    if message.typ != TYP or message.x5chain is None:
        raise TrustListError(f"typ is not {TYP}, or the signer's certificate is missing")
    try:
        document = json.loads(message.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TrustListError("the trust list payload is not JSON") from None
    if not isinstance(document, dict):
        raise TrustListError("a trust list is a JSON object")
    return SignedTrustList(message, document, _sequence(document), message.x5chain)
