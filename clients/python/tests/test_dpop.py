"""The SDK's DPoP proofs (RFC 9449 4.2) read back with joserfc, as the provider reads them."""

from __future__ import annotations

import requests
from joserfc import jws, jwt
from joserfc.jwk import ECKey
from yihao.oidc.rfc9449 import DPoPKey, access_token_hash


def read(proof: str) -> tuple[dict[str, object], dict[str, object]]:
    """Header and claims, verified with the key the proof carries (RFC 9449 4.3 step 6)."""
    header = jws.extract_compact(proof.encode()).headers()
    token = jwt.decode(proof, ECKey.import_key(header["jwk"]))
    return dict(token.header), dict(token.claims)


def answered(url: str, nonce: str) -> requests.Response:
    response = requests.Response()
    response.url = url
    response.headers["DPoP-Nonce"] = nonce
    return response


def test_a_proof_names_the_request_and_carries_only_the_public_key() -> None:
    key = DPoPKey(clock=lambda: 1_700_000_000)
    header, claims = read(key.proof("post", "https://idp.example/token?x=1#f"))
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert "d" not in header["jwk"]  # type: ignore[operator]
    assert claims["htm"] == "POST" and claims["htu"] == "https://idp.example/token"
    assert claims["iat"] == 1_700_000_000 and "ath" not in claims and "nonce" not in claims
    again = read(key.proof("POST", "https://idp.example/token"))[1]
    assert again["jti"] != claims["jti"]  # RFC 9449 4.2: unique per proof


def test_at_a_resource_the_proof_hashes_the_access_token() -> None:
    claims = read(DPoPKey().proof("GET", "https://idp.example/userinfo", "tok-123"))[1]
    assert claims["ath"] == access_token_hash("tok-123")
    # RFC 9449 4.2's own example: ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    sample = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert access_token_hash(sample) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def test_a_servers_nonce_goes_into_later_proofs_for_that_server_only() -> None:
    key = DPoPKey()
    key.remember_nonce(answered("https://idp.example/token", "n-1"))
    assert read(key.proof("GET", "https://idp.example/userinfo"))[1]["nonce"] == "n-1"
    assert "nonce" not in read(key.proof("GET", "https://other.example/api"))[1]
    key.remember_nonce(answered("https://idp.example/userinfo", "n-2"))
    assert read(key.proof("POST", "https://idp.example/token"))[1]["nonce"] == "n-2"
