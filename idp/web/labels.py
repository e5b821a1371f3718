"""Human-readable, translated labels for scopes, claims and release channels.

The tables hold lazy strings so they can be built at import time; they are translated into the
current request's locale when converted with ``str()``. :func:`claim_label` and
:func:`scope_label` do that conversion and must therefore run inside a request or app context
with Flask-Babel configured.
"""

from __future__ import annotations

from typing import Any, Final

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from yihao.wire.fields import BY_NAME

from idp.admin.roles import SCOPE_PREFIX
from idp.identifiers import mask_identifier

SCOPE_LABELS: Final[dict[str, LazyString]] = {
    "openid": _l("Your identifier at this service"),
    "profile": _l("Basic profile"),
    "phone": _l("Phone number"),
    "address": _l("Address"),
    "id_number": _l("Identity document number"),
    "enterprise": _l("Enterprise identity"),
    "household": _l("Household register"),
    "property": _l("Real estate register"),
    "social_insurance": _l("Social insurance contributions"),
    "business": _l("Business registration"),
    "credentials": _l("Your e-certificates, shown as QR codes"),
    "credentials.revoke": _l("Revoking e-certificates"),
    "admin:admin": _l("Administration: administrator"),
    "admin:client-manager": _l("Administration: relying services"),
    "admin:support": _l("Administration: citizen support"),
    "admin:auditor": _l("Administration: audit"),
}

CLAIM_LABELS: Final[dict[str, LazyString]] = {
    "sub": _l("Your identifier at this service"),
    "name": _l("Name"),
    "gender": _l("Gender"),
    "birthdate": _l("Date of birth"),
    "phone_number": _l("Phone number"),
    "address": _l("Address"),
    "id_number": _l("Identity document number"),
    "id_document_type": _l("Identity document type"),
    "uscc": _l("Unified social credit code"),
    "act": _l("Who acts for the enterprise"),
    "mandate": _l("The mandate under which you act for the enterprise"),
    "entity_type": _l("Account type"),
    "household": _l("Your household entry and its members (name, relation, date of birth, sex)"),
    "properties": _l("Real estate you hold (location, area, usage, owners, mortgage)"),
    "social_insurance": _l(
        "Your social insurance by month (employer, insurance types, contribution base, amount)"
    ),
    "business_registration": _l(
        "The enterprise's business registration (type, registered capital, date established,"
        " address, status, legal representative)"
    ),
}

#: Overrides for claims whose meaning changes when the subject is an enterprise: the top-level
#: ``name`` of an enterprise token is the enterprise's registered name, not a person's name, and
#: its ``properties`` and ``social_insurance`` are the enterprise's
#: (``idp.oauth.registry_claims.SUBJECT_SCOPES``).
ENTERPRISE_CLAIM_LABELS: Final[dict[str, LazyString]] = {
    "name": _l("Enterprise name"),
    "properties": _l("Real estate the enterprise holds (location, area, usage, owners, mortgage)"),
    "social_insurance": _l(
        "The enterprise's social insurance by month (insured headcount, amount)"
    ),
}

CHANNEL_LABELS: Final[dict[str, LazyString]] = {
    "id_token": _l("At sign-in"),
    "userinfo": _l("Data request by the service"),
    "credential": _l("E-certificate QR code"),
}

#: Scopes whose claims are highlighted on the consent page. The household register describes other
#: people too, often children under 14, and property records and social insurance contributions
#: (which follow the wage) are financial information: all are sensitive personal information
#: (PIPL art. 28).
SENSITIVE_SCOPES: Final[frozenset[str]] = frozenset(
    {"id_number", "household", "property", "social_insurance"}
)

_ACT_PREFIX: Final = "act."
#: Certificate fields holding an enterprise's code, shown masked like identity numbers.
_MASKED_CODES: Final = frozenset({"uscc", "employer_uscc"})
#: A verified claim (OIDC4IDA), as ``released_names`` records it: ``verified_claims.<claim>``.
_VERIFIED_PREFIX: Final = "verified_claims."


def claim_label(name: str, *, enterprise: bool = False) -> str:
    """The label of claim ``name`` in the current locale.

    ``act.<claim>`` (a claim about the person acting for an enterprise, as recorded by
    ``idp.oauth.claims.released_names``) becomes e.g. "Name (acting person)". Pass
    ``enterprise=True`` for the top-level claims of an enterprise token. Unknown names are
    returned unchanged.
    """
    if name.startswith(_ACT_PREFIX) and len(name) > len(_ACT_PREFIX):
        inner = claim_label(name[len(_ACT_PREFIX) :])
        return str(_l("%(claim)s (acting person)", claim=inner))
    if name.startswith(_VERIFIED_PREFIX) and len(name) > len(_VERIFIED_PREFIX):
        inner = claim_label(name[len(_VERIFIED_PREFIX) :], enterprise=enterprise)
        return str(_l("%(claim)s (verified, from the registry)", claim=inner))
    if enterprise and name in ENTERPRISE_CLAIM_LABELS:
        return str(ENTERPRISE_CLAIM_LABELS[name])
    label = CLAIM_LABELS.get(name)
    return field_label(name) if label is None else str(label)


def field_label(name: str) -> str:
    """The label of an e-certificate field (``yihao.wire.fields``); unknown names unchanged."""
    found = BY_NAME.get(name)
    return name if found is None else localised(found.label_zh, found.label_en)


def localised(label_zh: str, label_en: str) -> str:
    """Pick the label of configured data (catalogue, field table) for the current locale."""
    return label_zh if str(get_locale()).startswith("zh") else label_en


def field_value(name: str, value: Any) -> str:
    """A certificate field's JSON form as a person reads it; identity numbers stay masked."""
    found = BY_NAME.get(name)
    kind = found.kind if found else "text"
    if value is None:
        return str(_l("Long-term")) if kind == "date_or_null" else ""
    if kind == "resident_id" or name in _MASKED_CODES:
        return mask_identifier(str(value))
    if kind == "bool":
        return str(_l("Yes") if value else _l("No"))
    if name == "sex":
        return str(_l("Male") if value == 1 else _l("Female"))
    if kind == "text_list":
        return "、".join(value)
    return str(value)


def scope_label(name: str) -> str:
    """The label of scope ``name`` in the current locale; unknown names are returned unchanged."""
    label = SCOPE_LABELS.get(name)
    return name if label is None else str(label)


#: Why an operator revokes a certificate (``idp.credentials.status.REASONS``).
REVOCATION_REASON_LABELS: Final[dict[str, LazyString]] = {
    "unspecified": _l("No reason given"),
    "key_compromise": _l("The holder's phone or key is lost or stolen"),
    "superseded": _l("Replaced by a newer certificate"),
    "withdrawn": _l("Withdrawn by the issuing authority"),
    "data_error": _l("The registry data was wrong"),
}


def revocation_reason_label(reason: str | None) -> str:
    label = REVOCATION_REASON_LABELS.get(reason or "")
    return (reason or "") if label is None else str(label)


def role_label(role: str) -> str:
    """An operator role (a ``Role`` or its value) is named as the admin scope that carries it."""
    return scope_label(SCOPE_PREFIX + str(role))


def channel_label(name: str) -> str:
    """The label of release channel ``name`` in the current locale; unknown names unchanged."""
    label = CHANNEL_LABELS.get(name)
    return name if label is None else str(label)


#: A client's security profile (``idp.oauth.fapi2.PROFILES``; "" is none).
PROFILE_LABELS: Final[dict[str, LazyString]] = {
    "": _l("None"),
    "fapi2": _l("FAPI 2.0 (private_key_jwt, PAR, DPoP, 60-second codes)"),
}


def profile_label(name: str) -> str:
    """The label of security profile ``name`` in the current locale; unknown names unchanged."""
    label = PROFILE_LABELS.get(name)
    return name if label is None else str(label)
