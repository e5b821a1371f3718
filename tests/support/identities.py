"""Fresh, valid identity numbers for tests, so tests never collide on shared databases."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn.uscc import calc_check_digit

from idp.identifiers import InvalidIdentifier, mod_11_2_check_character, parse_uscc

_rng = random.SystemRandom()


def new_id_number(birth: date | None = None, region: str = "110105") -> str:
    born = birth or date(1960, 1, 1) + timedelta(days=_rng.randrange(0, 20_000))
    body = f"{region}{born:%Y%m%d}{_rng.randrange(0, 1000):03d}"
    return body + mod_11_2_check_character(body)


def new_uscc() -> str:
    """A valid unified social credit code, found by trying check characters against the parser."""
    body = f"91110000{_rng.randrange(0, 10**8):08d}"
    for org_check in "0123456789X":
        candidate = body + org_check
        code = candidate + calc_check_digit(candidate)
        try:
            return parse_uscc(code).code
        except InvalidIdentifier:
            continue
    raise AssertionError("no valid organisation check character")
