"""Names of GB/T 2260 region codes, for display only.

The names come from the region table python-stdnum ships (``stdnum/cn/loc.dat``), read
through ``stdnum.numdb`` as ``stdnum.cn.ric.get_birth_place`` does, so the project keeps
no copy of GB/T 2260 and updates it by upgrading the dependency. A missing name is never
a reason to reject a number: the table lacks some legacy codes.
"""

import re
from functools import lru_cache

from stdnum import numdb

_REGION_CODE = re.compile(r"[0-9]{6}")
# Entries look like "[1983-1994]东矿区,[1995-]古冶区": name periods, oldest first.
_PERIOD_PREFIX = re.compile(r"^\[[0-9]*-[0-9]*\]")
# GB/T 2260 grouping rows that are not place names, e.g. the districts of a city.
_PLACEHOLDER_NAMES = frozenset(
    {"市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位"}
)


def region_name(code: str) -> str | None:
    """Return the latest full name of a region code, e.g. "河北省石家庄市长安区".

    The province and prefecture are included because county names repeat across the
    country (there are several 朝阳区). Returns None for codes the table does not know.
    """
    if not _REGION_CODE.fullmatch(code):
        return None
    return _full_name(code)


# Bounded because codes come from user input; about 7,000 codes are real.
@lru_cache(maxsize=8192)
def _full_name(code: str) -> str | None:
    own = _latest_name(code)
    if own is None:
        return None
    parts: list[str] = []
    for level_code in (code[:2] + "0000", code[:4] + "00"):
        name = _latest_name(level_code)
        if name and name not in _PLACEHOLDER_NAMES and name not in parts:
            parts.append(name)
    if own not in parts:
        parts.append(own)
    return "".join(parts)


def _latest_name(code: str) -> str | None:
    entries = dict(numdb.get("cn/loc").info(code))
    county = entries.get(code[2:], {}).get("county")
    if not county:
        return None
    return _PERIOD_PREFIX.sub("", str(county).split(",")[-1])
