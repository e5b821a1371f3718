"""The ``fapi2`` client profile: what FAPI 2.0 Security Profile (5.3.2) asks of the authorization
server for a client registered under it, on top of what every client already gets here (PKCE
S256, exact redirect URIs, ``iss`` in the response).

The profile is chosen at registration (``clients.profile``) rather than server-wide, so that
services needing FAPI 2.0 (payments, tax) get it without breaking existing relying services.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error

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


class MissingProof(OAuth2Error):  # type: ignore[misc]
    """RFC 9449 7.1's error for a request that needed a DPoP proof and came without one."""

    error = "invalid_dpop_proof"
    status_code = 400


def holds(client: Client) -> bool:
    return applies(client.profile)


def applies(profile: str) -> bool:
    """Whether a client registered under ``profile`` is held to this one."""
    return profile == PROFILE


def code_ttl(client: Client, configured: int) -> int:
    """How long a code issued to ``client`` lives: ``IDP_CODE_TTL``, capped for the profile."""
    return min(configured, MAX_CODE_TTL) if holds(client) else configured


def require_sender_constraint(client: Client) -> None:
    """At the token endpoint, after the client authenticated: FAPI 2.0 SP 5.3.2.1 wants only
    sender-constrained tokens, and DPoP (``rfc9449``) is the one way offered here."""
    if holds(client) and bound_jkt() is None:
        raise MissingProof(description="this client's tokens must be bound to a DPoP key")
