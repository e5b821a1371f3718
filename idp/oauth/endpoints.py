"""Where each endpoint lives under the issuer: discovery advertises these, the web layer routes
them, and the server names the ones a client assertion may be addressed to. Depends on nothing,
so that all three can import it."""

from __future__ import annotations

#: RFC 9126 5: the metadata name of the pushed authorization request endpoint.
PAR_ENDPOINT = "pushed_authorization_request_endpoint"

ENDPOINTS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks.json",
    "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect",
    "end_session_endpoint": "/logout",
    "registration_endpoint": "/connect/register",  # RFC 7591 3, RFC 8414 2
    PAR_ENDPOINT: "/par",  # RFC 9126 5
}
