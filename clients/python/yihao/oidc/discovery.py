"""The provider's metadata, fetched once per ``ttl`` and trusted only for the configured issuer.

Endpoints are read from discovery rather than configured, so a relying service needs nothing but
the issuer URL; the issuer check is what stops a document on another host from redirecting those
endpoints (OIDC Discovery 4.3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from yihao.oidc.errors import DiscoveryError

#: OIDC Discovery 4: the document lives under the issuer at this path.
WELL_KNOWN = "/.well-known/openid-configuration"
#: The only algorithms this SDK accepts for ID tokens, whatever a document says ("none" never).
SAFE_ID_TOKEN_ALGS = frozenset({"RS256", "ES256"})
_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document the relying party uses, plus the whole document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    revocation_endpoint: str | None
    end_session_endpoint: str | None
    id_token_algs: tuple[str, ...]
    iss_parameter_supported: bool
    document: Mapping[str, Any] = field(repr=False)
    #: RFC 9126 5: where authorization requests are pushed (``RelyingParty(pushed=True)``).
    pushed_authorization_request_endpoint: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any], issuer: str) -> ProviderMetadata:
        """Check the document against the configured issuer and keep what the client needs."""
        missing = [name for name in _REQUIRED if not isinstance(document.get(name), str)]
        if missing:
            raise DiscoveryError(f"discovery document lacks {', '.join(missing)}")
        if document["issuer"] != issuer:  # OIDC Discovery 4.3: exact string comparison
            raise DiscoveryError("discovery document names another issuer")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:  # RFC 7636 4.2: S256 only
            raise DiscoveryError("provider does not support PKCE S256")
        return cls(
            issuer=issuer,
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            userinfo_endpoint=_optional_str(document, "userinfo_endpoint"),
            revocation_endpoint=_optional_str(document, "revocation_endpoint"),
            end_session_endpoint=_optional_str(document, "end_session_endpoint"),
            id_token_algs=_id_token_algs(document),
            # RFC 9207 3: a provider that sets this always sends iss in authorization responses.
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
            is True,
            document=dict(document),
            pushed_authorization_request_endpoint=_optional_str(
                document, "pushed_authorization_request_endpoint"
            ),
        )

    def require(self, name: str) -> str:
        """An optional endpoint the caller cannot do without (e.g. revocation for ``revoke``)."""
        value = getattr(self, name)
        if not isinstance(value, str):
            raise DiscoveryError(f"provider publishes no {name}")
        return value


def _optional_str(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) else None


def _id_token_algs(document: Mapping[str, Any]) -> tuple[str, ...]:
    # OIDC Discovery 3: the list is required; we intersect it with what we consider safe.
    listed = document.get("id_token_signing_alg_values_supported")
    if not isinstance(listed, list):
        raise DiscoveryError("discovery document lacks id_token_signing_alg_values_supported")
    algs = tuple(alg for alg in listed if alg in SAFE_ID_TOKEN_ALGS)
    if not algs:
        raise DiscoveryError("provider supports no ID token algorithm this SDK accepts")
    return algs


class Discovery:
    """A cached discovery document; thread-safe, refetched when older than ``ttl`` seconds."""

    def __init__(
        self,
        issuer: str,
        session: requests.Session,
        *,
        ttl: float,
        clock: Callable[[], float],
        timeout: float,
    ) -> None:
        self.issuer = issuer
        self._session = session
        self._ttl = ttl
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._cached: tuple[float, ProviderMetadata] | None = None

    def get(self) -> ProviderMetadata:
        """The metadata, from cache while it is fresh."""
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            metadata = ProviderMetadata.from_document(self._fetch(), self.issuer)
            self._cached = (self._clock(), metadata)
            return metadata

    def _fetch(self) -> Mapping[str, Any]:
        url = self.issuer.rstrip("/") + WELL_KNOWN  # OIDC Discovery 4.1
        try:
            response = self._session.get(url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DiscoveryError("could not fetch the discovery document") from exc
        if not isinstance(document, dict):
            raise DiscoveryError("discovery document is not a JSON object")
        return document
