"""Levels of assurance: the one home of the ``acr`` values, what ``amr`` reaches each, and whether a
session meets what a request (``acr_values``) and its client (``minimum_acr``) ask for.

OIDC Core 2 leaves the meaning of ``acr`` values to the provider; these are ordered, each level
meeting every lower one (docs/claims.md, "Levels of assurance"). ``amr`` values are RFC 8176's.
Pure functions over strings: the session (``idp.auth``), the protocol (``idp.oauth``) and the pages
all read the levels from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    acr: str
    rank: int
    #: Every one of these RFC 8176 methods must be in a session's amr for it to reach this level.
    needs: frozenset[str]


PASSWORD = Level("urn:yihao:acr:password", 1, frozenset({"pwd"}))
#: A password and a second factor of another kind (RFC 8176 "mfa"), e.g. ("pwd", "otp", "mfa").
TWO_FACTOR = Level("urn:yihao:acr:two-factor", 2, frozenset({"mfa"}))
#: A passkey, ("hwk", "mfa"): bound to this origin, with user verification; phishing-resistant.
PASSKEY = Level("urn:yihao:acr:passkey", 3, frozenset({"hwk", "mfa"}))
LEVELS = (PASSWORD, TWO_FACTOR, PASSKEY)
BY_ACR = {level.acr: level for level in LEVELS}
#: For discovery (OIDC Discovery 1.0 3, ``acr_values_supported``), lowest first.
ACR_VALUES_SUPPORTED = [level.acr for level in LEVELS]

#: The amr of a password followed by a TOTP code or a recovery code (RFC 8176 2: "otp", "mfa").
AMR_PASSWORD_AND_TOTP = ("pwd", "otp", "mfa")


def level_of(amr: Iterable[str]) -> Level | None:
    """The highest level these methods reach; None for no (known) authentication at all."""
    methods = frozenset(amr)
    reached = [level for level in LEVELS if level.needs <= methods]
    return max(reached, key=lambda level: level.rank, default=None)


def acr_of(amr: Iterable[str]) -> str | None:
    level = level_of(amr)
    return level.acr if level else None


def required_level(acr_values: str | None, minimum_acr: str | None = None) -> Level | None:
    """What a request needs: the client's registered minimum, raised to the request's ask.

    OIDC Core 3.1.2.1 lists ``acr_values`` "in order of preference", so any of them will do: the
    lowest known one is what the request needs. Values this provider does not know are ignored
    (the request is voluntary, and the ID token's ``acr`` says what was met).
    """
    asked = [BY_ACR[value] for value in (acr_values or "").split() if value in BY_ACR]
    candidates = [min(asked, key=lambda level: level.rank)] if asked else []
    if minimum_acr in BY_ACR:
        candidates.append(BY_ACR[minimum_acr])
    return max(candidates, key=lambda level: level.rank, default=None)


def satisfies(amr: Sequence[str], needed: Level | None) -> bool:
    """Whether a session authenticated by ``amr`` meets ``needed``: a higher level meets a lower."""
    if needed is None:
        return True
    reached = level_of(amr)
    return reached is not None and reached.rank >= needed.rank
