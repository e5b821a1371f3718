"""DPoP (RFC 9449) for the relying party: a key the client holds, and a proof per request.

Authlib's client has no DPoP, so the proof is built here with joserfc: a JWT of type
``dpop+jwt`` whose header carries the public key and whose claims name the request (``htm``,
``htu``), the moment (``iat``), a one-time ``jti`` and, at a resource, the hash of the access
token (``ath``). Tokens issued against a proof are bound to this key (``cnf.jkt``): they are
worth nothing to someone who copies them without it, which is what FAPI 2.0 asks for.

The provider may ask for a nonce (RFC 9449 8 and 9): the last ``DPoP-Nonce`` each server sent is
remembered here and put in the next proof for it; ``use_dpop_nonce`` is retried once by the
relying party.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from yihao.oidc.client_auth import load_private_key_file
from yihao.oidc.errors import ConfigurationError

#: RFC 9449 7.1: the authorization scheme of a DPoP-bound access token.
SCHEME = "DPoP"
#: The error a server answers when it wants a (fresh) nonce in the proof (RFC 9449 8, 9).
USE_NONCE = "use_dpop_nonce"


class DPoPKey:
    """A P-256 key pair for proofs; one per relying party process, or per citizen for an app.

    The private key never leaves this object (it is left out of ``repr``). Generate it once and
    keep it for as long as the tokens bound to it live: a new key cannot use them.
    """

    def __init__(self, key: ECKey | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key if key is not None else ECKey.generate_key("P-256", private=True)
        self._clock = clock
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DPoPKey(jkt={self.thumbprint!r})"

    @classmethod
    def from_file(cls, path: str) -> DPoPKey:
        """A key kept in a file (a private JWK or PEM, EC P-256), so that tokens stored by one
        process can be used by the others and after a restart."""
        key = load_private_key_file(path)
        if not isinstance(key, ECKey):
            raise ConfigurationError("the DPoP key must be EC P-256 (ES256)")
        return cls(key)

    @property
    def thumbprint(self) -> str:
        """The key's JWK thumbprint (RFC 7638), the ``cnf.jkt`` of tokens bound to it."""
        return str(self._key.thumbprint())

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A fresh proof for one request (RFC 9449 4.2); ``access_token`` at a resource."""
        htu = _without_query(url)  # RFC 9449 4.2: no query and no fragment
        claims: dict[str, object] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": htu,
            "iat": int(self._clock()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        nonce = self._nonce_for(htu)
        if nonce is not None:
            claims["nonce"] = nonce
        public = self._key.as_dict(private=False)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        return jwt.encode(header, claims, self._key)

    def remember_nonce(self, response: requests.Response, *_: object, **__: object) -> None:
        """A ``requests`` response hook: keep the server's latest ``DPoP-Nonce``."""
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            with self._lock:
                self._nonces[_origin(response.url)] = nonce

    def _nonce_for(self, url: str) -> str | None:
        with self._lock:
            return self._nonces.get(_origin(url))


def access_token_hash(access_token: str) -> str:
    """RFC 9449 4.2: base64url of the SHA-256 of the token's ASCII, without padding."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _origin(url: str) -> str:
    # A nonce belongs to the server that issued it (RFC 9449 8): scheme, host and port.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
