"""The holder's key proof (OpenID4VCI 1.0 Appendix F.1), read back with joserfc as an issuer
would read it: the key in the header verifies the signature, and the claims are what was asked."""

from __future__ import annotations

import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from yihao.holder import Holder

ISSUER = "https://id.example.gov.cn"


def _read(proof: str) -> tuple[dict[str, object], dict[str, object]]:
    header = jws.extract_compact(proof.encode()).headers()
    token = jwt.decode(proof, ECKey.import_key(header["jwk"]), algorithms=["ES256"])
    return header, token.claims


def test_a_proof_is_signed_by_the_key_it_names() -> None:
    holder = Holder()
    header, claims = _read(holder.proof("n-1", ISSUER, client_id="app", now=1_796_000_000))
    assert header["typ"] == "openid4vci-proof+jwt" and header["alg"] == "ES256"
    assert header["jwk"] == holder.public_jwk()
    assert "d" not in header["jwk"]  # type: ignore[operator]
    assert claims == {"aud": ISSUER, "iat": 1_796_000_000, "nonce": "n-1", "iss": "app"}


def test_a_proof_names_no_client_unless_asked() -> None:
    _, claims = _read(Holder().proof("n-2", ISSUER))
    assert "iss" not in claims and claims["nonce"] == "n-2"


def test_another_holders_key_does_not_verify_the_proof() -> None:
    proof = Holder().proof("n-3", ISSUER)
    with pytest.raises(BadSignatureError):
        jwt.decode(proof, ECKey.import_key(Holder().public_jwk()), algorithms=["ES256"])
