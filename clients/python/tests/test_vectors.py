"""docs/formats.md's test vectors, checked byte for byte against the implementation.

The vectors are read from the document itself, so the document cannot drift from the code: a
change to the format fails here until the doc's bytes are regenerated and reviewed.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from yihao.holder import Holder
from yihao.trust import TrustAnchors, key_id
from yihao.verifier import Verifier
from yihao.wire.cose import p1363_verify, verify_sign1
from yihao.wire.credential import CredentialClaims, StatusRef, encode_claims, read_credential
from yihao.wire.errors import Failure
from yihao.wire.fields import CredentialType
from yihao.wire.identifier import certificate_identifier
from yihao.wire.presentation import (
    decode_presentation,
    encode_presentation,
    holder_message,
    time_step,
)
from yihao.wire.qrtext import from_text, to_text
from yihao.wire.status_list import parse_token
from yihao.wire.trust_list import canonical_json, parse_trust_list

FORMATS = Path(__file__).resolve().parents[3] / "docs" / "formats.md"
TIME = 1_796_000_000
_BLOCK = re.compile(r"<!-- vector:([a-z0-9-]+) -->\n```[a-z]*\n(.*?)\n```", re.S)
#: The part of a trust list's catalogue the documented credential needs: type 1 (the resident
#: identity card, with its GB/T 36904 type code) and profile 1 (housing fund). The provider's
#: default catalogue publishes the same entries (tests/unit/test_catalogue_vectors.py checks it).
CATALOGUE = {
    "types": {
        "1": {
            "name": "id_card",
            "type_code": "11100000000013338W011",
            "label_zh": "居民身份证",
            "label_en": "Resident identity card",
        }
    },
    "profiles": {
        "1": {
            "name": "id_card.housing_fund",
            "type": 1,
            "fields": ["name", "id_number"],
            "label_zh": "住房公积金提取",
            "label_en": "Housing-fund withdrawal",
        }
    },
}


@pytest.fixture(scope="module")
def vectors() -> dict[str, str]:
    found = dict(_BLOCK.findall(FORMATS.read_text(encoding="utf-8")))
    assert len(found) == 14, sorted(found)
    return found


def _hex(vectors: dict[str, str], name: str) -> bytes:
    return bytes.fromhex("".join(vectors[name].split()))


def _key(vectors: dict[str, str], name: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(vectors[name], 16), ec.SECP256R1())


def _issuer_der(vectors: dict[str, str]) -> bytes:
    cert = x509.load_pem_x509_certificate(vectors["issuer-certificate"].encode())
    return cert.public_bytes(Encoding.DER)


def documented_claims(holder: Holder) -> CredentialClaims:
    """The inputs the section lists, also what make_vectors.py signs."""
    return CredentialClaims(
        type=CredentialType.ID_CARD,
        profile=1,
        serial=1024,
        version=1,
        not_before=TIME,
        expires=TIME + 604_800,
        holder_key=holder.public_point,
        status=StatusRef(4711, "sl/1"),
        fields={"name": "王秀英", "id_number": "11010519491231002X"},
    )


def test_claims_encode_to_exactly_the_documented_bytes(vectors: dict[str, str]) -> None:
    claims = documented_claims(Holder(_key(vectors, "holder-private-key-d")))
    assert encode_claims(claims) == _hex(vectors, "claims")


def test_credential_carries_the_claims_under_the_issuer_key(vectors: dict[str, str]) -> None:
    credential = _hex(vectors, "credential")
    message, claims = read_credential(credential)
    assert message.payload == _hex(vectors, "claims")
    assert message.protected == bytes.fromhex("a201260448bde6491927c13a2c")
    assert message.kid == key_id(_issuer_der(vectors)) == bytes.fromhex(vectors["kid"])
    assert verify_sign1(message, _key(vectors, "issuer-private-key-d").public_key())
    assert claims.fields == {"name": "王秀英", "id_number": "11010519491231002X"}
    assert claims.status == StatusRef(4711, "sl/1")


def test_presentation_and_qr_text(vectors: dict[str, str]) -> None:
    presentation = _hex(vectors, "presentation")
    decoded = decode_presentation(presentation)
    assert decoded.credential == _hex(vectors, "credential")
    assert decoded.step == int(vectors["step"]) == time_step(TIME)
    assert encode_presentation(decoded) == presentation
    holder = _key(vectors, "holder-private-key-d").public_key()
    signed = holder_message(decoded.credential, decoded.step)
    assert signed[:12] == b"YH1P" + decoded.step.to_bytes(8, "big")
    assert p1363_verify(holder, decoded.holder_signature, signed)
    assert to_text(presentation) == vectors["qr-text"]
    assert from_text(vectors["qr-text"]) == presentation


def test_status_list_token(vectors: dict[str, str]) -> None:
    message, token = parse_token(_hex(vectors, "status-list-token"))
    assert verify_sign1(message, _key(vectors, "issuer-private-key-d").public_key())
    assert message.kid == bytes.fromhex(vectors["kid"])
    assert token.uri == "https://id.example.gov.cn/sl/1"
    assert (token.issued_at, token.expires, token.ttl) == (TIME, TIME + 86400, 3600)
    assert len(token.bits) == 1024
    revoked = [i for i in range(8192) if token.status(i) == 1]
    assert revoked == [3, 4711]


def test_trust_list_is_signed_by_the_trust_list_key(vectors: dict[str, str]) -> None:
    signed = parse_trust_list(_hex(vectors, "trust-list"))
    signer = x509.load_pem_x509_certificate(vectors["trust-list-certificate"].encode())
    assert signed.signer_certificate == signer.public_bytes(Encoding.DER)
    assert signed.message.kid == key_id(signed.signer_certificate)
    assert verify_sign1(signed.message, _key(vectors, "trust-list-private-key-d").public_key())
    assert signed.message.payload == canonical_json(signed.document)
    assert signed.sequence == 7 and signed.document["issued_at"] == TIME
    assert signed.document["issuer_certificates"] == [
        base64.b64encode(_issuer_der(vectors)).decode()
    ]
    assert {k: signed.document[k] for k in CATALOGUE} == CATALOGUE


def test_a_verifier_built_from_the_document_finds_only_the_revocation(
    vectors: dict[str, str],
) -> None:
    verifier = Verifier(
        TrustAnchors.from_pem(vectors["root-certificate"].encode()), clock=lambda: TIME + 10
    )
    verifier.load_trust_list(_hex(vectors, "trust-list"))
    verifier.load_status_list(_hex(vectors, "status-list-token"))
    result = verifier.verify(vectors["qr-text"])
    # Entry 4711 is revoked in the documented list: every other check passes, and a revoked
    # certificate's fields are not handed out.
    assert result.failures == (Failure.REVOKED,)
    assert result.fields == {}
    assert result.identifier == certificate_identifier(
        "11100000000013338W011", "11440000MB2D00014P", 1024, 1
    )
