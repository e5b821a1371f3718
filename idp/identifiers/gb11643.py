"""Resident identity numbers (GB 11643-1999) and the documents that share their format.

The region code is deliberately not checked here: people keep their number for life, so
numbers with retired, renamed or pre-1984 region codes are all genuine. Rejecting them
would lock real residents out; use ``region_name`` only to display a place.
"""

import string
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from .errors import InvalidIdentifier
from .iso7064 import mod_11_2_check_character
from .masking import mask_identifier

LENGTH = 18
LEGACY_LENGTH = 15
EARLIEST_BIRTH_DATE = date(1800, 1, 1)

Sex = Literal["male", "female"]


class DocumentType(StrEnum):
    """The document a number belongs to, told apart by its first characters alone."""

    RESIDENT_ID_CARD = "resident"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT = "foreign_permanent"


# Residence permits for HK, Macau and Taiwan residents (2018 measures) use these codes.
_PERMIT_REGIONS = {
    "810000": DocumentType.HK_MACAU_PERMIT,
    "820000": DocumentType.HK_MACAU_PERMIT,
    "830000": DocumentType.TAIWAN_PERMIT,
}
# Foreigners' permanent residence ID card, 2023 edition: numbers start with 9.
_FOREIGN_PERMANENT_PREFIX = "9"


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A number that passed every check, with the facts it encodes.

    ``repr`` shows only the masked number, so that logging the object cannot leak it.
    """

    number: str
    document_type: DocumentType
    region_code: str
    birth_date: date
    sex: Sex

    @property
    def masked(self) -> str:
        return mask_identifier(self.number)

    def __repr__(self) -> str:
        return f"ResidentId({self.masked!r}, {self.document_type.value})"


def normalise_resident_id(s: str) -> str:
    """Undo the two harmless variations people type: stray spaces and a lower-case x."""
    number = s.strip()
    if number.endswith("x"):
        return number[:-1] + "X"
    return number


def upgrade_legacy_15(s: str) -> str:
    """Turn a 15-digit number (GB 11643-1989) into its 18-character form.

    Old cards are still presented, and one person must map to one 18-character number.
    """
    number = s.strip()
    _require_length(number, LEGACY_LENGTH)
    _require_digits(number)
    # GB 11643-1989: six-digit birth date code, century 19 implied.
    body = number[:6] + "19" + number[6:]
    return body + mod_11_2_check_character(body)


def parse_resident_id(s: str, *, today: date | None = None) -> ResidentId:
    """Validate a number and decode it; ``today`` makes the future-date check testable."""
    number = normalise_resident_id(s)
    if len(number) == LEGACY_LENGTH:
        number = upgrade_legacy_15(number)
    _require_length(number, LENGTH)
    # GB 11643-1999 §5.1: seventeen digits and one check character.
    _require_digits(number[:-1])
    _require_check_character(number)
    birth_date = _birth_date(number, date.today() if today is None else today)
    return ResidentId(
        number=number,
        document_type=_document_type(number),
        region_code=number[:6],
        birth_date=birth_date,
        # GB 11643-1999 §5.4: odd sequence codes go to men, even ones to women.
        sex="male" if int(number[16]) % 2 else "female",
    )


def _require_length(number: str, length: int) -> None:
    if len(number) != length:
        raise InvalidIdentifier("length", f"Expected {length} characters, got {len(number)}.")


def _require_digits(part: str) -> None:
    for position, char in enumerate(part, start=1):
        if char == "X":
            raise InvalidIdentifier(
                "format", f"X at position {position} is only allowed as the 18th character."
            )
        if char not in string.digits:
            raise InvalidIdentifier(
                "character", f"Character at position {position} is not a digit."
            )


def _require_check_character(number: str) -> None:
    # GB 11643-1999 §5.5: ISO 7064 MOD 11-2 over the first seventeen digits.
    if number[-1] not in string.digits + "X":
        raise InvalidIdentifier("character", f"Character at position {LENGTH} is not a digit or X.")
    if number[-1] != mod_11_2_check_character(number[:-1]):
        raise InvalidIdentifier("check_character", "The check character does not match.")


def _birth_date(number: str, today: date) -> date:
    # GB 11643-1999 §5.3: YYYYMMDD at positions 7-14, a real calendar date.
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("birth_date", "The birth date is not a calendar date.") from None
    if born > today:
        raise InvalidIdentifier("birth_date", "The birth date is in the future.")
    if born < EARLIEST_BIRTH_DATE:
        raise InvalidIdentifier("birth_date", "The birth date is before 1800.")
    return born


def _document_type(number: str) -> DocumentType:
    if number.startswith(_FOREIGN_PERMANENT_PREFIX):
        return DocumentType.FOREIGN_PERMANENT
    return _PERMIT_REGIONS.get(number[:6], DocumentType.RESIDENT_ID_CARD)
