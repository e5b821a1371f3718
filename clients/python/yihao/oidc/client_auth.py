"""How the relying party authenticates at the token and revocation endpoints.

The methods are those the provider registers a client with (``idp client add --auth-method``):
a secret in HTTP Basic or in the form (RFC 6749 2.3.1), a JWT signed with the client's private
key (``private_key_jwt``, RFC 7523 2.2 and OIDC Core 9), or none for a public client. Authlib
does the wire work (its ``PrivateKeyJWT`` signs a fresh assertion with a one-time ``jti`` for
each request); this module checks the combination once, when the relying party is made, so that
a wrong setting stops the service at start-up instead of failing the first citizen's sign-in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from yihao.oidc.errors import ConfigurationError

Method = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
#: Every method the SDK (and the provider) supports, in the provider's registration terms.
METHODS: tuple[Method, ...] = get_args(Method)
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
SigningKey = RSAKey | ECKey


@dataclass(frozen=True)
class ClientAuth:
    """A checked method with exactly the credential it needs (a secret, a key, or nothing)."""

    method: Method
    secret: str | None = field(default=None, repr=False)
    key: SigningKey | None = field(default=None, repr=False)

    @property
    def credential(self) -> str | SigningKey | None:
        """What Authlib takes as its ``client_secret``: its ``PrivateKeyJWT`` signs with a key."""
        return self.key if self.method == "private_key_jwt" else self.secret

    @property
    def algorithm(self) -> str:
        """The assertion's ``alg``: RS256 for an RSA key, ES256 for P-256 (the provider's two)."""
        return "ES256" if isinstance(self.key, ECKey) else "RS256"

    @property
    def headers(self) -> dict[str, str]:
        """The assertion's header: ``kid`` when the key names one, which the provider needs to
        pick the key when the client registered several (key rotation)."""
        return {"kid": self.key.kid} if self.key is not None and self.key.kid else {}


def client_auth(
    method: str | None, secret: str | None = None, key: SigningKey | None = None
) -> ClientAuth:
    """The method to use, checked against the credentials given; raises ``ConfigurationError``.

    Without a method: ``private_key_jwt`` with a key, ``client_secret_basic`` with a secret (the
    provider's default registration), ``none`` with neither.
    """
    if method is None:
        method = "client_secret_basic" if secret else "none"
        method = "private_key_jwt" if key is not None else method
    if method not in METHODS:
        raise ConfigurationError(
            f"token endpoint auth method {method!r} is not one of {', '.join(METHODS)}"
        )
    if method in SECRET_METHODS and not secret:
        raise ConfigurationError(f"{method} needs the client secret")
    if method == "private_key_jwt" and key is None:
        raise ConfigurationError("private_key_jwt needs the client's private key")
    if method != "private_key_jwt" and key is not None:
        raise ConfigurationError(f"a private key is only used with private_key_jwt, not {method}")
    if method in ("private_key_jwt", "none") and secret:
        raise ConfigurationError(f"{method} uses no client secret: leave it out")
    return ClientAuth(method, secret or None, key)


def load_private_key(source: str | bytes | Mapping[str, Any]) -> SigningKey:
    """A client's private key from a PEM (PKCS #8 or traditional, unencrypted) or a private JWK
    (a JSON object or its text); RSA or EC P-256 only, as the provider verifies RS256 and ES256.
    Raises ``ConfigurationError`` naming what is wrong, never the key material."""
    if isinstance(source, Mapping):
        return _from_jwk(dict(source))
    text = source.encode() if isinstance(source, str) else source
    if text.lstrip()[:1] in (b"{", b"["):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ConfigurationError("the private key is not a JSON Web Key") from None
        return _from_jwk(parsed)
    try:
        raw = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError("the private key is neither a JWK nor an unencrypted PEM") from (
            None
        )
    if isinstance(raw, rsa.RSAPrivateKey):
        return RSAKey.import_key(raw)
    if isinstance(raw, ec.EllipticCurvePrivateKey) and isinstance(raw.curve, ec.SECP256R1):
        return ECKey.import_key(raw)
    raise ConfigurationError("the private key must be RSA or EC P-256 (RS256 or ES256)")


def load_private_key_file(path: str | Path) -> SigningKey:
    """``load_private_key`` of a file's content; a missing file is a ``ConfigurationError``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        why = f"cannot read the private key file {path}: {exc.strerror}"
        raise ConfigurationError(why) from None
    return load_private_key(data)


def _from_jwk(data: object) -> SigningKey:
    if not isinstance(data, dict):
        raise ConfigurationError("the private key is not a JSON Web Key")
    try:
        key = JWKRegistry.import_key(data)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ConfigurationError("the private key is not a valid JSON Web Key") from None
    if not (isinstance(key, RSAKey) or (isinstance(key, ECKey) and key.curve_name == "P-256")):
        raise ConfigurationError("the private key must be RSA or EC P-256 (RS256 or ES256)")
    if not key.is_private:
        raise ConfigurationError("the JWK holds only a public key: private_key_jwt signs")
    return key
