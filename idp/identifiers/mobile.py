"""Mainland China mobile numbers (the MIIT numbering plan, 电信网编码计划): 11 digits starting
1 3-9, as registries and SMS gateways write them.

Hand-written rather than through ``phonenumbers``: the rule is one pattern, and only its
mainland-mobile part is needed, so a 10 MB metadata package would buy nothing.
"""

from __future__ import annotations

import re

from .errors import InvalidIdentifier

_MOBILE = re.compile(r"1[3-9]\d{9}")
#: A +86 / 0086 country prefix and the separators people type are dropped first.
_PREFIX = re.compile(r"^(\+86|0086|86)(?=1\d{10}$)")
_SEPARATORS = re.compile(r"[\s\-()]")


def parse_mobile(value: str) -> str:
    """The normalised 11-digit number; ``InvalidIdentifier`` (never quoting it) otherwise."""
    compact = _PREFIX.sub("", _SEPARATORS.sub("", value))
    if not _MOBILE.fullmatch(compact):
        raise InvalidIdentifier("format", "This is not a mainland mobile number.")
    return compact


def mask_mobile(number: str) -> str:
    """138****5678: enough for a person to recognise their own number, not to dial it."""
    return number[:3] + "****" + number[-4:]
