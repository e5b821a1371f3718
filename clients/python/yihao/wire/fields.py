"""Certificate types and the fields they carry, each with a small integer code on the wire.

A QR code pays for every byte, so a field travels as ``{code: value}`` with the value packed:
dates as days since 1970-01-01, a resident identity number as one integer, an area in hundredths
of a square metre. Outside the wire (registries, verifier results, JSON) every value has one plain
JSON form, listed per kind below; ``encode_value`` and ``decode_value`` convert between the two.
Codes are global across types so that "name" is 1 wherever it appears; a code is never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

from stdnum.iso7064 import mod_11_2

from yihao.wire.errors import Failure, FormatError

_EPOCH = date(1970, 1, 1)
_ID_DIGITS = 17
_ID_CHECK_BASE = 11  # MOD 11-2 check values 0..10, 10 written as "X" (GB 11643 §5)


class CredentialType(IntEnum):
    """Certificate types; the GB/T 36904 type code of each is configured by the issuer."""

    ID_CARD = 1  # 居民身份证
    HOUSEHOLD = 2  # 户口登记项
    PROPERTY = 3  # 不动产权证书
    BUSINESS_LICENCE = 4  # 营业执照
    SOCIAL_INSURANCE = 5  # 个人社会保险参保缴费记录 (one month)
    SOCIAL_INSURANCE_UNIT = 6  # 单位社会保险参保缴费记录 (one month)


#: JSON form of each value kind:
#: text -> str; uint -> int >= 0; bool -> bool; date -> "YYYY-MM-DD"; date_or_null -> same or
#: None (长期, no end); resident_id -> the 18-character number; centi -> decimal string with at
#: most two places ("89.5" square metres, "478.5" yuan); text_list -> list of str.
KINDS = ("text", "uint", "bool", "date", "date_or_null", "resident_id", "centi", "text_list")


@dataclass(frozen=True)
class Field:
    code: int
    name: str
    kind: str
    label_zh: str
    label_en: str


FIELDS: tuple[Field, ...] = (
    Field(1, "name", "text", "姓名", "Name"),
    Field(2, "sex", "uint", "性别", "Sex"),  # SEX_CODES
    Field(3, "ethnicity", "text", "民族", "Ethnicity"),
    Field(4, "birth_date", "date", "出生日期", "Date of birth"),
    Field(5, "address", "text", "住址", "Address"),
    Field(6, "id_number", "resident_id", "公民身份号码", "Identity number"),
    Field(7, "issuing_authority", "text", "签发机关", "Issuing authority"),
    Field(8, "valid_from", "date", "有效期起", "Valid from"),
    Field(9, "valid_until", "date_or_null", "有效期至", "Valid until"),
    Field(10, "over_18", "bool", "已满18周岁", "Aged 18 or over"),
    Field(11, "household_number", "text", "户号", "Household number"),
    Field(12, "relation", "text", "与户主关系", "Relation to head of household"),
    Field(13, "household_address", "text", "户籍地址", "Household address"),
    Field(20, "property_unit_number", "text", "不动产单元号", "Property unit number"),
    Field(21, "certificate_number", "text", "证书号", "Certificate number"),
    Field(22, "location", "text", "坐落", "Location"),
    Field(23, "area", "centi", "面积(平方米)", "Area (m²)"),
    Field(24, "owners", "text_list", "权利人", "Owners"),
    Field(25, "mortgaged", "bool", "抵押状态", "Mortgaged"),
    Field(26, "usage", "text", "用途", "Usage"),
    Field(30, "uscc", "text", "统一社会信用代码", "Unified social credit code"),
    Field(31, "enterprise_name", "text", "名称", "Enterprise name"),
    Field(32, "enterprise_type", "text", "类型", "Enterprise type"),
    Field(33, "legal_representative", "text", "法定代表人", "Legal representative"),
    Field(34, "registered_capital", "uint", "注册资本(元)", "Registered capital (yuan)"),
    Field(35, "established", "date", "成立日期", "Date of establishment"),
    Field(37, "business_status", "text", "登记状态", "Registration status"),
    Field(40, "period", "text", "缴费年月", "Contribution month"),  # "YYYY-MM"
    Field(41, "employer_uscc", "text", "参保单位统一社会信用代码", "Employer's credit code"),
    Field(42, "insurance_types", "text_list", "参保险种", "Insurance types"),
    Field(43, "contribution_base", "centi", "缴费基数(元)", "Contribution base (yuan)"),
    Field(44, "contribution_amount", "centi", "缴费金额(元)", "Contributions paid (yuan)"),
    Field(45, "insured_headcount", "uint", "参保人数", "Insured headcount"),
)

#: GB/T 2261.1 sex codes, the values ``sex`` carries; words as GB 11643 parsing and the OIDC
#: ``gender`` claim spell them.
SEX_CODES: dict[str, int] = {"male": 1, "female": 2}
SEX_WORDS: dict[int, str] = {code: word for word, code in SEX_CODES.items()}

BY_CODE: dict[int, Field] = {f.code: f for f in FIELDS}
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

#: The fields each certificate type holds, in display order.
TYPE_FIELDS: dict[CredentialType, tuple[str, ...]] = {
    CredentialType.ID_CARD: (
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "address",
        "id_number",
        "issuing_authority",
        "valid_from",
        "valid_until",
        "over_18",
    ),
    CredentialType.HOUSEHOLD: (
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "id_number",
        "household_number",
        "relation",
        "household_address",
    ),
    CredentialType.PROPERTY: (
        "property_unit_number",
        "certificate_number",
        "location",
        "area",
        "usage",
        "owners",
        "mortgaged",
    ),
    CredentialType.BUSINESS_LICENCE: (
        "uscc",
        "enterprise_name",
        "enterprise_type",
        "legal_representative",
        "registered_capital",
        "established",
        "address",
        "business_status",
    ),
    CredentialType.SOCIAL_INSURANCE: (
        "id_number",
        "name",
        "period",
        "employer_uscc",
        "insurance_types",
        "contribution_base",
        "contribution_amount",
    ),
    CredentialType.SOCIAL_INSURANCE_UNIT: (
        "uscc",
        "enterprise_name",
        "period",
        "insured_headcount",
        "contribution_amount",
    ),
}


#: Fields the issuer works out at issuance from the others (``over_18`` from ``birth_date`` on the
#: day of issue); no registry record holds them.
DERIVED_FIELDS: frozenset[str] = frozenset({"over_18"})

#: The fields a source record of each type holds: its type's fields less the derived ones.
RECORD_FIELDS: dict[CredentialType, tuple[str, ...]] = {
    type_: tuple(name for name in names if name not in DERIVED_FIELDS)
    for type_, names in TYPE_FIELDS.items()
}


def _bad(what: str) -> FormatError:
    return FormatError(Failure.CLAIMS, what)


def _pack_resident_id(number: str) -> int:
    if len(number) != _ID_DIGITS + 1 or not number[:_ID_DIGITS].isdigit():
        raise ValueError("a resident identity number has 17 digits and a check character")
    check = 10 if number[-1] in "Xx" else int(number[-1]) if number[-1].isdigit() else -1
    if check < 0:
        raise ValueError("the check character is a digit or X")
    return int(number[:_ID_DIGITS]) * _ID_CHECK_BASE + check


def _unpack_resident_id(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad("id_number is not an unsigned integer")
    body, check = divmod(value, _ID_CHECK_BASE)
    # Compare before formatting: str() of a hostile bignum raises ValueError past 4,300 digits.
    if body >= 10**_ID_DIGITS:
        raise _bad("id_number has too many digits")
    number = f"{body:0{_ID_DIGITS}d}" + ("X" if check == 10 else str(check))
    if not mod_11_2.is_valid(number):
        raise _bad("id_number fails its MOD 11-2 check")
    return number


def _pack_date(value: str) -> int:
    return (date.fromisoformat(value) - _EPOCH).days


def _unpack_date(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad("a date is not an integer")
    try:
        return (_EPOCH + timedelta(days=value)).isoformat()
    except OverflowError:
        raise _bad("a date is out of range") from None


def _pack_centi(value: str) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    hundredths = amount * 100
    if hundredths != hundredths.to_integral_value() or amount < 0:
        raise ValueError("a centi value is non-negative with at most two decimal places")
    return int(hundredths)


def _unpack_centi(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad("a centi value is not an unsigned integer")
    return str((Decimal(value) / 100).normalize() if value % 100 else Decimal(value // 100))


def encode_value(name: str, value: Any) -> Any:
    """JSON form -> wire form; ValueError names what is wrong (never echoing an identity number)."""
    kind = BY_NAME[name].kind
    if kind == "resident_id":
        return _pack_resident_id(str(value))
    if kind == "date" or (kind == "date_or_null" and value is not None):
        return _pack_date(str(value))
    if kind == "centi":
        return _pack_centi(str(value))
    _check_plain(kind, value)
    return value


def _check_plain(kind: str, value: Any) -> None:
    ok = {
        "text": lambda v: isinstance(v, str),
        "uint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "bool": lambda v: isinstance(v, bool),
        "date_or_null": lambda v: v is None,
        "text_list": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    }[kind](value)
    if not ok:
        raise ValueError(f"expected a value of kind {kind}")


def decode_value(code: int, value: object) -> tuple[str, Any]:
    """Wire form -> (field name, JSON form); FormatError(CLAIMS) for anything malformed."""
    field = BY_CODE.get(code)
    if field is None:
        raise _bad(f"unknown field code {code}")
    kind = field.kind
    if kind == "resident_id":
        return field.name, _unpack_resident_id(value)
    if kind == "date" or (kind == "date_or_null" and value is not None):
        return field.name, _unpack_date(value)
    if kind == "centi":
        return field.name, _unpack_centi(value)
    try:
        _check_plain(kind, value)
    except ValueError:
        raise _bad(f"field {field.name} is not of kind {kind}") from None
    return field.name, value
