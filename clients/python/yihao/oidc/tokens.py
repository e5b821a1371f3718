"""A token response as the relying party keeps it: absolute expiry, nothing printable.

Token fields are left out of ``repr`` so that logging a login, or an exception that carries one,
never writes a credential to a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from yihao.oidc.errors import TokenError


@dataclass(frozen=True)
class Tokens:
    """The tokens of one grant; ``expires_at`` is seconds since the epoch, by the RP's clock."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    scope: str | None = None
    id_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_response(
        cls,
        response: Mapping[str, Any],
        *,
        now: float,
        requested_scope: str | None = None,
        scheme: str = "Bearer",
    ) -> Tokens:
        """Read a successful token response (RFC 6749 5.1) of the ``scheme`` asked for:
        Bearer (RFC 6750 4), or DPoP when the request carried a proof (RFC 9449 5)."""
        access_token = response.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TokenError("invalid_response", "no access_token in the token response")
        answered = response.get("token_type")
        if not isinstance(answered, str) or answered.lower() != scheme.lower():
            raise TokenError("invalid_response", f"token_type is not {scheme}")
        expires_in = response.get("expires_in")
        scope = response.get("scope")
        return cls(
            access_token=access_token,
            refresh_token=_str_or_none(response.get("refresh_token")),
            expires_at=now + float(expires_in) if isinstance(expires_in, int | float) else None,
            # RFC 6749 5.1: scope is left out when it is the requested one.
            scope=scope if isinstance(scope, str) else requested_scope,
            id_token=_str_or_none(response.get("id_token")),
        )

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scope as a set, e.g. ``"id_number" in tokens.scopes``: the provider drops
        scopes the client was not registered for, and the person may have refused some, so this
        is what to check before relying on a claim (empty when the provider named none)."""
        return frozenset(self.scope.split()) if self.scope else frozenset()

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """Whether the access token is expired, or will be ``seconds`` from ``now``."""
        return self.expires_at is not None and self.expires_at - seconds <= now

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form, for server-side token stores only."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokens:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=_str_or_none(data.get("refresh_token")),
            expires_at=float(data["expires_at"]) if data.get("expires_at") is not None else None,
            scope=_str_or_none(data.get("scope")),
            id_token=_str_or_none(data.get("id_token")),
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
