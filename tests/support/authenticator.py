"""A software WebAuthn authenticator for tests over Flask's test client: P-256 keys, "none"
attestation, discoverable credentials, user verification on (WebAuthn L3 6.1, 6.5, 8.7).

Hand-written: the browser tests use Chromium's own virtual authenticator, but the integration
tests need responses they can bend (another origin, a replayed assertion, a counter going back),
which no browser will produce. The output is the JSON a browser's ``toJSON()`` gives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

_UP, _UV, _AT = 0x01, 0x04, 0x40
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cose_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    # RFC 9053 7.1.1: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Keeps its credentials; ``counts`` False acts like a synced passkey (counter always 0)."""

    counts: bool = True
    user_verified: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _flags(self, extra: int = 0) -> int:
        return _UP | (_UV if self.user_verified else 0) | extra

    def create(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """What ``navigator.credentials.create()`` answers to the server's options."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(os.urandom(32), key, rp_id, from_b64url(options["user"]["id"]))
        self.credentials.append(credential)
        attested = AAGUID + struct.pack(">H", len(credential.id)) + credential.id + _cose_key(key)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(_AT)])
            + struct.pack(">I", 0)
            + attested
        )
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.id),
            "rawId": b64url(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self, options: dict[str, Any], origin: str, credential: Credential | None = None
    ) -> dict[str, Any]:
        """What ``navigator.credentials.get()`` answers: an assertion by ``credential`` (by
        default the last one made), with its user handle, as a discoverable credential does."""
        chosen = credential or self.credentials[-1]
        if self.counts:
            chosen.sign_count += 1
        auth_data = (
            hashlib.sha256(options.get("rpId", chosen.rp_id).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", chosen.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(chosen.id),
            "rawId": b64url(chosen.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
            "clientExtensionResults": {},
        }

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()
