"""``RelyingParty`` authenticates at the token and revocation endpoints as it was registered.

The suite's loopback HTTP server (``server`` in conftest.py) plays the provider's discovery,
token and revocation endpoints and records each request as it arrived, so what is checked is
the wire: where the secret travels, and that a ``private_key_jwt`` assertion verifies under the
client's public key with the claims RFC 7523 3 requires and a ``jti`` that is new each time.
(Against the real provider: tests/e2e/test_sdk_auth_methods.py.)
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sdk_world import Seen, Served
from yihao.oidc import (
    ConfigurationError,
    RelyingParty,
    load_private_key,
    load_private_key_file,
)
from yihao.oidc.client_auth import ClientAuth, client_auth

CLIENT = "client-auth-test"
SECRET = "s3cret-value-for-tests"
REDIRECT = "http://127.0.0.1:9/cb"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rp-rsa-1"})
EC = ECKey.generate_key("P-256")  # no kid: the provider then takes its one registered key


@pytest.fixture
def provider(server: Served) -> Served:
    server.play_provider()
    return server


def requests_of(provider: Served, rp: RelyingParty) -> list[Seen]:
    """A refresh and a revocation by ``rp``, as the provider received them."""
    provider.seen.clear()
    tokens = rp.refresh("rt1")
    assert tokens.access_token == "at" and tokens.scopes == frozenset({"openid"})
    rp.revoke("rt2", "refresh_token")
    posted = [seen for seen in provider.seen if seen.method == "POST"]
    assert [seen.path for seen in posted] == ["/token", "/revoke"]
    return posted


def rp_for(provider: Served, **options: Any) -> RelyingParty:
    return RelyingParty(provider.url, CLIENT, REDIRECT, **options)


def test_a_secret_alone_goes_in_http_basic(provider: Served) -> None:
    rp = rp_for(provider, client_secret=SECRET)
    assert rp.auth_method == "client_secret_basic"
    expected = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    for seen in requests_of(provider, rp):
        assert seen.headers["Authorization"] == expected
        assert "client_secret" not in seen.form and "client_assertion" not in seen.form


def test_client_secret_post_sends_the_secret_in_the_form(provider: Served) -> None:
    rp = rp_for(provider, client_secret=SECRET, auth_method="client_secret_post")
    for seen in requests_of(provider, rp):
        assert "Authorization" not in seen.headers
        assert seen.form["client_id"] == CLIENT and seen.form["client_secret"] == SECRET


def test_a_public_client_sends_only_its_id(provider: Served) -> None:
    rp = rp_for(provider)
    assert rp.auth_method == "none"
    for seen in requests_of(provider, rp):
        assert "Authorization" not in seen.headers and seen.form["client_id"] == CLIENT
        assert "client_secret" not in seen.form and "client_assertion" not in seen.form


@pytest.mark.parametrize(("key", "alg"), [(RSA, "RS256"), (EC, "ES256")])
def test_private_key_jwt_signs_a_new_assertion_for_each_request(
    provider: Served, key: RSAKey | ECKey, alg: str
) -> None:
    rp = rp_for(provider, private_key=key)
    assert rp.auth_method == "private_key_jwt"
    jtis = []
    for seen in requests_of(provider, rp) + requests_of(provider, rp):
        assert "Authorization" not in seen.headers and "client_secret" not in seen.form
        assert seen.form["client_assertion_type"] == ASSERTION_TYPE  # RFC 7523 2.2
        public = type(key).import_key(key.as_dict(private=False))
        token = jwt.decode(seen.form["client_assertion"], public, algorithms=[alg])
        assert token.header.get("kid") == key.kid  # sent only when the key names one
        claims = token.claims
        # RFC 7523 3 / OIDC Core 9: iss = sub = client_id, aud the token endpoint, a jti, exp.
        assert claims["iss"] == claims["sub"] == CLIENT
        assert claims["aud"] == provider.url + "/token"
        assert claims["exp"] > claims["iat"]
        jtis.append(claims["jti"])
    assert len(set(jtis)) == len(jtis) == 4  # the provider takes each jti once


@pytest.mark.parametrize(
    ("method", "secret", "key", "complaint"),
    [
        ("private_key_jwt", None, None, "needs the client's private key"),
        ("private_key_jwt", SECRET, RSA, "uses no client secret"),
        ("client_secret_post", None, None, "needs the client secret"),
        ("client_secret_basic", "", None, "needs the client secret"),
        ("client_secret_basic", SECRET, RSA, "only used with private_key_jwt"),
        (None, SECRET, RSA, "uses no client secret"),
        ("none", SECRET, None, "uses no client secret"),
        ("client_secret_jwt", SECRET, None, "is not one of client_secret_basic"),
    ],
)
def test_a_combination_that_cannot_work_is_refused_when_the_client_is_made(
    provider: Served, method: str | None, secret: str | None, key: RSAKey | None, complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as refused:
        rp_for(provider, client_secret=secret, auth_method=method, private_key=key)
    assert SECRET not in str(refused.value)


def test_the_method_follows_from_the_credentials_when_not_named() -> None:
    assert client_auth(None) == ClientAuth("none")
    assert client_auth(None, SECRET).method == "client_secret_basic"
    assert client_auth(None, None, EC).method == "private_key_jwt"
    assert SECRET not in repr(client_auth("client_secret_post", SECRET))


def pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_a_private_key_loads_from_pem_or_jwk(tmp_path: Path) -> None:
    from_pem = load_private_key(pem(RSA.private_key))
    assert isinstance(from_pem, RSAKey) and from_pem.thumbprint() == RSA.thumbprint()
    ec_pem = load_private_key(pem(EC.private_key).decode())
    assert isinstance(ec_pem, ECKey) and ec_pem.thumbprint() == EC.thumbprint()
    jwk = RSA.as_dict(private=True)
    assert load_private_key(jwk).kid == "rp-rsa-1"
    path = tmp_path / "rp-key.jwk"
    path.write_text(json.dumps(jwk))
    assert load_private_key_file(path).thumbprint() == RSA.thumbprint()


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (json.dumps(RSA.as_dict(private=False)), "only a public key"),
        (json.dumps(ECKey.generate_key("P-384").as_dict(private=True)), "RSA or EC P-256"),
        (json.dumps({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}), "RSA or EC P-256"),
        (json.dumps({"kty": "RSA", "n": "!"}), "not a valid JSON Web Key"),
        ("{not json", "not a JSON Web Key"),
        ("[1, 2]", "not a JSON Web Key"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unencrypted PEM"),
        (SECRET, "neither a JWK nor an unencrypted PEM"),
    ],
)
def test_a_key_that_cannot_sign_is_refused_by_name(data: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as refused:
        load_private_key(data)
    assert SECRET not in str(refused.value) and "BEGIN" not in str(refused.value)


def test_an_encrypted_or_other_curve_pem_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    encrypted = RSA.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    with pytest.raises(ConfigurationError, match="unencrypted PEM"):
        load_private_key(encrypted)
    with pytest.raises(ConfigurationError, match="RSA or EC P-256"):
        load_private_key(pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(ConfigurationError, match="cannot read the private key file"):
        load_private_key_file(tmp_path / "absent.pem")
