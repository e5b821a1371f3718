"""The platform's data as verified claims (OpenID Connect for Identity Assurance 1.0): what it
asks for, and which registry vouches for each value it shows.

A lender must rely on the registries themselves, not on what a provider says it holds, so the
platform asks for its three claims as ``verified_claims`` (``CLAIMS_REQUEST``, sent with every
sign-in as ``YIHAO_CLAIMS``) and shows, beside each section, the registry record named as
evidence. Values from a verified element replace the plain claim of the same name; an element
under another trust framework vouches for nothing here and is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: docs/claims.md: data read from the imported government registries.
TRUST_FRAMEWORK = "cn_gov_registry"
#: The claims the score is made from.
VERIFIED = ("business_registration", "properties", "social_insurance")
CLAIMS_REQUEST: dict[str, Any] = {
    "userinfo": {
        "verified_claims": {
            "verification": {
                "trust_framework": {"value": TRUST_FRAMEWORK},
                "time": None,
                "evidence": [{"type": {"value": "electronic_record"}, "record": None}],
            },
            "claims": dict.fromkeys(VERIFIED),
        }
    }
}


@dataclass(frozen=True)
class Source:
    """Who vouches for a value: the registries named as evidence, and as of when."""

    registries: str
    time: str


def verified(info: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Source]]:
    """The verified values in a UserInfo answer, and the source of each."""
    found = info.get("verified_claims")
    elements = [found] if isinstance(found, dict) else found if isinstance(found, list) else []
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for element in elements:
        verification = element.get("verification") if isinstance(element, dict) else None
        if not isinstance(verification, dict):
            continue
        if verification.get("trust_framework") != TRUST_FRAMEWORK:
            continue
        source = Source(
            _registries(verification.get("evidence")), str(verification.get("time", ""))
        )
        claims = element.get("claims")
        for name, value in (claims if isinstance(claims, dict) else {}).items():
            if name in VERIFIED:
                values[name] = value
                sources[name] = source
    return values, sources


def _registries(evidence: Any) -> str:
    names = {
        str(entry["record"]["source"]["name"])
        for entry in (evidence if isinstance(evidence, list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("record"), dict)
        and isinstance(entry["record"].get("source"), dict)
        and entry["record"]["source"].get("name")
    }
    return "、".join(sorted(names))
