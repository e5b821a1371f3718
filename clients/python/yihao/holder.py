"""A holder in Python: what the wallet page does in the browser, for tests and for other apps.

The private key never leaves this object. To get a credential the holder proves it holds the key
(OpenID4VCI 1.0 Appendix F.1: a JWT over the provider's one-time c_nonce, signed by the key, the
public half in its ``jwk`` header), and the provider binds the credential to that key (``cnf``).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

from yihao.wire.cose import p1363_signature
from yihao.wire.credential import compress_public_key
from yihao.wire.presentation import (
    Presentation,
    encode_presentation,
    holder_message,
    time_step,
)
from yihao.wire.qrtext import to_text

PROOF_TYPE = "openid4vci-proof+jwt"
_TIMEOUT = 10


class IssuanceRefused(RuntimeError):
    """The provider issued nothing; ``error`` is its OAuth / OpenID4VCI error code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Holder:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._key = private_key or ec.generate_private_key(ec.SECP256R1())

    @property
    def public_point(self) -> bytes:
        """SEC1 compressed point, the form the credential carries."""
        return compress_public_key(self._key.public_key())

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7518 §6.2.1), as a key proof's `jwk` header carries it."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }

    def proof(
        self, nonce: str, audience: str, client_id: str | None = None, now: float | None = None
    ) -> str:
        """A key proof (OpenID4VCI 1.0 Appendix F.1) over the provider's c_nonce."""
        header = {"typ": PROOF_TYPE, "alg": "ES256", "jwk": self.public_jwk()}
        claims: dict[str, Any] = {
            "aud": audience,
            "iat": int(time.time() if now is None else now),
            "nonce": nonce,
        }
        if client_id is not None:
            claims["iss"] = client_id
        return jwt.encode(header, claims, ECKey.import_key(self._key), algorithms=["ES256"])

    def request_credential(
        self, api: requests.Session, issuer: str, identifier: str, profile: str
    ) -> bytes:
        """Fetch a c_nonce, prove the key over it and get a credential bound to this holder.

        ``api`` carries the citizen's access token (scope ``credentials``) in its headers.
        """
        nonce = _json(api.post(f"{issuer}/credentials/nonce", timeout=_TIMEOUT))["c_nonce"]
        body = {
            "identifier": identifier,
            "profile": profile,
            "proofs": {"jwt": [self.proof(str(nonce), issuer)]},
        }
        issued = _json(api.post(f"{issuer}/credentials/issue", json=body, timeout=_TIMEOUT))
        encoded = str(issued["credential"])
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))

    def presentation(self, credential: bytes, step: int) -> bytes:
        signature = p1363_signature(self._key, holder_message(credential, step))
        return encode_presentation(Presentation(credential, step, signature))

    def present(self, credential: bytes, now: float | None = None) -> str:
        """The QR text for the current 30-second step."""
        moment = time.time() if now is None else now
        return to_text(self.presentation(credential, time_step(moment)))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise IssuanceRefused(response.status_code, "invalid_response", "not a JSON object")
    if response.status_code != 200:
        error = str(body.get("error", "unknown"))
        raise IssuanceRefused(response.status_code, error, str(body.get("error_description")))
    return body
