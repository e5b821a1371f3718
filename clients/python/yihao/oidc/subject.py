"""Who signed in, read from ID token claims the way this provider issues them (docs/claims.md).

An enterprise login names the enterprise as ``sub`` and the person acting in ``act`` (RFC 8693
4.1); services that keep per-user records need both, and mixing them up is the classic mistake,
so they get separate, typed fields. The identity number is deliberately not copied here:
``Subject`` is what a service passes around, and the number should stay in ``claims``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from yihao.oidc.errors import IdTokenError, IdTokenReason

EntityType = Literal["person", "enterprise"]


@dataclass(frozen=True)
class Enterprise:
    """The enterprise an enterprise login is about."""

    uscc: str
    name: str | None = None


@dataclass(frozen=True)
class Acting:
    """The person acting for the enterprise: its legal representative, or an agent (经办人) under a
    mandate, whose tokens then also carry the ``mandate`` claim; ``sub`` is pairwise."""

    sub: str
    name: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Subject:
    """The signed-in principal: a person, or an enterprise plus the person acting for it.

    ``sub`` is the key to store records under; ``name`` is the top-level name, which for an
    enterprise login is the enterprise's name. Personal names are left out of ``repr`` so that
    logging a subject logs no personal data.
    """

    sub: str
    entity_type: EntityType
    name: str | None = field(default=None, repr=False)
    enterprise: Enterprise | None = None
    acting: Acting | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Subject:
        """Build from validated ID token (or UserInfo) claims."""
        sub, name = claims.get("sub"), _optional_str(claims, "name")
        if not isinstance(sub, str):
            raise IdTokenError(IdTokenReason.SUBJECT)
        entity_type = claims.get("entity_type", "person")
        if entity_type == "person":
            return cls(sub=sub, entity_type="person", name=name)
        if entity_type != "enterprise":
            raise IdTokenError(IdTokenReason.CLAIMS)
        uscc = claims.get("uscc")
        if not isinstance(uscc, str):
            raise IdTokenError(IdTokenReason.CLAIMS)
        return cls(
            sub=sub,
            entity_type="enterprise",
            name=name,
            enterprise=Enterprise(uscc=uscc, name=name),
            acting=_acting(claims.get("act")),
        )


def _acting(act: object) -> Acting | None:
    if act is None:
        return None
    if not isinstance(act, Mapping) or not isinstance(act.get("sub"), str):
        raise IdTokenError(IdTokenReason.CLAIMS)
    return Acting(sub=act["sub"], name=_optional_str(act, "name"))


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None
