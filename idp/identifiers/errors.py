"""The single exception type of the identifiers package."""

from typing import Literal

Reason = Literal[
    "length",  # wrong number of characters
    "character",  # a character outside the identifier's alphabet
    "format",  # an allowed character in a position where it is not allowed
    "check_character",  # the final check character does not match
    "birth_date",  # not a calendar date, in the future or before 1800
    "registration_authority",  # unassigned first character of a USCC
    "organisation_code",  # the GB 11714 code inside a USCC fails its own check
]


class InvalidIdentifier(ValueError):
    """A rejected identifier, with a stable code for callers and a message for people.

    Callers branch on ``reason`` (a closed set, safe to translate or count) rather than
    parsing messages. Messages are built by this package and never contain the submitted
    identifier, because identity numbers are personal data and exceptions end up in logs.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
