"""An OpenID Connect relying party for the Yihao provider (docs/integration.md).

``RelyingParty`` runs the authorization code flow with PKCE S256, checks ``iss`` (RFC 9207),
validates ID tokens against a key set that follows rotation, and reads who signed in as a
``Subject`` (a person, or an enterprise with the person acting for it). ``yihao.flask_rp`` wires
it into a Flask application.
"""

from yihao.oidc.client import AuthorizationStart, Login, RelyingParty
from yihao.oidc.client_auth import METHODS, load_private_key, load_private_key_file
from yihao.oidc.discovery import ProviderMetadata
from yihao.oidc.errors import (
    AuthorizationError,
    ConfigurationError,
    DiscoveryError,
    IdTokenError,
    IdTokenReason,
    LogoutTokenError,
    OidcError,
    TokenError,
    UserInfoError,
)
from yihao.oidc.id_token import Expectations, IdTokenValidator
from yihao.oidc.jwks import JwksCache
from yihao.oidc.logout_token import LogoutRequest, LogoutTokenValidator
from yihao.oidc.rfc9449 import DPoPKey
from yihao.oidc.subject import Acting, Enterprise, EntityType, Subject
from yihao.oidc.tokens import Tokens

__all__ = [
    "METHODS",
    "Acting",
    "AuthorizationError",
    "AuthorizationStart",
    "ConfigurationError",
    "DPoPKey",
    "DiscoveryError",
    "Enterprise",
    "EntityType",
    "Expectations",
    "IdTokenError",
    "IdTokenReason",
    "IdTokenValidator",
    "JwksCache",
    "Login",
    "LogoutRequest",
    "LogoutTokenError",
    "LogoutTokenValidator",
    "OidcError",
    "ProviderMetadata",
    "RelyingParty",
    "Subject",
    "TokenError",
    "Tokens",
    "UserInfoError",
    "load_private_key",
    "load_private_key_file",
]
