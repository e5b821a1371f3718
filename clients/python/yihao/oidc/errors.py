"""What can go wrong on the relying party's side, as exceptions a service can catch one by one.

Every message is built from error codes and reasons only, never from a token, a code or a claim
value, so an exception can be logged as it is.
"""

from __future__ import annotations

from enum import StrEnum


class OidcError(Exception):
    """Base class: catch this to handle every sign-in failure in one place."""


class ConfigurationError(ValueError):
    """The relying party's settings do not fit together (e.g. ``private_key_jwt`` without a
    key); raised when it is made, so a service with a wrong setting does not start."""


class DiscoveryError(OidcError):
    """The provider's metadata or key set could not be fetched or cannot be trusted."""


class AuthorizationError(OidcError):
    """The authorization response is an error, or cannot be accepted.

    ``error`` is the provider's code (RFC 6749 4.1.2.1, e.g. ``access_denied``) or one of this
    SDK's checks of the response: ``state_mismatch``, ``issuer_mismatch``, ``missing_issuer``,
    ``missing_code``, ``duplicate_parameter``.
    """

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


class TokenError(OidcError):
    """The token, revocation or UserInfo endpoint refused a request (RFC 6749 5.2, RFC 6750 3)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)


class IdTokenReason(StrEnum):
    """Why an ID token was rejected; each value names one check of OIDC Core 3.1.3.7."""

    MISSING = "missing"
    MALFORMED = "malformed"
    ALGORITHM = "alg"
    UNKNOWN_KEY = "kid"
    SIGNATURE = "signature"
    ISSUER = "iss"
    AUDIENCE = "aud"
    AUTHORIZED_PARTY = "azp"
    EXPIRED = "exp"
    ISSUED_AT = "iat"
    NONCE = "nonce"
    AUTH_TIME = "auth_time"
    SUBJECT = "sub"
    AT_HASH = "at_hash"
    CLAIMS = "claims"


class IdTokenError(OidcError):
    """An ID token failed validation; ``reason`` names the first check it failed."""

    def __init__(self, reason: IdTokenReason) -> None:
        self.reason = reason
        super().__init__(f"ID token rejected: {reason.value}")


class LogoutTokenError(OidcError):
    """A logout token failed validation (Back-Channel Logout 1.0 section 2.6); ``reason`` names
    the first check it failed (an ID token check's name, or events, sub_or_sid, nonce, jti)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"logout token rejected: {reason}")


class UserInfoError(OidcError):
    """A UserInfo response cannot be used: not JSON, or about another subject (OIDC Core 5.3.4)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"UserInfo response rejected: {reason}")
