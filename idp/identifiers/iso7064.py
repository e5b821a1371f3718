"""ISO/IEC 7064 check characters.

Both systems come from python-stdnum; nothing here is written by hand. This module only
adds input checks, so that a caller gets InvalidIdentifier with a position instead of a
bare ValueError from deep inside stdnum (stdnum's MOD 11-2 would even accept 'X' inside
the payload, and int() accepts non-ASCII digits).
"""

import string

from stdnum.iso7064 import mod_11_2, mod_37_36

from .errors import InvalidIdentifier

MOD_37_36_ALPHABET = string.digits + string.ascii_uppercase


def mod_11_2_check_character(digits: str) -> str:
    """Return the MOD 11-2 check character ('0'-'9' or 'X') for a string of digits.

    GB 11643 uses this system for the 18th character of a resident identity number.
    """
    _require_alphabet(digits, string.digits)
    return str(mod_11_2.calc_check_digit(digits))


def mod_37_36_check_character(payload: str) -> str:
    """Return the MOD 37,36 check character for a payload over 0-9A-Z.

    GB/T 36904 electronic certificate identifiers use this system.
    """
    _require_alphabet(payload, MOD_37_36_ALPHABET)
    return str(mod_37_36.calc_check_digit(payload))


def _require_alphabet(payload: str, alphabet: str) -> None:
    if not payload:
        raise InvalidIdentifier("length", "Nothing to compute a check character for.")
    for position, char in enumerate(payload, start=1):
        if char not in alphabet:
            raise InvalidIdentifier(
                "character", f"Character at position {position} is not allowed here."
            )
