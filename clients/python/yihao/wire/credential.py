"""The credential: a CWT (RFC 8392) whose claims name the holder's key and carry one profile.

Claims map (docs/formats.md "Credential claims")::

    4 exp, 5 nbf                      NumericDate (RFC 8392 §3.1.4, §3.1.5)
    8 cnf: {1: COSE_Key}              holder key, EC2 P-256 with a compressed point (RFC 8747 §3.1)
    -65537: [type, profile, serial, version, [status index, status uri], {field code: value}]

Everything of ours sits under one claim key from the private-use range (RFC 8392 §9.1: below
-65536) and is positional, so the registered claim space is not squatted and each of our items
costs no key byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from yihao.wire.cose import DECODE_ERRORS, Sign1, loads_exact, parse_sign1, sign1
from yihao.wire.errors import Failure, FormatError
from yihao.wire.fields import BY_NAME, CredentialType, decode_value, encode_value

CLAIM_EXP = 4
CLAIM_NBF = 5
CLAIM_CNF = 8
CLAIM_YIHAO = -65537
CNF_COSE_KEY = 1  # RFC 8747 §3.1
# RFC 9052 §7 / RFC 9053 §7.1: kty 1, crv -1, x -2, y -3; kty EC2 = 2, crv P-256 = 1
_KTY, _CRV, _X, _Y = 1, -1, -2, -3
_EC2, _P256 = 2, 1
_COMPRESSED_EVEN, _COMPRESSED_ODD = 0x02, 0x03


@dataclass(frozen=True)
class StatusRef:
    """Where this credential's bit lives: index into the list at ``uri``.

    ``uri`` is a URI reference (RFC 3986 §4.1) resolved against the issuer URL of the signing
    certificate plus "/", so the usual value is as short as "sl/1".
    """

    index: int
    uri: str


@dataclass(frozen=True)
class CredentialClaims:
    type: CredentialType
    profile: int
    serial: int
    version: int
    not_before: int
    expires: int
    holder_key: bytes  # SEC1 compressed P-256 point, 33 bytes
    status: StatusRef
    fields: dict[str, Any]  # field name -> JSON form (yihao.wire.fields)

    def holder_public_key(self) -> ec.EllipticCurvePublicKey:
        """Raises ValueError when the point is not on P-256."""
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), self.holder_key)


def compress_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def _cose_key(point: bytes) -> dict[int, Any]:
    return {_KTY: _EC2, _CRV: _P256, _X: point[1:], _Y: point[0] == _COMPRESSED_ODD}


def encode_claims(claims: CredentialClaims) -> bytes:
    """Deterministic CBOR (RFC 8949 §4.2.1) so that the test vectors hold byte for byte."""
    fields = {
        BY_NAME[name].code: encode_value(name, value) for name, value in claims.fields.items()
    }
    ours = [
        int(claims.type),
        claims.profile,
        claims.serial,
        claims.version,
        [claims.status.index, claims.status.uri],
        fields,
    ]
    body = {
        CLAIM_EXP: claims.expires,
        CLAIM_NBF: claims.not_before,
        CLAIM_CNF: {CNF_COSE_KEY: _cose_key(claims.holder_key)},
        CLAIM_YIHAO: ours,
    }
    return cbor2.dumps(body, canonical=True)


def _bad(detail: str) -> FormatError:
    return FormatError(Failure.CLAIMS, detail)


def _uint(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"{what} is an unsigned integer")
    return value


def _holder_key(cnf: object) -> bytes:
    key = cnf.get(CNF_COSE_KEY) if isinstance(cnf, dict) else None
    if not isinstance(key, dict) or key.get(_KTY) != _EC2 or key.get(_CRV) != _P256:
        raise _bad("cnf holds an EC2 P-256 COSE_Key")
    x, y = key.get(_X), key.get(_Y)
    if not isinstance(x, bytes) or len(x) != 32 or not isinstance(y, bool):
        raise _bad("the holder key is a 32-byte x with a sign bit")
    # Whether x is on the curve is found when the key is first used (holder_public_key): the
    # point decompression is the costliest step of decoding, and a verifier needs it once.
    return bytes([_COMPRESSED_ODD if y else _COMPRESSED_EVEN]) + x


def _status(value: object) -> StatusRef:
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise _bad("the status reference is [index, uri]")
    return StatusRef(_uint(value[0], "the status index"), value[1])


def _fields(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise _bad("the disclosed fields are a non-empty map")
    out: dict[str, Any] = {}
    for code, item in value.items():
        name, decoded = decode_value(_uint(code, "a field code"), item)
        out[name] = decoded
    return out


def _type(value: object) -> CredentialType:
    try:
        return CredentialType(_uint(value, "the type"))
    except ValueError:
        raise _bad("unknown certificate type") from None


def decode_claims(payload: bytes) -> CredentialClaims:
    try:
        body = loads_exact(payload)
    except DECODE_ERRORS:
        raise FormatError(Failure.CBOR, "the payload is not one well-formed CBOR item") from None
    if not isinstance(body, dict):
        raise _bad("the claims are a map")
    ours = body.get(CLAIM_YIHAO)
    if not isinstance(ours, list) or len(ours) != 6:
        raise _bad(f"claim {CLAIM_YIHAO} is an array of six items")
    return CredentialClaims(
        type=_type(ours[0]),
        profile=_uint(ours[1], "the profile"),
        serial=_uint(ours[2], "the serial"),
        version=_uint(ours[3], "the version"),
        not_before=_uint(body.get(CLAIM_NBF), "nbf"),
        expires=_uint(body.get(CLAIM_EXP), "exp"),
        holder_key=_holder_key(body.get(CLAIM_CNF)),
        status=_status(ours[4]),
        fields=_fields(ours[5]),
    )


def sign_credential(
    claims: CredentialClaims, kid: bytes, private_key: ec.EllipticCurvePrivateKey
) -> bytes:
    return sign1(encode_claims(claims), kid, private_key)


def read_credential(data: bytes) -> tuple[Sign1, CredentialClaims]:
    """Structure and claims; the issuer signature is the verifier's to check."""
    message = parse_sign1(data)
    return message, decode_claims(message.payload)
