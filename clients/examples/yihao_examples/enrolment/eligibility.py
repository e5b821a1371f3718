"""School-district eligibility from released registry data (户籍 + 房产, "房户一致").

Pure functions over the ``household`` and ``properties`` claims (docs/claims.md), so the rules
are testable without a provider. The district table is the school's configuration; a real
education bureau publishes it every spring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class School:
    name: str
    stage: str  # "primary" (6-12) or "junior" (12-15), age on 31 August of the intake year
    district: str  # an address prefix, e.g. 广东省广州市番禺区市桥街道


@dataclass(frozen=True)
class Check:
    label: str
    passed: bool
    why: str


@dataclass(frozen=True)
class Verdict:
    child: str
    school: School
    checks: tuple[Check, ...]

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.checks)


AGES = {"primary": (6, 12), "junior": (12, 15)}
CHILD_RELATIONS = ("子", "女", "长子", "长女", "次子", "次女", "孙子", "孙女")


def intake_year(today: date) -> int:
    """Registration in spring is for this September; from September on, for the next one."""
    return today.year if today.month < 9 else today.year + 1


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def children(household: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    members = household.get("members", []) if household else []
    return [m for m in members if m.get("relation") in CHILD_RELATIONS]


def _owns_in(properties: Sequence[Mapping[str, Any]], school: School) -> Check:
    inside = [p for p in properties if _within(str(p.get("location", "")), school.district)]
    if inside:
        return Check("房产 Property", True, f"名下不动产位于学区：{inside[0]['location']}")
    return Check("房产 Property", False, "名下没有位于学区内的不动产")


def _within(address: str, district: str) -> bool:
    # Registries write addresses with or without the province and city; compare from the district.
    short = district.removeprefix("广东省").removeprefix("广州市")
    return address.startswith(district) or short in address


def assess(
    household: Mapping[str, Any] | None,
    properties: Sequence[Mapping[str, Any]],
    school: School,
    today: date,
) -> list[Verdict]:
    """One verdict per child of the signed-in parent's household."""
    address = str(household.get("address", "")) if household else ""
    verdicts = []
    for child in children(household):
        low, high = AGES[school.stage]
        age = _age_on(date.fromisoformat(child["birth_date"]), date(intake_year(today), 8, 31))
        checks = (
            Check(
                "户籍 Household",
                _within(address, school.district),
                f"户籍地址：{address}" if address else "没有户籍登记",
            ),
            _owns_in(properties, school),
            Check("年龄 Age", low <= age <= high, f"8月31日满 {age} 周岁（要求 {low}-{high}）"),
        )
        verdicts.append(Verdict(str(child.get("name", "")), school, checks))
    return verdicts
