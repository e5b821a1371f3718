"""Proof of possession at issuance, as OpenID for Verifiable Credential Issuance 1.0 does it.

Without it, any app holding a citizen's ``credentials`` token could bind the citizen's ID card to
a key of its own choosing. So the provider hands out one-time nonces (§7, the Nonce Endpoint) and
binds a credential only to the key that signed a fresh proof over one of them (§8.2.1, the ``jwt``
proof type of Appendix F.1). Nonces live in the shared ``seen_values`` table, so a nonce made by
one node can be spent on any other, and only once: spending it is one conditional DELETE.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import delete

from idp.store.crypto import token_digest
from idp.store.db import claim, db, utcnow
from idp.store.models import SeenValue

#: How long a c_nonce may wait for its proof; short, as nobody needs more than a round trip.
NONCE_TTL_SECONDS = 300
#: How far a proof's ``iat`` may lie from the provider's clock, either way (Appendix F.1).
PROOF_IAT_WINDOW_SECONDS = 120
PROOF_TYPE = "openid4vci-proof+jwt"  # Appendix F.1: the typ header of a jwt proof
PROOF_ALG = "ES256"  # the only key a credential can carry (cnf, docs/formats.md) is P-256
_MAX_PROOF_CHARS = 4096


class ProofError(ValueError):
    """A proof that binds nothing; ``code`` is the §8.3.1.2 error (invalid_proof, invalid_nonce)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Nonce:
    value: str
    expires_in: int


def nonce_key(nonce: str) -> str:
    # A digest: the column holds any nonce whole, and a stolen table row spends nothing.
    return f"c_nonce:{token_digest(nonce)}"


def new_nonce() -> Nonce:
    """A fresh c_nonce (§7.2), remembered server-side until it is spent or expires."""
    value = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=NONCE_TTL_SECONDS)
    db.session.add(SeenValue(key=nonce_key(value), expires_at=expires))
    db.session.commit()
    return Nonce(value, NONCE_TTL_SECONDS)


def spend_nonce(nonce: str) -> bool:
    """True once per nonce, and only before it expires: the database picks the one winner."""
    statement = delete(SeenValue).where(
        SeenValue.key == nonce_key(nonce), SeenValue.expires_at > utcnow()
    )
    return claim(statement)


def _header(proof: str) -> dict[str, Any]:
    try:
        return jws.extract_compact(proof.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise ProofError("invalid_proof", "the proof is not a compact JWS") from None


def _holder_key(header: dict[str, Any]) -> ECKey:
    if header.get("typ") != PROOF_TYPE:
        raise ProofError("invalid_proof", f"the proof's typ must be {PROOF_TYPE}")
    if header.get("alg") != PROOF_ALG:
        raise ProofError("invalid_proof", f"the proof's alg must be {PROOF_ALG}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ProofError("invalid_proof", "the proof's jwk header must be a P-256 public key")
    if "d" in jwk:
        raise ProofError("invalid_proof", "the proof's jwk must be the public key only")
    try:
        return ECKey.import_key(cast(Any, jwk))
    except (JoseError, ValueError, TypeError):
        raise ProofError("invalid_proof", "the proof's jwk is not a point on P-256") from None


def _check_claims(claims: dict[str, Any], audience: str, client_id: str, now: float) -> None:
    if claims.get("aud") != audience:
        raise ProofError("invalid_proof", f"the proof's aud must be {audience}")
    # Appendix F.1: iss is the client_id of the client making the request, when present.
    if "iss" in claims and claims["iss"] != client_id:
        raise ProofError("invalid_proof", "the proof's iss is not this client")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise ProofError("invalid_proof", "the proof needs a numeric iat")
    if abs(now - iat) > PROOF_IAT_WINDOW_SECONDS:
        raise ProofError("invalid_proof", "the proof's iat is too far from now; make a new one")
    if not isinstance(claims.get("nonce"), str):
        raise ProofError("invalid_nonce", "the proof carries no c_nonce; get one first")


def verify_proof(proof: object, audience: str, client_id: str) -> ECKey:
    """The key a valid, fresh proof was signed by; spends its nonce. Raises ProofError."""
    if not isinstance(proof, str) or not 0 < len(proof) <= _MAX_PROOF_CHARS:
        raise ProofError("invalid_proof", 'send proofs: {"jwt": ["<one proof JWT>"]}')
    key = _holder_key(_header(proof))
    try:
        claims = jwt.decode(proof, key, algorithms=[PROOF_ALG]).claims
    except (JoseError, ValueError):
        raise ProofError("invalid_proof", "the proof's signature does not verify") from None
    _check_claims(claims, audience, client_id, time.time())
    if not spend_nonce(claims["nonce"]):
        raise ProofError("invalid_nonce", "this c_nonce is unknown, expired or already used")
    return key


def single_jwt_proof(body: dict[str, Any]) -> object:
    """The one proof of a Credential Request (§8.2: ``proofs`` maps a proof type to a list)."""
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise ProofError("invalid_proof", 'send proofs: {"jwt": ["<one proof JWT>"]}')
    listed = proofs["jwt"]
    if not isinstance(listed, list) or len(listed) != 1:
        raise ProofError("invalid_proof", "send exactly one jwt proof: one credential, one key")
    return listed[0]
