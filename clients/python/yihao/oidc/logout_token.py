"""Logout token validation (OpenID Connect Back-Channel Logout 1.0, section 2.6).

A logout token is signed like an ID token by the same keys, so it goes through the same
signature, issuer and audience checks; then the rules of its own: an ``events`` claim with the
back-channel logout event, a ``sid`` and/or a ``sub``, a ``jti`` to refuse replays by, and never a
``nonce`` (which is what keeps an ID token from passing as one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yihao.oidc.errors import IdTokenError, LogoutTokenError
from yihao.oidc.id_token import IdTokenValidator, header_of, is_time

#: Section 2.4: the member of ``events`` that makes a JWT a logout token.
EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: RFC 8725 3.11 and section 2.4: the explicit type a logout token carries.
TYPE = "logout+jwt"
_TYPES = (TYPE, "application/" + TYPE, "jwt")


@dataclass(frozen=True)
class LogoutRequest:
    """Which logins the provider ended: one session (``sid``), or all of a subject's."""

    jti: str
    expires_at: float
    sub: str | None
    sid: str | None


class LogoutTokenValidator:
    """Checks logout tokens from one issuer for one client; safe to share between threads."""

    def __init__(self, id_tokens: IdTokenValidator, lifetime: int = 120) -> None:
        self._id_tokens = id_tokens
        self._lifetime = lifetime

    def validate(self, token: str) -> LogoutRequest:
        try:
            # Section 2.4 asks OPs to type logout tokens; an untyped (or plain JWT) one from an
            # older OP passes on the other rules, but another kind of typed token does not.
            typ = header_of(token).get("typ")
            if typ is not None and str(typ).lower() not in _TYPES:
                raise LogoutTokenError("typ")
            claims = self._id_tokens.signed_claims(token)  # section 2.6 items 3 to 5
        except IdTokenError as exc:
            raise LogoutTokenError(exc.reason.value) from exc
        return self._request(claims)

    def _request(self, claims: Mapping[str, Any]) -> LogoutRequest:
        now, leeway = self._id_tokens.now(), self._id_tokens.leeway
        iat, exp = claims.get("iat"), claims.get("exp")
        if not is_time(iat) or iat > now + leeway:  # item 5: iat as in an ID token
            raise LogoutTokenError("iat")
        if exp is not None and (not is_time(exp) or now >= exp + leeway):
            raise LogoutTokenError("exp")
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):  # item 7
            raise LogoutTokenError("events")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):  # item 8
            raise LogoutTokenError("sub_or_sid")
        if "nonce" in claims:  # item 9
            raise LogoutTokenError("nonce")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:  # item 10 needs it to find replays
            raise LogoutTokenError("jti")
        expires_at = float(exp) if is_time(exp) else float(iat) + self._lifetime
        return LogoutRequest(
            jti=jti,
            expires_at=expires_at + leeway,
            sub=sub if isinstance(sub, str) and sub else None,
            sid=sid if isinstance(sid, str) and sid else None,
        )
