"""DPoP, RFC 9449: sender-constrained tokens, bound to the thumbprint of the client's key.

Written here because Authlib has no server-side DPoP. A proof is a JWS the client signs for one
request; the token endpoint binds what it issues to the proof key's RFC 7638 thumbprint (the
``jkt``, kept on the token row), and a resource accepts the token only with a fresh proof by the
same key. ``htu`` is compared with the configured issuer plus the path, never with the Host the
request arrived on: behind the TLS proxy Flask sees http and an inner host. A proof's ``jti`` is
remembered in the shared ``seen_values`` table, so a proof spent on one node fails on every other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import timedelta
from typing import Any

from flask import g, request
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from idp.services import services
from idp.store.db import utcnow
from idp.store.replay import spend_once

PROOF_TYPE = "dpop+jwt"  # RFC 9449 4.2
#: Asymmetric only: RFC 9449 4.2 forbids ``none`` and MAC algorithms (there is no shared key).
ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
#: How old a proof may be, and how far ahead of our clock (RFC 9449 11.1: "a reasonable window").
IAT_PAST_SECONDS = 60
IAT_FUTURE_SECONDS = 5
_KEY_TYPES = {"EC": ECKey, "RSA": RSAKey, "OKP": OKPKey}
#: JWK members that only a private (or symmetric) key has (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037 2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_PROOF_CHARS = 8192


class DPoPError(ValueError):
    """A proof that proves nothing; the description says which rule it broke."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def verify_proof(proof: str, method: str, path: str, access_token: str | None = None) -> str:
    """Check a DPoP proof for ``method`` on the issuer's ``path`` (RFC 9449 4.3); returns the
    thumbprint of its key. With ``access_token`` (a resource), the proof must carry its ``ath``."""
    if not proof or len(proof) > _MAX_PROOF_CHARS:
        raise DPoPError("the DPoP proof is missing or too long")
    header = _header(proof)
    if header.get("typ") != PROOF_TYPE:  # RFC 9449 4.3 (4)
        raise DPoPError(f"the proof's typ must be {PROOF_TYPE}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:  # RFC 9449 4.3 (5)
        raise DPoPError("the proof's alg must be one of " + " ".join(ALGORITHMS))
    key = _public_key(header.get("jwk"))
    try:
        signed = jws.deserialize_compact(proof, key, algorithms=[str(alg)])
        claims = _json_object(signed.payload)
    except (JoseError, ValueError):
        raise DPoPError("the proof's signature does not verify with its jwk") from None
    _check_claims(claims, method, path, access_token)
    thumbprint = str(key.thumbprint())
    _spend_jti(thumbprint, claims["jti"])
    return thumbprint


def _header(proof: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(proof.encode("ascii")).headers())
    except (JoseError, ValueError, UnicodeError):
        raise DPoPError("the DPoP proof is not a compact JWS") from None


def _public_key(jwk: object) -> ECKey | RSAKey | OKPKey:
    # RFC 9449 4.3 (7): the jwk header is a public key; a private one is refused, not trimmed.
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & set(jwk):
        raise DPoPError("the proof's jwk must be a public key")
    kind = _KEY_TYPES.get(str(jwk.get("kty")))
    if kind is None:
        raise DPoPError("the proof's jwk has an unsupported kty")
    try:
        return kind.import_key(jwk)  # type: ignore[attr-defined,no-any-return]
    except (JoseError, ValueError, TypeError):
        raise DPoPError("the proof's jwk is not a valid key") from None


def _json_object(payload: bytes) -> dict[str, Any]:
    decoded = json.loads(payload)
    if not isinstance(decoded, dict):
        raise ValueError("not an object")
    return decoded


def _check_claims(claims: dict[str, Any], method: str, path: str, access_token: str | None) -> None:
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not jti or len(jti) > 256:  # RFC 9449 4.2
        raise DPoPError("the proof has no jti")
    if claims.get("htm") != method:  # RFC 9449 4.3 (8)
        raise DPoPError("the proof's htm is not this request's method")
    if claims.get("htu") != services().settings.issuer + path:  # RFC 9449 4.3 (9), no query
        raise DPoPError("the proof's htu is not this endpoint")
    now = time.time()
    if not isinstance(iat, int | float) or not (
        now - IAT_PAST_SECONDS <= iat <= now + IAT_FUTURE_SECONDS
    ):  # RFC 9449 4.3 (11)
        raise DPoPError("the proof's iat is outside the accepted window")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DPoPError("the proof's ath is not the hash of the access token")  # RFC 9449 4.3 (12)


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url of the SHA-256 of the token's ASCII (RFC 9449 4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _spend_jti(thumbprint: str, jti: str) -> None:
    """One use per proof (RFC 9449 11.1), kept as long as its iat could still be accepted."""
    expires = utcnow() + timedelta(seconds=IAT_PAST_SECONDS + IAT_FUTURE_SECONDS)
    if not spend_once("dpop", f"{thumbprint}\x00{jti}", expires):
        raise DPoPError("the proof's jti was already used")


def bind_token_request() -> None:
    """At the token endpoint: verify a ``DPoP`` header if there is one and remember its key for
    the tokens this request issues (RFC 9449 5). Raises DPoPError for a bad proof."""
    proof = request.headers.get("DPoP")
    g.dpop_jkt = None if proof is None else verify_proof(proof, "POST", request.path)


def bound_jkt() -> str | None:
    """The thumbprint the tokens issued in this request are bound to, or None (plain bearer)."""
    found = g.get("dpop_jkt")
    return str(found) if found else None


def error_body(error: DPoPError) -> dict[str, str]:
    return {"error": "invalid_dpop_proof", "error_description": error.description}  # RFC 9449 5
