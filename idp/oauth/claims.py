"""Scopes, the claims they release, and how each claim is computed (OIDC Core 5.1, 5.4).

The ``id_number``, ``enterprise``, ``household``, ``property``, ``social_insurance`` and
``business`` scopes are Yihao's own; ``docs/claims.md`` documents them. Claims about the acting
person of an enterprise login, including the registry claims, sit inside ``act`` (RFC 8693 4.1),
so the top level always describes the token's subject; that is also why ``property``,
``social_insurance`` and ``business`` there are the enterprise's (``SUBJECT_SCOPES``). The
registry claims are built in ``idp.oauth.registry_claims``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from idp.admin.roles import ROLE_SCOPES
from idp.oauth.identity_assurance import VERIFIED_CLAIMS, verified_names
from idp.oauth.pairwise import subject
from idp.oauth.principal import Principal
from idp.oauth.registry_claims import SUBJECT_SCOPES, enterprise_claims, registry_claims
from idp.services import Services
from idp.store.models import Client
from idp.store.subjects import PersonRecord, enterprise_uscc, read_person

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub", "entity_type"),
    "profile": ("name", "gender", "birthdate"),
    "phone": ("phone_number",),
    "address": ("address",),
    "id_number": ("id_number", "id_document_type"),
    "enterprise": ("uscc", "name", "act"),
    # From the source registries (idp.oauth.registry_claims), about the person.
    "household": ("household",),
    "property": ("properties",),
    # About the token's subject: the person, or the enterprise of an enterprise login.
    "social_insurance": ("social_insurance",),
    # The enterprise's business registration (市场主体登记); nothing in a person's login.
    "business": ("business_registration",),
    # Not claims but APIs: issuing the holder's own e-certificates, and revoking them (operators).
    "credentials": (),
    "credentials.revoke": (),
    # The admin API (idp.web.admin_api), for client-credentials tokens: one scope per role.
    **dict.fromkeys(ROLE_SCOPES, ()),
}

#: Scopes whose claims are personal data: they need consent and every release is recorded.
PERSONAL_SCOPES = frozenset(
    {
        "profile",
        "phone",
        "address",
        "id_number",
        "enterprise",
        "credentials",
        "household",
        "property",
        "social_insurance",
        "business",
    }
)

#: Claims never counted as a release of personal data (``mandate`` says under what an agent
#: acts, nothing about them).
NON_PERSONAL = frozenset({"sub", "entity_type", "mandate"})

SUPPORTED_SCOPES = tuple(SCOPE_CLAIMS)
#: OIDC Discovery 3 ``claims_supported``: every claim released, and those that are not personal.
SUPPORTED_CLAIMS = sorted(
    {c for claims in SCOPE_CLAIMS.values() for c in claims} | {"id_document_type"} | NON_PERSONAL
)


def subject_of(svc: Services, client: Client, principal: Principal) -> str:
    if principal.enterprise is not None:
        return subject(svc.pairwise_key, client, "enterprise", principal.enterprise.public_id)
    return subject(svc.pairwise_key, client, "person", principal.person.public_id)


def actor(svc: Services, client: Client, principal: Principal) -> dict[str, Any]:
    """RFC 8693 4.1 ``act``: the acting person's pairwise subject at this client, the same ``sub``
    the client sees when they sign in for themselves. The one place an actor is named."""
    return {"sub": subject(svc.pairwise_key, client, "person", principal.person.public_id)}


def mandate_claim(principal: Principal) -> dict[str, Any]:
    """Yihao's ``mandate`` claim for an agent (docs/claims.md): which mandate, and until when."""
    if principal.mandate is None:
        return {}
    valid_until = int(principal.mandate.valid_until.replace(tzinfo=UTC).timestamp())
    return {"mandate": {"id": principal.mandate.public_id, "valid_until": valid_until}}


def delegation_claims(svc: Services, client: Client, principal: Principal) -> dict[str, Any]:
    """``act`` and ``mandate`` for a token acting for an enterprise (access tokens,
    introspection); nothing for a person's own token."""
    if principal.enterprise is None:
        return {}
    return {"act": actor(svc, client, principal), **mandate_claim(principal)}


def person_claims(record: PersonRecord, scopes: frozenset[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims["name"] = record.name
        claims["gender"] = record.sex
        claims["birthdate"] = record.birth_date.isoformat()
    if "phone" in scopes and record.contact.phone:
        claims["phone_number"] = record.contact.phone
    if "address" in scopes and record.contact.address:
        claims["address"] = dict(record.contact.address)
    if "id_number" in scopes:
        claims["id_number"] = record.number
        claims["id_document_type"] = record.document_type
    return claims


def build_claims(svc: Services, client: Client, principal: Principal, scope: str) -> dict[str, Any]:
    scopes = frozenset(scope.split()) & client.scopes
    person_scopes = scopes - {"enterprise"}
    if principal.enterprise is not None:
        person_scopes -= SUBJECT_SCOPES
    about_person = {
        **person_claims(read_person(svc.cipher, principal.person), person_scopes),
        **registry_claims(svc.cipher, principal.person, person_scopes),
    }
    if principal.enterprise is None:
        return {"sub": subject_of(svc, client, principal), "entity_type": "person", **about_person}
    return {
        "sub": subject_of(svc, client, principal),
        "entity_type": "enterprise",
        "uscc": enterprise_uscc(svc.cipher, principal.enterprise),
        "name": principal.enterprise.name,
        **enterprise_claims(svc.cipher, principal.enterprise, scopes),
        "act": {**actor(svc, client, principal), "entity_type": "person", **about_person},
        **mandate_claim(principal),
    }


def released_names(claims: dict[str, Any]) -> list[str]:
    """Names of the personal claims in ``claims``, flattening ``act`` as ``act.<name>`` and the
    verified claims as ``verified_claims.<name>``."""
    names = [k for k in claims if k not in NON_PERSONAL | {"act", VERIFIED_CLAIMS}]
    names += verified_names(claims)
    act = claims.get("act")
    if isinstance(act, dict):
        names += [f"act.{k}" for k in released_names(act)]
    return names
