"""The ``household``, ``property``, ``social_insurance`` and ``business`` scopes: what the source
registries hold about the person, or, in an enterprise login (``SUBJECT_SCOPES``), about the
enterprise: its business registration, the properties it holds, its social insurance.

A relying service such as school enrolment checks a child's eligibility from the household register
(户籍) and the real-estate register (不动产登记) instead of asking the parent to upload copies. The
records are read through ``idp.store.registry``, found by the person's keyed index, and only the
records of the signed-in person and of their own household are ever decrypted.

Each claim is built from an allow-list of fields rather than by copying the record, so a column
added to a registry later is not released until someone decides it should be: a property is
released with the fields its certificate type carries (``yihao.wire.fields``), which change only
with the documented wire format; the owners' numbers, which make them holders, are never data.
Household members are other people: they are described by name, relation, birth date and sex,
never by their identity numbers, which the service has no need of and the members did not consent
to release. Social insurance records describe their holder: a person's own monthly contributions,
or an enterprise's insured headcount and contributions (what a financing platform builds a credit
profile from); the holder's own number and name are released by ``id_number``/``profile`` or sit
at the top of an enterprise token, so they are not repeated in each month. A business
registration (市场主体登记) is released without the code and name that head the token, and only
for an enterprise login: a person has none.
"""

from __future__ import annotations

from typing import Any

from yihao.wire.fields import RECORD_FIELDS, SEX_WORDS, CredentialType

from idp.store.crypto import FieldCipher
from idp.store.models import Enterprise, Person, RegistryRecord
from idp.store.registry import household_members, read_record, records_for_holder

#: The scopes this module answers (``household`` -> ``household``, ``property`` -> ``properties``,
#: ``social_insurance`` -> ``social_insurance``, ``business`` -> ``business_registration``).
REGISTRY_SCOPES = frozenset({"household", "property", "social_insurance", "business"})
#: Scopes whose claims describe the token's subject: in an enterprise login, the enterprise's
#: records at the top level instead of the acting person's in ``act``.
SUBJECT_SCOPES = frozenset({"property", "social_insurance", "business"})

#: The relation of the head of a household (户主); the head is listed first.
_HEAD = "户主"
#: What a property certificate carries, owners by name only.
_PROPERTY_FIELDS = RECORD_FIELDS[CredentialType.PROPERTY]
#: Who the holder is, released elsewhere; a month lists only what it adds.
_HOLDER_FIELDS = frozenset({"id_number", "name", "uscc", "enterprise_name"})
#: Registry kind -> what one month of it releases.
_CONTRIBUTION_FIELDS = {
    kind: tuple(field for field in RECORD_FIELDS[type_] if field not in _HOLDER_FIELDS)
    for kind, type_ in (
        ("social_insurance", CredentialType.SOCIAL_INSURANCE),
        ("social_insurance_unit", CredentialType.SOCIAL_INSURANCE_UNIT),
    )
}
#: What a business registration releases: the licence's fields but the enterprise's code and name.
_BUSINESS_FIELDS = tuple(
    field for field in RECORD_FIELDS[CredentialType.BUSINESS_LICENCE] if field not in _HOLDER_FIELDS
)


def registry_claims(cipher: FieldCipher, person: Person, scopes: frozenset[str]) -> dict[str, Any]:
    """The registry claims of ``scopes`` about ``person``; nothing is read when none is asked.

    ``household`` is left out when the person has no household record, like any other empty
    claim. ``properties`` and ``social_insurance`` are always present when granted: an empty list
    is an answer in itself (the register holds no property of this person), which eligibility
    checks rely on.
    """
    if not scopes & REGISTRY_SCOPES:
        return {}
    records = records_for_holder(person.number_index)
    claims: dict[str, Any] = {}
    if "household" in scopes:
        own = next((r for r in records if r.kind == "household"), None)
        if own is not None:
            claims["household"] = household_claim(cipher, own)
    if "property" in scopes:
        claims["properties"] = properties_claim(cipher, records)
    if "social_insurance" in scopes:
        claims["social_insurance"] = contributions_claim(cipher, records, "social_insurance")
    return claims


def enterprise_claims(
    cipher: FieldCipher, enterprise: Enterprise, scopes: frozenset[str]
) -> dict[str, Any]:
    """The registry claims of ``SUBJECT_SCOPES`` about the enterprise of an enterprise login.

    As for a person, ``properties`` and ``social_insurance`` are lists even when empty (no
    property is an answer a lender relies on); ``business_registration`` is left out when the
    market-regulation registry holds no record of the enterprise.
    """
    if not scopes & SUBJECT_SCOPES:
        return {}
    records = records_for_holder(enterprise.uscc_index)
    claims: dict[str, Any] = {}
    if "business" in scopes:
        own = next((r for r in records if r.kind == "business"), None)
        if own is not None:
            claims["business_registration"] = business_claim(cipher, own)
    if "property" in scopes:
        claims["properties"] = properties_claim(cipher, records)
    if "social_insurance" in scopes:
        claims["social_insurance"] = contributions_claim(cipher, records, "social_insurance_unit")
    return claims


def properties_claim(cipher: FieldCipher, records: list[RegistryRecord]) -> list[dict[str, Any]]:
    """Every property record among the holder's, person or enterprise alike."""
    return [property_claim(cipher, record) for record in records if record.kind == "property"]


def business_claim(cipher: FieldCipher, record: RegistryRecord) -> dict[str, Any]:
    """The enterprise's business registration, without the code and name the token carries."""
    data = read_record(cipher, record)
    return {field: data[field] for field in _BUSINESS_FIELDS}


def contributions_claim(
    cipher: FieldCipher, records: list[RegistryRecord], kind: str
) -> list[dict[str, Any]]:
    """The holder's monthly social insurance records of ``kind``, oldest month first."""
    months = [read_record(cipher, record) for record in records if record.kind == kind]
    return sorted((month_claim(data, kind) for data in months), key=lambda m: m["period"])


def month_claim(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """What one month's record of ``kind`` releases: not its holder, released elsewhere."""
    return {field: data[field] for field in _CONTRIBUTION_FIELDS[kind]}


def household_claim(cipher: FieldCipher, own: RegistryRecord) -> dict[str, Any]:
    """The person's household entry and every member sharing its household number.

    The person's own record is always among the members, even when it predates the group index
    (migration 0004) and so is not found by it.
    """
    data = read_record(cipher, own)
    found = household_members(cipher, str(data["household_number"]))
    if all(record.id != own.id for record in found):
        found.append(own)
    members = [read_record(cipher, record) for record in found]
    # Defence in depth: the index is keyed, but a member must really carry the same number.
    same = [m for m in members if m["household_number"] == data["household_number"]]
    # Head first, then by age (sorted is stable, so equal keys keep import order).
    same.sort(key=lambda m: (m["relation"] != _HEAD, m["birth_date"]))
    return {
        "household_number": data["household_number"],
        "address": data["household_address"],
        "relation": data["relation"],
        "members": [_member(m) for m in same],
    }


def property_claim(cipher: FieldCipher, record: RegistryRecord) -> dict[str, Any]:
    """One property record the person holds, with its owners by name only."""
    data = read_record(cipher, record)
    return {field: data[field] for field in _PROPERTY_FIELDS}


def _member(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "relation": data["relation"],
        "birth_date": data["birth_date"],
        "sex": SEX_WORDS[data["sex"]],
    }
