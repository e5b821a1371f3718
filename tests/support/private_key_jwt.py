"""A private_key_jwt client: a generated key, its registration with the public half as ``jwks``,
and the assertions it authenticates with (RFC 7523 2.2); it signs request objects too."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.conftest import RegisteredClient, make_client
from tests.support.oidc import TOKEN_ENDPOINT

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(4)})


def jwt_client(app: Flask, key: ECKey, **overrides: object) -> RegisteredClient:
    public = {**key.as_dict(private=False), "alg": "ES256", "use": "sig"}
    fields: dict[str, object] = {"auth_method": "private_key_jwt", "jwks": {"keys": [public]}}
    return make_client(app, **{**fields, **overrides})


def assertion(client_id: str, key: ECKey | RSAKey, alg: str = "ES256", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_ENDPOINT,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def with_assertion(token: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}
