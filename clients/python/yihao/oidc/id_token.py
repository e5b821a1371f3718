"""ID token validation (OIDC Core 3.1.3.7), one named reason per failed check.

The token arrives straight from the token endpoint over TLS, so one could be tempted to skip the
signature; we check it anyway, because the same validator also serves tokens that travelled
through other hands (a stored login, a refresh response) and because the nonce and audience only
mean something in a signed token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from joserfc import jws, jwt
from joserfc.errors import JoseError

from yihao.oidc.errors import IdTokenError, IdTokenReason
from yihao.oidc.jwks import JwksCache


@dataclass(frozen=True)
class Expectations:
    """What this particular token must say, beyond what every token from the provider must."""

    nonce: str | None = None
    max_age: int | None = None
    access_token: str | None = None
    subject: str | None = None


class IdTokenValidator:
    """Checks ID tokens from one issuer for one client; safe to share between threads."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        keys: JwksCache,
        *,
        algorithms: Collection[str],
        leeway: int,
        clock: Callable[[], float],
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._keys = keys
        self._algorithms = frozenset(algorithms) - {"none"}
        self._leeway = leeway
        self._clock = clock

    def validate(self, token: str, expect: Expectations | None = None) -> dict[str, Any]:
        """The token's claims, if it passes every check; otherwise ``IdTokenError``."""
        expect = expect or Expectations()
        claims = self._verified_claims(token)
        self._check_issuer_and_audience(claims)
        self._check_times(claims, expect.max_age)
        _check_subject(claims, expect.subject)
        _check_nonce(claims, expect.nonce)
        _check_at_hash(claims, expect.access_token)
        return claims

    @property
    def leeway(self) -> int:
        return self._leeway

    def now(self) -> float:
        return self._clock()

    def signed_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token this issuer signed for this client (signature, iss and aud
        checked), before any rule of one kind of token; logout tokens share it."""
        claims = self._verified_claims(token)
        self._check_issuer_and_audience(claims)
        return claims

    def _verified_claims(self, token: str) -> dict[str, Any]:
        header = header_of(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:  # OIDC Core 3.1.3.7 item 7
            raise IdTokenError(IdTokenReason.ALGORITHM)
        kid = header.get("kid")
        key = self._keys.key_for(kid if isinstance(kid, str) else None, alg)
        if key is None:
            raise IdTokenError(IdTokenReason.UNKNOWN_KEY)
        try:
            return dict(jwt.decode(token, key, algorithms=[alg]).claims)  # item 6
        except JoseError as exc:
            raise IdTokenError(IdTokenReason.SIGNATURE) from exc

    def _check_issuer_and_audience(self, claims: Mapping[str, Any]) -> None:
        if claims.get("iss") != self.issuer:  # OIDC Core 3.1.3.7 item 2
            raise IdTokenError(IdTokenReason.ISSUER)
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.client_id not in audiences:  # item 3
            raise IdTokenError(IdTokenReason.AUDIENCE)
        azp = claims.get("azp")
        # Items 4 and 5 as amended by errata: azp must be us when present or when aud has others.
        if (azp is not None or len(audiences) > 1) and azp != self.client_id:
            raise IdTokenError(IdTokenReason.AUTHORIZED_PARTY)

    def _check_times(self, claims: Mapping[str, Any], max_age: int | None) -> None:
        now = self._clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not is_time(exp) or now >= exp + self._leeway:  # OIDC Core 3.1.3.7 item 9
            raise IdTokenError(IdTokenReason.EXPIRED)
        if not is_time(iat) or iat > now + self._leeway:  # item 10
            raise IdTokenError(IdTokenReason.ISSUED_AT)
        auth_time = claims.get("auth_time")
        if auth_time is not None and not is_time(auth_time):
            raise IdTokenError(IdTokenReason.AUTH_TIME)
        if max_age is not None and (  # item 13: required, and recent enough, after max_age
            auth_time is None or now > auth_time + max_age + self._leeway
        ):
            raise IdTokenError(IdTokenReason.AUTH_TIME)


def header_of(token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(token.encode("ascii")).protected)
    except (JoseError, UnicodeEncodeError, ValueError) as exc:
        raise IdTokenError(IdTokenReason.MALFORMED) from exc


def is_time(value: object) -> TypeGuard[int | float]:
    # RFC 7519 2: NumericDate is a JSON number; booleans are ints in Python and are not times.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_subject(claims: Mapping[str, Any], expected: str | None) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:  # OIDC Core 2: sub is required
        raise IdTokenError(IdTokenReason.SUBJECT)
    if expected is not None and sub != expected:  # OIDC Core 12.2: same sub after refresh
        raise IdTokenError(IdTokenReason.SUBJECT)


def _check_nonce(claims: Mapping[str, Any], expected: str | None) -> None:
    if expected is None:
        return
    nonce = claims.get("nonce")  # OIDC Core 3.1.3.7 item 11
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, expected):
        raise IdTokenError(IdTokenReason.NONCE)


def _check_at_hash(claims: Mapping[str, Any], access_token: str | None) -> None:
    at_hash = claims.get("at_hash")
    if at_hash is None or access_token is None:  # OIDC Core 3.1.3.8: optional in the code flow
        return
    if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, half_hash(access_token)):
        raise IdTokenError(IdTokenReason.AT_HASH)


def half_hash(value: str) -> str:
    """OIDC Core 3.1.3.6: base64url of the left half of SHA-256 (RS256 and ES256 alike)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")
