"""DPoP proofs (RFC 9449 4.2) as a client makes them, with knobs to break each rule, and the
server nonce (RFC 9449 8) a client learns before its first good proof."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import ECKey, OctKey

from idp.oauth.rfc9449 import NONCE_HEADER, access_token_hash

ISSUER = "http://localhost"  # the test settings' issuer


def server_nonce(http: FlaskClient) -> str:
    """What a client does first (RFC 9449 8): a proof without a nonce, refused with the nonce."""
    refused = http.post("/token", headers={"DPoP": ProofKey().proof()})
    assert refused.get_json()["error"] == "use_dpop_nonce", refused.get_json()
    return refused.headers[NONCE_HEADER]


class ProofKey:
    """A client's DPoP key; ``proof`` signs one proof, each argument overridable to break it.
    ``nonce`` is the server nonce its proofs carry (None: none)."""

    def __init__(self, nonce: str | None = None) -> None:
        self.key = ECKey.generate_key("P-256")
        self.nonce = nonce

    @property
    def thumbprint(self) -> str:
        return str(self.key.thumbprint())

    def proof(
        self,
        htm: str = "POST",
        path: str = "/token",
        access_token: str | None = None,
        **overrides: Any,
    ) -> str:
        header: dict[str, Any] = {
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": self.key.as_dict(private=False),
        }
        header.update(overrides.pop("header", {}))
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12),
            "htm": htm,
            "htu": ISSUER + path,
            "iat": int(time.time()),
            "nonce": self.nonce,
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        payload = json.dumps(claims).encode()
        if header["alg"].startswith("HS"):
            secret = OctKey.generate_key(256)
            return str(jws.serialize_compact(header, payload, secret, algorithms=[header["alg"]]))
        return str(jws.serialize_compact(header, payload, self.key, algorithms=[header["alg"]]))
