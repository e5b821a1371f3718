"""What a new password must be: NIST SP 800-63B-4 3.1.1.2 (SP 800-63B rev. 3 5.1.1.2).

At least 8 characters, at most ``MAX_LENGTH`` (NIST: allow at least 64), not on a list of common
and breached passwords, and not built from the account's own identity number or birth date (the
"context-specific words" NIST names). No composition rules (digits, capitals, symbols): NIST says
not to impose them, because they make passwords harder to remember and no harder to guess.
The list is a data file of this package (``data/common_passwords.txt``, sources in its header).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from importlib.resources import files

MIN_LENGTH = 8
#: Long enough for any passphrase; a bound so a megabyte "password" is not hashed.
MAX_LENGTH = 128


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    PERSONAL = "personal"


def password_problem(password: str, personal: Iterable[str] = ()) -> PasswordProblem | None:
    """Why ``password`` may not be chosen, or None. ``personal``: words of the account (its
    identity number, birth date) that the password must not contain."""
    # Length in Unicode code points, as NIST counts it (a Chinese character is one).
    if len(password) < MIN_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return PasswordProblem.TOO_LONG
    folded = password.strip().casefold()
    if folded in common_passwords():
        return PasswordProblem.COMMON
    if any(word and word.casefold() in folded for word in personal):
        return PasswordProblem.PERSONAL
    return None


def personal_words(number: str) -> tuple[str, ...]:
    """The identity number and the birth date in it (YYYYMMDD), which people use as passwords."""
    return (number, number[6:14]) if len(number) == 18 else (number,)


@cache
def common_passwords() -> frozenset[str]:
    text = files("idp.auth").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))
