"""Verified claims from the source registries (OpenID Connect for Identity Assurance 1.0 and the
OpenID Identity Assurance Schema Definition 1.0, both final).

A relying service that must rely on registry data (school enrolment checking a household, a
housing fund checking a name against the population register) asks for ``verified_claims`` in the
``claims`` parameter (``idp.oauth.claims_parameter``) instead of trusting plain claims. The answer
names the trust framework (``TRUST_FRAMEWORK``, defined once here) and, as evidence, the very
registry records the values were read from: their kind, version and time. Authlib has no
server-side support for any of this, so it is written here by hand.

What may be released is bounded three times: by ``EVIDENCE`` (only registry-backed claims exist as
verified claims), by the granted scopes (which the person consented to; the claims parameter never
widens them), and by what the request names: ``verification`` carries ``time`` and ``evidence``
only when asked for, each evidence entry shaped by the request's template. Constraints this
provider cannot meet make it omit the element, as the specification says, rather than fail the
request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from authlib.oauth2.rfc6749 import InvalidRequestError
from yihao.wire.fields import SEX_WORDS

from idp.oauth.principal import Principal
from idp.oauth.registry_claims import (
    SUBJECT_SCOPES,
    business_claim,
    household_claim,
    month_claim,
    property_claim,
)
from idp.store.crypto import FieldCipher
from idp.store.models import RegistryRecord
from idp.store.registry import read_record, records_for_holder

#: The claim (Schema Definition 5.2) and its evidence type (Schema Definition 5.4.4.3).
VERIFIED_CLAIMS = "verified_claims"
EVIDENCE_TYPE = "electronic_record"
#: Schema Definition 5.4.2 ``trust_framework``: data read from the government registries the
#: provider imports (``idp registry import``), as of their last import; docs/claims.md defines it.
TRUST_FRAMEWORK = "cn_gov_registry"
#: Schema Definition 5.4.2 ``verification.time`` and record ``created_at``: ISO 8601, UTC.
_TIME = "%Y-%m-%dT%H:%M:%SZ"

Value = Callable[[FieldCipher, RegistryRecord, dict[str, Any]], Any]


@dataclass(frozen=True)
class VerifiedClaim:
    """One claim a registry backs: the scope whose consent releases it, and how it is read."""

    scope: str
    value: Value


@dataclass(frozen=True)
class RegistryEvidence:
    """How one registry kind becomes verified claims and their evidence.

    ``kind`` is the registry kind (``registry_records.kind``) and the evidence's ``record.type``;
    ``source`` the registry's name in ``record.source.name``; ``holder`` whose records they are.
    With ``many`` a claim is the list of every record of the kind (properties), each record one
    piece of evidence, in the order of ``order`` (a record's data -> its sort key) when given;
    otherwise the subject's one record of the kind.
    """

    kind: str
    source: str
    holder: Literal["person", "enterprise"]
    claims: Mapping[str, VerifiedClaim]
    many: bool = False
    order: Callable[[dict[str, Any]], Any] | None = None


def _field(name: str) -> Value:
    return lambda _cipher, _record, data: data[name]


def _month(kind: str) -> Value:
    return lambda _cipher, _record, data: month_claim(data, kind)


def _period(data: dict[str, Any]) -> Any:
    return data["period"]  # months in order, as the plain claim lists them


def _address(_cipher: FieldCipher, _record: RegistryRecord, data: dict[str, Any]) -> Any:
    # OIDC Core 5.1.1, as the plain address claim (idp.oauth.claims) spells it.
    return {"formatted": data["address"], "country": "CN"}


#: Every registry kind that backs verified claims: a new registry is one entry here.
EVIDENCE: tuple[RegistryEvidence, ...] = (
    RegistryEvidence(
        "resident_id",
        "国家人口基础信息库",
        "person",
        {
            "name": VerifiedClaim("profile", _field("name")),
            "gender": VerifiedClaim("profile", lambda _c, _r, d: SEX_WORDS[d["sex"]]),
            "birthdate": VerifiedClaim("profile", _field("birth_date")),
            "address": VerifiedClaim("address", _address),
            "id_number": VerifiedClaim("id_number", _field("id_number")),
        },
    ),
    RegistryEvidence(
        "household",
        "户籍登记信息库",
        "person",
        {"household": VerifiedClaim("household", lambda c, r, _d: household_claim(c, r))},
    ),
    RegistryEvidence(
        "property",
        "不动产登记信息库",
        "person",
        {"properties": VerifiedClaim("property", lambda c, r, _d: property_claim(c, r))},
        many=True,
    ),
    RegistryEvidence(
        "property",
        "不动产登记信息库",
        "enterprise",
        {"properties": VerifiedClaim("property", lambda c, r, _d: property_claim(c, r))},
        many=True,
    ),
    RegistryEvidence(
        "business",
        "市场主体登记信息库",
        "enterprise",
        {
            "uscc": VerifiedClaim("enterprise", _field("uscc")),
            "name": VerifiedClaim("enterprise", _field("enterprise_name")),
            "business_registration": VerifiedClaim(
                "business", lambda c, r, _d: business_claim(c, r)
            ),
        },
    ),
    RegistryEvidence(
        "social_insurance",
        "社会保险信息库",
        "person",
        {"social_insurance": VerifiedClaim("social_insurance", _month("social_insurance"))},
        many=True,
        order=_period,
    ),
    RegistryEvidence(
        "social_insurance_unit",
        "社会保险信息库",
        "enterprise",
        {"social_insurance": VerifiedClaim("social_insurance", _month("social_insurance_unit"))},
        many=True,
        order=_period,
    ),
)

#: OIDC4IDA 8 (OP metadata): what may appear inside ``verified_claims.claims``, and the record
#: types of the evidence.
CLAIMS_IN_VERIFIED_CLAIMS = sorted({name for entry in EVIDENCE for name in entry.claims})
RECORD_TYPES = list(dict.fromkeys(entry.kind for entry in EVIDENCE))


# -- the request (OIDC4IDA 5.3-5.6) ----------------------------------------------------------------


def parse_request(value: Any) -> list[dict[str, Any]]:
    """Check a ``verified_claims`` request (one object or an array of them: OIDC4IDA 5.3, 5.4,
    5.6 and its request schema) and return it as a list. Claims no registry backs are simply
    never found."""
    elements = value if isinstance(value, list) else [value]
    if not elements:
        raise InvalidRequestError("claims: verified_claims must not be an empty array")
    return [_parse_element(element) for element in elements]


def _parse_element(element: Any) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise InvalidRequestError("claims: each verified_claims request must be an object")
    verification, claims = element.get("verification"), element.get("claims", {})
    # OIDC4IDA 5.4 and its request schema: verification names trust_framework; claims is
    # null (verification only) or names at least one claim.
    if not isinstance(verification, dict) or "trust_framework" not in verification:
        raise InvalidRequestError("claims: verified_claims.verification needs trust_framework")
    for name in ("trust_framework", "time"):
        if verification.get(name) is not None and not isinstance(verification[name], dict):
            raise InvalidRequestError(f"claims: verification.{name} must be null or an object")
    evidence = verification.get("evidence")
    if evidence is not None and not _templates(evidence):
        raise InvalidRequestError("claims: verification.evidence must list objects with a type")
    if claims is not None and (not isinstance(claims, dict) or not claims):
        raise InvalidRequestError("claims: verified_claims.claims must be null or name a claim")
    for request in (claims or {}).values():
        check_claim_request("verified_claims.claims", request)
    return {"verification": verification, "claims": claims or {}}


def _templates(evidence: Any) -> bool:
    return (
        isinstance(evidence, list)
        and bool(evidence)
        and all(isinstance(e, dict) and isinstance(e.get("type"), dict) for e in evidence)
    )


def check_claim_request(where: str, request: Any) -> None:
    """OIDC Core 5.5.1: an individual claim request is null or an object, ``essential`` a
    boolean and ``values`` an array. ``where`` is ours, never the claim's name: the description
    goes into the client's redirect, where RFC 6749 4.1.2.1 allows few characters."""
    if request is None:
        return
    if not isinstance(request, dict):
        raise InvalidRequestError(f"claims: each claim in {where} must be null or an object")
    if "essential" in request and not isinstance(request["essential"], bool):
        raise InvalidRequestError(f"claims: essential in {where} must be true or false")
    if "values" in request and not isinstance(request["values"], list):
        raise InvalidRequestError(f"claims: values in {where} must be an array")


def requested_scopes(requests: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The scopes whose data a request asks for as verified claims (for the consent page)."""
    return frozenset(
        entry.claims[name].scope
        for request in requests
        for entry in EVIDENCE
        for name in request["claims"]
        if name in entry.claims
    )


# -- the answer (OIDC4IDA 5.2 and 5.7, Schema Definition 5) --------------------------------------


def add_verified_claims(
    claims: dict[str, Any],
    cipher: FieldCipher,
    principal: Principal,
    scopes: frozenset[str],
    requests: list[dict[str, Any]],
) -> dict[str, Any]:
    """``claims`` with the verified claims requested, where they belong: as the plain claims do
    (``idp.oauth.claims``), the top level describes the token's subject (the enterprise's
    business registration) and ``act`` the acting person (their own registry records)."""
    if not requests:
        return claims
    now = datetime.now(UTC).replace(tzinfo=None)
    person = principal.person.number_index
    if principal.enterprise is None:
        return {**claims, **verified_claims(cipher, person, "person", scopes, requests, now)}
    # As idp.oauth.claims: SUBJECT_SCOPES in an enterprise login are about the enterprise.
    about_person = scopes - {"enterprise"} - SUBJECT_SCOPES
    acting = verified_claims(cipher, person, "person", about_person, requests, now)
    enterprise = principal.enterprise.uscc_index
    top = verified_claims(cipher, enterprise, "enterprise", scopes, requests, now)
    return {**claims, **top, "act": {**claims["act"], **acting}}


def verified_claims(
    cipher: FieldCipher,
    holder_index: str,
    holder: Literal["person", "enterprise"],
    scopes: frozenset[str],
    requests: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """``{"verified_claims": ...}`` from the records of one holder (by its keyed index), or
    ``{}`` when nothing requested can be given. Each request element is answered on its own
    (OIDC4IDA 5.6), with one element per registry kind that has what it asks."""
    entries = [entry for entry in EVIDENCE if entry.holder == holder]
    records = records_for_holder(holder_index)
    found = [
        element
        for request in requests
        for entry in entries
        if (element := _element(cipher, entry, records, scopes, request, now)) is not None
    ]
    if not found:
        return {}
    return {VERIFIED_CLAIMS: found[0] if len(found) == 1 else found}


def _element(
    cipher: FieldCipher,
    entry: RegistryEvidence,
    records: list[RegistryRecord],
    scopes: frozenset[str],
    request: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """One ``verified_claims`` element from the records of ``entry``'s kind, or None. A
    constraint in ``verification`` that they do not meet omits the whole element (5.7.4)."""
    asked = request["verification"]
    templates = asked.get("evidence")
    template = _template_for(templates, entry.kind) if templates is not None else None
    if not _allows(asked.get("trust_framework"), TRUST_FRAMEWORK) or (templates and not template):
        return None
    wanted = request["claims"]
    names = [n for n in wanted if n in entry.claims and entry.claims[n].scope in scopes]
    own = [record for record in records if record.kind == entry.kind]
    if not names or not own:
        return None
    used = _ordered(cipher, entry, own) if entry.many else [(own[0], read_record(cipher, own[0]))]
    latest = max(record.updated_at for record, _data in used)
    if (max_age := _max_age(asked)) is not None and (now - latest).total_seconds() > max_age:
        return None
    claims = {
        name: value
        for name in names
        if _allows(wanted[name], value := _value(cipher, entry, name, used))
    }
    if not claims:
        return None
    verification: dict[str, Any] = {"trust_framework": TRUST_FRAMEWORK}
    # OIDC4IDA 5.4 and 7: the OP "shall not provide the RP with any data it did not request".
    if "time" in asked:
        verification["time"] = latest.strftime(_TIME)
    if template is not None:
        verification["evidence"] = [_evidence(entry, record, template) for record, _data in used]
    return {"verification": verification, "claims": claims}


def _ordered(
    cipher: FieldCipher, entry: RegistryEvidence, records: list[RegistryRecord]
) -> list[tuple[RegistryRecord, dict[str, Any]]]:
    """Every record of a ``many`` kind with its data, in the entry's order (else import order)."""
    found = [(record, read_record(cipher, record)) for record in records]
    order = entry.order
    return sorted(found, key=lambda pair: order(pair[1])) if order is not None else found


def _value(
    cipher: FieldCipher,
    entry: RegistryEvidence,
    name: str,
    used: list[tuple[RegistryRecord, dict[str, Any]]],
) -> Any:
    read = entry.claims[name].value
    values = [read(cipher, record, data) for record, data in used]
    return values if entry.many else values[0]


def _template_for(templates: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The first evidence template (OIDC4IDA 5.4: filters, joined by OR) that a record of
    ``kind`` matches: by evidence ``type`` and, where asked, by ``record.type``."""
    for template in templates:
        record = template.get("record")
        record_type = record.get("type") if isinstance(record, dict) else None
        if _allows(template.get("type"), EVIDENCE_TYPE) and _allows(record_type, kind):
            return template
    return None


def _evidence(
    entry: RegistryEvidence, record: RegistryRecord, template: dict[str, Any]
) -> dict[str, Any]:
    """Schema Definition 5.4.4.3 (electronic_record): the registry record itself, shaped by the
    template. ``version`` is an extension member (recipients ignore members they do not know)."""
    evidence: dict[str, Any] = {"type": EVIDENCE_TYPE}
    if "record" in template:
        full = {
            "type": entry.kind,
            "created_at": record.updated_at.strftime(_TIME),
            "version": record.version,
            "source": {"name": entry.source, "country_code": "CHN"},
        }
        evidence["record"] = _shaped(full, template["record"], required="type")
    return evidence


def _shaped(full: dict[str, Any], asked: Any, required: str = "") -> dict[str, Any]:
    """OIDC4IDA 5.4: null asks for an element with all it has, an object for what it names."""
    if not isinstance(asked, dict):
        return full
    return {
        name: _shaped(value, asked[name]) if isinstance(value, dict) and name in asked else value
        for name, value in full.items()
        if name in asked or name == required
    }


def _allows(request: Any, value: Any) -> bool:
    """``value``/``values`` (OIDC Core 5.5.1, OIDC4IDA 5.5.1) on a claim or a verification
    element; null or no constraint allows anything."""
    if not isinstance(request, dict):
        return True
    if "value" in request and request["value"] != value:
        return False
    values = request.get("values")
    return not (isinstance(values, list) and value not in values)


def _max_age(verification: dict[str, Any]) -> int | None:
    """OIDC4IDA 5.5.2: ``max_age`` on ``verification.time``, in seconds."""
    time = verification.get("time")
    age = time.get("max_age") if isinstance(time, dict) else None
    return age if isinstance(age, int) and not isinstance(age, bool) and age >= 0 else None


def verified_names(claims: Mapping[str, Any]) -> list[str]:
    """Audit names of the verified claims in ``claims``: ``verified_claims.<claim>``."""
    found = claims.get(VERIFIED_CLAIMS)
    elements = found if isinstance(found, list) else [found] if found else []
    names = {f"{VERIFIED_CLAIMS}.{name}" for element in elements for name in element["claims"]}
    return sorted(names)
