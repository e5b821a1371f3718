"""Source registries (population, real estate, market regulation, social insurance): their CSV
columns and the rules that turn one row into the data a certificate will carry.

Pure functions with no Flask and no database, so that every rule is testable on its own and the
importer only decides how rows are written. A row becomes a ``RegistryRow`` whose data holds the
JSON forms of ``yihao.wire.fields``; ``encode_value`` is the last check, so nothing is stored
that could not later be put on the wire. Identifiers never appear in a ``RowError``: registry
files are personal data, and reasons end up in terminals and logs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from yihao.wire.fields import RECORD_FIELDS, SEX_CODES, CredentialType, encode_value

from idp.identifiers import (
    DocumentType,
    InvalidIdentifier,
    ResidentId,
    mask_identifier,
    parse_mobile,
    parse_resident_id,
    parse_uscc,
)

MAX_TEXT = 200
PROPERTY_UNIT_LENGTH = 28
_PROPERTY_UNIT_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LONG_TERM = {"", "长期"}
_BOOLEANS = {"是": True, "否": False, "yes": True, "no": False, "true": True, "false": False}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AREA = re.compile(r"\d{1,9}(\.\d{1,2})?")
_YUAN = re.compile(r"\d{1,15}")
_MONEY = re.compile(r"\d{1,13}(\.\d{1,2})?")
_PERIOD = re.compile(r"\d{4}-(\d{2})")
_COUNT = re.compile(r"\d{1,9}")
#: The five social insurances (社会保险法 art. 2), in the order records list them.
INSURANCE_TYPES = ("养老保险", "医疗保险", "失业保险", "工伤保险", "生育保险")
_LIST_SEPARATOR = ";"

Cells = Mapping[str, str]
T = TypeVar("T")


class UnknownKind(ValueError):
    """The registry kind named by the operator does not exist."""


class RowError(ValueError):
    """One row is unusable; the message is ``column: problem`` and never quotes an identifier."""

    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"{column}: {problem}")
        self.column = column
        self.problem = problem


@dataclass(frozen=True, repr=False)
class Holder:
    """Whose record it is: a person's number or an enterprise's code, indexed later by the store."""

    subject: Literal["person", "enterprise"]
    identifier: str

    def __repr__(self) -> str:
        return f"Holder({self.subject}, {mask_identifier(self.identifier)!r})"


@dataclass(frozen=True, repr=False)
class RegistryRow:
    """One validated row: natural key, holders and data in the wire's JSON forms.

    ``mobile`` is the population registry's mobile number on record: it proves possession at
    self-registration (``idp.auth.registration``) and never goes on a certificate, so it is kept
    out of ``data``. ``repr`` shows only the masked key, so that logging a row cannot leak the data.
    """

    kind: str
    key: str
    key_masked: str
    holders: tuple[Holder, ...]
    data: dict[str, Any]
    mobile: str | None = None

    def __repr__(self) -> str:
        return f"RegistryRow({self.kind}, {self.key_masked!r})"


#: Record fields a registry file does not hold in a column of the same name: sex and birth date
#: come from the identity number (GB 11643), so no column can contradict it; a property's owners
#: come from two columns, their numbers (which make them holders) and their names (the data).
_COLUMNS_OF: dict[str, tuple[str, ...]] = {
    "sex": (),
    "birth_date": (),
    "owners": ("owner_id_numbers", "owner_names"),
}


@dataclass(frozen=True)
class RegistryKind:
    """A registry: the certificate it feeds, its natural-key column and the row builder.

    Its CSV columns follow from the certificate type's record fields (``yihao.wire.fields``),
    key first; ``optional_columns`` may be missing from a file's header (their cells read empty).
    ``key_also`` names further key columns where one holder has a record per month.
    """

    name: str
    credential_type: CredentialType
    key_column: str
    build: Callable[[Cells], RegistryRow]
    optional_columns: tuple[str, ...] = ()
    key_also: tuple[str, ...] = ()

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.key_column, *self.key_also)

    @property
    def columns(self) -> tuple[str, ...]:
        fields = RECORD_FIELDS[self.credential_type]
        found = [column for name in fields for column in _COLUMNS_OF.get(name, (name,))]
        return (self.key_column, *(column for column in found if column != self.key_column))


def parse_row(kind: str, cells: Cells) -> RegistryRow:
    """Validate one row (column -> raw cell) of the named registry; RowError says what is wrong."""
    spec = registry_kind(kind)
    columns = spec.columns + spec.optional_columns
    stripped = {column: (cells.get(column) or "").strip() for column in columns}
    row = spec.build(stripped)
    _require_wire_forms(row.data)
    return row


def registry_kind(name: str) -> RegistryKind:
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(KINDS)
        raise UnknownKind(f"unknown registry kind {name!r}; expected one of {known}") from None


# -- the registries ------------------------------------------------------------------------


def _resident_id_row(cells: Cells) -> RegistryRow:
    rid = _citizen(cells, "id_number")
    valid_from = _date(cells, "valid_from")
    valid_until = _optional_until(cells, "valid_until", valid_from)
    data = {
        **_person_facts(rid, cells),
        "address": _text(cells, "address"),
        "issuing_authority": _text(cells, "issuing_authority"),
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    row = _person_row("resident_id", rid, data)
    return replace(row, mobile=_optional_mobile(cells, "mobile"))


def _household_row(cells: Cells) -> RegistryRow:
    rid = _citizen(cells, "id_number")
    data = {
        **_person_facts(rid, cells),
        "household_number": _text(cells, "household_number"),
        "relation": _text(cells, "relation"),
        "household_address": _text(cells, "household_address"),
    }
    return _person_row("household", rid, data)


def _property_row(cells: Cells) -> RegistryRow:
    unit = _property_unit(cells, "property_unit_number")
    owners = _owners(cells, "owner_id_numbers")
    names = _text_list(cells, "owner_names")
    if len(names) != len(owners):
        raise RowError("owner_names", f"{len(names)} names for {len(owners)} owner numbers")
    data = {
        "property_unit_number": unit,
        "certificate_number": _text(cells, "certificate_number"),
        "location": _text(cells, "location"),
        "area": _area(cells, "area"),
        "usage": _text(cells, "usage"),
        "owners": names,
        "mortgaged": _boolean(cells, "mortgaged"),
    }
    return RegistryRow("property", unit, mask_identifier(unit), owners, data)


def _business_row(cells: Cells) -> RegistryRow:
    code = _identifier(cells, "uscc", lambda s: parse_uscc(s).code)
    data = {
        "uscc": code,
        "enterprise_name": _text(cells, "enterprise_name"),
        "enterprise_type": _text(cells, "enterprise_type"),
        "legal_representative": _text(cells, "legal_representative"),
        "registered_capital": _yuan(cells, "registered_capital"),
        "established": _date(cells, "established").isoformat(),
        "address": _text(cells, "address"),
        "business_status": _text(cells, "business_status"),
    }
    masked = mask_identifier(code)
    return RegistryRow("business", code, masked, (Holder("enterprise", code),), data)


def _social_insurance_row(cells: Cells) -> RegistryRow:
    """One person's contributions for one month; permit holders are insured like residents."""
    rid = _identifier(cells, "id_number", parse_resident_id)
    period = _period(cells, "period")
    base = _positive_money(cells, "contribution_base")
    amount = _positive_money(cells, "contribution_amount")
    if Decimal(amount) > Decimal(base):
        # Every rate is a fraction of the base, so no month's contributions can exceed it.
        raise RowError("contribution_amount", "is more than contribution_base")
    data = {
        "id_number": rid.number,
        "name": _text(cells, "name"),
        "period": period,
        "employer_uscc": _identifier(cells, "employer_uscc", lambda s: parse_uscc(s).code),
        "insurance_types": _insurance_types(cells, "insurance_types"),
        "contribution_base": base,
        "contribution_amount": amount,
    }
    key, masked = f"{rid.number}/{period}", f"{rid.masked}/{period}"
    return RegistryRow("social_insurance", key, masked, (Holder("person", rid.number),), data)


def _social_insurance_unit_row(cells: Cells) -> RegistryRow:
    """One enterprise's insured headcount and contributions for one month."""
    code = _identifier(cells, "uscc", lambda s: parse_uscc(s).code)
    period = _period(cells, "period")
    headcount = _count(cells, "insured_headcount")
    if headcount == 0:
        raise RowError("insured_headcount", "must be greater than 0")
    data = {
        "uscc": code,
        "enterprise_name": _text(cells, "enterprise_name"),
        "period": period,
        "insured_headcount": headcount,
        "contribution_amount": _positive_money(cells, "contribution_amount"),
    }
    key, masked = f"{code}/{period}", f"{mask_identifier(code)}/{period}"
    holders = (Holder("enterprise", code),)
    return RegistryRow("social_insurance_unit", key, masked, holders, data)


def _person_row(kind: str, rid: ResidentId, data: dict[str, Any]) -> RegistryRow:
    return RegistryRow(kind, rid.number, rid.masked, (Holder("person", rid.number),), data)


def _person_facts(rid: ResidentId, cells: Cells) -> dict[str, Any]:
    """Sex and birth date come from the number itself, so a registry cannot contradict it."""
    return {
        "id_number": rid.number,
        "name": _text(cells, "name"),
        "sex": SEX_CODES[rid.sex],
        "ethnicity": _text(cells, "ethnicity"),
        "birth_date": rid.birth_date.isoformat(),
    }


KINDS: dict[str, RegistryKind] = {
    kind.name: kind
    for kind in (
        RegistryKind(
            "resident_id",
            CredentialType.ID_CARD,
            "id_number",
            _resident_id_row,
            optional_columns=("mobile",),
        ),
        RegistryKind("household", CredentialType.HOUSEHOLD, "id_number", _household_row),
        RegistryKind("property", CredentialType.PROPERTY, "property_unit_number", _property_row),
        RegistryKind("business", CredentialType.BUSINESS_LICENCE, "uscc", _business_row),
        RegistryKind(
            "social_insurance",
            CredentialType.SOCIAL_INSURANCE,
            "id_number",
            _social_insurance_row,
            key_also=("period",),
        ),
        RegistryKind(
            "social_insurance_unit",
            CredentialType.SOCIAL_INSURANCE_UNIT,
            "uscc",
            _social_insurance_unit_row,
            key_also=("period",),
        ),
    )
}


# -- cells ------------------------------------------------------------------------------------


def _required(cells: Cells, column: str) -> str:
    value = cells[column]
    if not value:
        raise RowError(column, "is empty")
    return value


def _text(cells: Cells, column: str) -> str:
    return _checked_text(column, _required(cells, column))


def _checked_text(column: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise RowError(column, f"is longer than {MAX_TEXT} characters")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise RowError(column, "contains a control character (such as a line break)")
    return value


def _text_list(cells: Cells, column: str) -> list[str]:
    items = [item.strip() for item in _required(cells, column).split(_LIST_SEPARATOR)]
    if not all(items):
        raise RowError(column, f"has an empty entry between {_LIST_SEPARATOR!r} separators")
    return [_checked_text(column, item) for item in items]


def _optional_mobile(cells: Cells, column: str) -> str | None:
    if not cells[column]:
        return None
    try:
        return parse_mobile(cells[column])
    except InvalidIdentifier:
        raise RowError(column, "is not a mainland mobile number (11 digits, 13x-19x)") from None


def _date(cells: Cells, column: str) -> date:
    value = _required(cells, column)
    if not _DATE.fullmatch(value):
        raise RowError(column, "is not a date of the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(column, "is not a calendar date") from None


def _optional_until(cells: Cells, column: str, valid_from: date) -> date | None:
    """An empty cell or 长期 means the document does not expire."""
    if cells[column] in _LONG_TERM:
        return None
    until = _date(cells, column)
    if until <= valid_from:
        raise RowError(column, "is not after valid_from")
    return until


def _area(cells: Cells, column: str) -> str:
    value = _required(cells, column)
    if not _AREA.fullmatch(value):
        raise RowError(column, "is not a decimal number of square metres with at most 2 places")
    return _positive_centi(column, Decimal(value))


def _positive_money(cells: Cells, column: str) -> str:
    value = _required(cells, column)
    if not _MONEY.fullmatch(value):
        raise RowError(column, "is not an amount of yuan with at most 2 decimal places")
    return _positive_centi(column, Decimal(value))


def _positive_centi(column: str, amount: Decimal) -> str:
    if amount <= 0:
        raise RowError(column, "must be greater than 0")
    # The canonical JSON form: no trailing zeros ("89.50" -> "89.5", "120.00" -> "120").
    return str(
        amount.quantize(Decimal(1)) if amount == amount.to_integral() else amount.normalize()
    )


def _period(cells: Cells, column: str) -> str:
    value = _required(cells, column)
    found = _PERIOD.fullmatch(value)
    if not found:
        raise RowError(column, "is not a month of the form YYYY-MM")
    if not 1 <= int(found.group(1)) <= 12:
        raise RowError(column, "is not a calendar month")
    return value


def _count(cells: Cells, column: str) -> int:
    value = _required(cells, column)
    if not _COUNT.fullmatch(value):
        raise RowError(column, "is not a whole number of people (digits only)")
    return int(value)


def _insurance_types(cells: Cells, column: str) -> list[str]:
    """Kept in ``INSURANCE_TYPES`` order, so a re-export listing them otherwise is no change."""
    items = _text_list(cells, column)
    for position, item in enumerate(items, start=1):
        if item not in INSURANCE_TYPES:
            raise RowError(column, f"entry {position} is not one of {'/'.join(INSURANCE_TYPES)}")
        if item in items[: position - 1]:
            raise RowError(column, f"entry {position} repeats an earlier one")
    return sorted(items, key=INSURANCE_TYPES.index)


def _yuan(cells: Cells, column: str) -> int:
    value = _required(cells, column)
    if not _YUAN.fullmatch(value):
        raise RowError(column, "is not a whole number of yuan (digits only)")
    return int(value)


def _boolean(cells: Cells, column: str) -> bool:
    value = _required(cells, column).lower()
    if value not in _BOOLEANS:
        raise RowError(column, "must be one of " + "/".join(_BOOLEANS))
    return _BOOLEANS[value]


def _property_unit(cells: Cells, column: str) -> str:
    value = _required(cells, column)
    if len(value) != PROPERTY_UNIT_LENGTH:
        raise RowError(column, f"expected {PROPERTY_UNIT_LENGTH} characters, got {len(value)}")
    for position, char in enumerate(value, start=1):
        if char not in _PROPERTY_UNIT_ALPHABET:
            raise RowError(
                column, f"character at position {position} is not a digit or upper-case letter"
            )
    return value


# -- identifiers ------------------------------------------------------------------------------


def _identifier(cells: Cells, column: str, parse: Callable[[str], T]) -> T:
    value = _required(cells, column)
    try:
        return parse(value)
    except InvalidIdentifier as exc:
        raise RowError(column, _reason_text(exc)) from None


def _citizen(cells: Cells, column: str) -> ResidentId:
    """Population registries hold mainland residents only; permit numbers have no hukou entry."""
    rid = _identifier(cells, column, parse_resident_id)
    if rid.document_type is not DocumentType.RESIDENT_ID_CARD:
        raise RowError(column, "is a residence permit number, not a resident identity number")
    return rid


def _owners(cells: Cells, column: str) -> tuple[Holder, ...]:
    """A property's owners: people by identity number, or enterprises (企业产权) by USCC."""
    owners: list[Holder] = []
    items = _required(cells, column).split(_LIST_SEPARATOR)
    for position, item in enumerate(items, start=1):
        owner = _owner(item, column, position)
        if owner.identifier in {o.identifier for o in owners}:
            raise RowError(column, f"number {position} repeats an earlier owner")
        owners.append(owner)
    return tuple(owners)


def _owner(item: str, column: str, position: int) -> Holder:
    """A resident identity number (GB 11643) first, else a USCC (GB 32100); the reason shown is
    the identity number's, the common case, unless the item looks like a code (has a letter
    other than the check character X)."""
    try:
        return Holder("person", parse_resident_id(item).number)
    except InvalidIdentifier as as_person:
        try:
            return Holder("enterprise", parse_uscc(item).code)
        except InvalidIdentifier as as_code:
            looks_like_code = any(ch.isalpha() for ch in item.strip().upper().rstrip("X"))
            reason = _reason_text(as_code if looks_like_code else as_person)
            raise RowError(column, f"number {position}: {reason}") from None


def _reason_text(exc: InvalidIdentifier) -> str:
    """ "The check character does not match." -> "check character does not match" (the identifier
    package never puts the input into its messages, so this is safe to show)."""
    text = str(exc).rstrip(".").removeprefix("The ")
    return text[:1].lower() + text[1:]


def _require_wire_forms(data: Mapping[str, Any]) -> None:
    for name, value in data.items():
        try:
            encode_value(name, value)
        except ValueError:
            raise RowError(name, "cannot be put on a certificate in this form") from None
