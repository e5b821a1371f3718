"""Comparing a typed name with the one on record (registration, reset, granting a mandate).

Names are compared after NFKC (full-width letters), without spaces, and with the middle dots of
minority names (阿依古丽·买买提) read as one, however people type them.
"""

from __future__ import annotations

import unicodedata

_DOTS = str.maketrans({"•": "·", "・": "·", ".": "·", "．": "·"})


def same_name(on_file: str, typed: str) -> bool:
    return normal_name(on_file) == normal_name(typed)


def normal_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).translate(_DOTS).split())
