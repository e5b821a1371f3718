"""Unified social credit codes (GB 32100-2015) of legal entities and other organisations.

The mod-31 check comes from python-stdnum (``stdnum.cn.uscc``). Its ``validate`` is not
used: it insists on digits in the first two positions, which rejects registration
authorities A, G, J, N, Q and Y, and it does not check the embedded organisation code.
"""

import string
from dataclasses import dataclass

from stdnum.cn import uscc

from .errors import InvalidIdentifier

LENGTH = 18
# GB 32100-2015 code character set: digits and capitals except I, O, Z, S, V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 registration authority codes, including later additions; Y is "other".
REGISTRATION_AUTHORITIES = frozenset("123456789AGJNQY")
# GB 11714-1997 organisation code check: weights of the eight body characters.
_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANISATION_CODE_VALUES = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class Uscc:
    """A code that passed every check, split into the parts registries care about."""

    code: str
    registration_authority: str
    organisation_type: str
    region_code: str
    organisation_code: str


def parse_uscc(s: str) -> Uscc:
    """Validate a code and split it; people type it in lower case and with spaces around."""
    code = s.strip().upper()
    _require_syntax(code)
    # GB 32100-2015 check character: mod 31 with weights 3^(i-1) mod 31.
    if code[-1] != uscc.calc_check_digit(code[:-1]):
        raise InvalidIdentifier("check_character", "The check character does not match.")
    organisation_code = code[8:17]
    _require_organisation_code(organisation_code)
    return Uscc(
        code=code,
        registration_authority=code[0],
        organisation_type=code[1],
        region_code=code[2:8],
        organisation_code=organisation_code,
    )


def _require_syntax(code: str) -> None:
    if len(code) != LENGTH:
        raise InvalidIdentifier("length", f"Expected {LENGTH} characters, got {len(code)}.")
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise InvalidIdentifier(
                "character", f"Character at position {position} is not allowed."
            )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise InvalidIdentifier(
            "registration_authority", "The registration authority code is not assigned."
        )
    # GB 32100-2015: positions 3-8 are a GB/T 2260 region code, digits only.
    if not code[2:8].isdigit():
        raise InvalidIdentifier("format", "Positions 3 to 8 must be a six-digit region code.")


def _require_organisation_code(organisation_code: str) -> None:
    if organisation_code[-1] != _organisation_check_character(organisation_code[:-1]):
        raise InvalidIdentifier(
            "organisation_code", "The embedded organisation code has a wrong check character."
        )


def _organisation_check_character(body: str) -> str:
    # GB 11714-1997: C9 = 11 - (sum of value * weight mod 11); 10 is X, 11 is 0.
    total = sum(
        _ORGANISATION_CODE_VALUES.index(char) * weight
        for char, weight in zip(body, _ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))
