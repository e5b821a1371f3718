"""Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414 section 2), derived from what the
server actually registers so the document cannot drift from the behaviour."""

from __future__ import annotations

from typing import Any

from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth.assurance import ACR_VALUES_SUPPORTED
from idp.oauth.claims import SUPPORTED_CLAIMS, SUPPORTED_SCOPES
from idp.oauth.endpoints import ENDPOINTS
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.identity_assurance import (
    CLAIMS_IN_VERIFIED_CLAIMS,
    EVIDENCE_TYPE,
    RECORD_TYPES,
    TRUST_FRAMEWORK,
)
from idp.oauth.rfc9101 import ALGORITHMS as REQUEST_OBJECT_ALGORITHMS
from idp.oauth.rfc9449 import ALGORITHMS as DPOP_ALGORITHMS
from idp.oauth.server import SUPPORTED_GRANT_TYPES


def provider_metadata(issuer: str) -> dict[str, Any]:
    signed_auth = [m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"]
    return {
        "issuer": issuer,
        **{name: issuer + path for name, path in ENDPOINTS.items()},
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": SUPPORTED_CLAIMS,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": SUPPORTED_GRANT_TYPES,
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "revocation_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": signed_auth,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        # OIDC Discovery 1.0 3: the levels of idp.oauth.assurance, lowest first.
        "acr_values_supported": ACR_VALUES_SUPPORTED,
        "claims_parameter_supported": True,  # OIDC Core 5.5 (oauth.claims_parameter)
        # OIDC4IDA 8: verified claims from the registries (oauth.identity_assurance).
        "verified_claims_supported": True,
        "trust_frameworks_supported": [TRUST_FRAMEWORK],
        "evidence_supported": [EVIDENCE_TYPE],
        "electronic_records_supported": RECORD_TYPES,
        "claims_in_verified_claims_supported": CLAIMS_IN_VERIFIED_CLAIMS,
        # RFC 9101 10.5, OIDC Discovery 1.0 3: signed request objects by value (oauth.rfc9101).
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGORITHMS),
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["zh-CN", "en"],
        "claims_locales_supported": ["zh-CN"],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 3
        "frontchannel_logout_supported": False,
        # Back-Channel Logout 1.0 section 2.1: logout tokens carry sid (oauth.backchannel_logout).
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 5.1
        # RFC 9126 5: pushing is open to every client and required of those registered for it.
        "require_pushed_authorization_requests": False,
    }
