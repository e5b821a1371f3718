"""A holder in Python: what the wallet page does in the browser, for tests and for other apps.

The private key never leaves this object; the provider only ever sees the public point, sent
when a credential is issued, and binds the credential to it (``cnf``).
"""

from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives.asymmetric import ec

from yihao.wire.cose import p1363_signature
from yihao.wire.credential import compress_public_key
from yihao.wire.presentation import (
    Presentation,
    encode_presentation,
    holder_message,
    time_step,
)
from yihao.wire.qrtext import to_text


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
        """The public key as a JWK (RFC 7518 §6.2.1), the form the issuance API accepts."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }

    def presentation(self, credential: bytes, step: int) -> bytes:
        signature = p1363_signature(self._key, holder_message(credential, step))
        return encode_presentation(Presentation(credential, step, signature))

    def present(self, credential: bytes, now: float | None = None) -> str:
        """The QR text for the current 30-second step."""
        moment = time.time() if now is None else now
        return to_text(self.presentation(credential, time_step(moment)))
