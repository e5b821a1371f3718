"""The ``fapi2`` client profile: what FAPI 2.0 Security Profile (5.3.2) asks of the authorization
server for a client registered under it, on top of what every client already gets here (PKCE
S256, exact redirect URIs, ``iss`` in the response).

The profile is chosen at registration (``clients.profile``) rather than server-wide, so that
services needing FAPI 2.0 (payments, tax) get it without breaking existing relying services.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Request
from joserfc import jws
from joserfc.errors import JoseError

from idp.oauth.rfc7523 import METHOD as PRIVATE_KEY_JWT
from idp.oauth.rfc9449 import bound_jkt
from idp.store.models import Client

PROFILE = "fapi2"
#: Every profile a client may be registered under ("": none).
PROFILES = ("", PROFILE)
#: FAPI 2.0 SP 5.3.2.1: client authentication by private_key_jwt (or mTLS, not offered here).
AUTH_METHODS = (PRIVATE_KEY_JWT,)
#: FAPI 2.0 SP 5.3.2.2: "shall issue authorization codes with a maximum lifetime of 60 seconds".
MAX_CODE_TTL = 60
#: FAPI 2.0 SP 5.4.1: PS256, ES256 or EdDSA only; of those the provider signs and verifies ES256.
#: RS256 (PKCS #1 v1.5), which other clients may use, is not among them.
SIGNING_ALG = "ES256"


class MissingProof(OAuth2Error):  # type: ignore[misc]
    """RFC 9449 7.1's error for a request that needed a DPoP proof and came without one."""

    error = "invalid_dpop_proof"
    status_code = 400


def holds(client: Client) -> bool:
    return applies(client.profile)


def applies(profile: str) -> bool:
    """Whether a client registered under ``profile`` is held to this one."""
    return profile == PROFILE


def id_token_alg(profile: str, requested: str) -> str:
    """The ``alg`` of a client's ID tokens: the one FAPI 2.0 allows, for a client of the profile."""
    return SIGNING_ALG if applies(profile) else requested


def allows_alg(client: Client, alg: object) -> bool:
    """Whether ``client`` may sign with ``alg`` (FAPI 2.0 SP 5.4.1 for a client of the profile)."""
    return not holds(client) or alg == SIGNING_ALG


def check_assertion_alg(client: Client, request: OAuth2Request) -> None:
    """The client assertion of an authenticated request (RFC 7523 2.2), already verified."""
    assertion = request.payload.data.get("client_assertion") if holds(client) else None
    if not assertion:
        return
    try:
        alg = jws.extract_compact(str(assertion).encode()).headers().get("alg")
    except JoseError:  # pragma: no cover - it verified a moment ago
        alg = None
    if not allows_alg(client, alg):
        raise InvalidClientError(description=f"this client's assertions must be {SIGNING_ALG}")


def code_ttl(client: Client, configured: int) -> int:
    """How long a code issued to ``client`` lives: ``IDP_CODE_TTL``, capped for the profile."""
    return min(configured, MAX_CODE_TTL) if holds(client) else configured


def require_sender_constraint(client: Client) -> None:
    """At the token endpoint, after the client authenticated: FAPI 2.0 SP 5.3.2.1 wants only
    sender-constrained tokens, and DPoP (``rfc9449``) is the one way offered here."""
    if holds(client) and bound_jkt() is None:
        raise MissingProof(description="this client's tokens must be bound to a DPoP key")
