"""Fresh, valid identity numbers for the SDK's tests, from python-stdnum alone (no provider).

A resident identity number (GB 11643) ends in its ISO 7064 MOD 11-2 check character; a unified
social credit code (GB 32100) embeds a GB 11714 organisation code with its own check character
and ends in the mod-31 check character of ``stdnum.cn.uscc``.
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_2

_rng = random.SystemRandom()
# GB 11714-1997: weights of the organisation code's eight body characters, and their values.
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANISATION_VALUES = string.digits + string.ascii_uppercase


def new_id_number(birth: date | None = None, region: str = "110105") -> str:
    born = birth or date(1960, 1, 1) + timedelta(days=_rng.randrange(0, 20_000))
    body = f"{region}{born:%Y%m%d}{_rng.randrange(0, 1000):03d}"
    return body + mod_11_2.calc_check_digit(body)


def new_uscc() -> str:
    """A valid code of a company (registration authority 9, type 1) registered in Beijing."""
    body = f"{_rng.randrange(0, 10**8):08d}"
    organisation_code = body + _organisation_check_character(body)
    code = "91110000" + organisation_code
    code += uscc.calc_check_digit(code)
    assert uscc.is_valid(code), code
    return code


def _organisation_check_character(body: str) -> str:
    # GB 11714-1997: C9 = 11 - (sum of value * weight mod 11); 10 is X, 11 is 0.
    total = sum(
        _ORGANISATION_VALUES.index(char) * weight
        for char, weight in zip(body, _ORGANISATION_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))
