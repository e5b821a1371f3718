"""A simple, explained credit score (简易授信评分) from the data an enterprise released.

Pure functions over the claims as the provider releases them (docs/claims.md:
``business_registration``, ``properties``, ``social_insurance``), so every rule is testable on its
own. Each factor states its points, its maximum and why, in Chinese and English: a lender has to
explain a decision to the applicant, and a score nobody can explain is one nobody can contest.
This is a demonstration, not a credit model: the thresholds are round numbers, not calibrated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

#: Years since establishment -> points (the first row the enterprise reaches, oldest first).
YEARS = ((10, 25), (5, 20), (3, 15), (1, 10), (0, 0))
#: Registered capital in yuan -> points.
CAPITAL = ((10_000_000, 15), (1_000_000, 10), (100_000, 5), (0, 0))
#: 存续（在营、开业、在册）: the market-regulation words for a business that is operating.
OPERATING = ("存续", "在营", "开业", "在册")
#: Points per property free of mortgage, up to the factor's maximum; a mortgaged one still shows
#: assets, though already pledged.
FREE_PROPERTY, MORTGAGED_ONLY = 10, 5
#: The insured headcount from the first to the last month released.
GROWING, STABLE, SHRINKING = 20, 15, 5
#: Score -> grade, best first.
GRADES = ((80, "A 优"), (60, "B 良"), (40, "C 中"), (0, "D 差"))


@dataclass(frozen=True)
class Factor:
    """One line of the explanation."""

    name: str
    points: int
    maximum: int
    why: str


@dataclass(frozen=True)
class Score:
    factors: tuple[Factor, ...]

    @property
    def total(self) -> int:
        return sum(f.points for f in self.factors)

    @property
    def maximum(self) -> int:
        return sum(f.maximum for f in self.factors)

    @property
    def grade(self) -> str:
        return next(label for floor, label in GRADES if self.total >= floor)


def credit_score(
    registration: Mapping[str, Any] | None,
    properties: Sequence[Mapping[str, Any]],
    months: Sequence[Mapping[str, Any]],
    today: date,
) -> Score:
    """The score of an enterprise from its released claims; a missing claim scores nothing."""
    return Score(
        (
            years_established(registration, today),
            business_status(registration),
            registered_capital(registration),
            unmortgaged_property(properties),
            headcount_trend(months),
        )
    )


def years_established(registration: Mapping[str, Any] | None, today: date) -> Factor:
    name = "成立年限 Years established"
    top = YEARS[0][1]
    if not registration:
        return Factor(name, 0, top, "无登记信息 No business registration released")
    established = date.fromisoformat(str(registration["established"]))
    years = _whole_years(established, today)
    points = next(p for floor, p in YEARS if years >= floor)
    return Factor(
        name, points, top, f"成立于 {established.isoformat()}，已满 {years} 年 ({years} years)"
    )


def business_status(registration: Mapping[str, Any] | None) -> Factor:
    name = "登记状态 Business status"
    if not registration:
        return Factor(name, 0, 20, "无登记信息 No business registration released")
    status = str(registration["business_status"])
    if status.startswith(OPERATING):
        return Factor(name, 20, 20, f"{status}：正常经营 Operating")
    return Factor(name, 0, 20, f"{status}：非正常经营 Not operating")


def registered_capital(registration: Mapping[str, Any] | None) -> Factor:
    name = "注册资本 Registered capital"
    top = CAPITAL[0][1]
    if not registration:
        return Factor(name, 0, top, "无登记信息 No business registration released")
    capital = int(registration["registered_capital"])
    points = next(p for floor, p in CAPITAL if capital >= floor)
    return Factor(name, points, top, f"{capital / 10_000:,.0f} 万元 ({capital:,} yuan)")


def unmortgaged_property(properties: Sequence[Mapping[str, Any]]) -> Factor:
    name = "未抵押不动产 Unmortgaged property"
    top = 2 * FREE_PROPERTY
    free = sum(1 for p in properties if not p.get("mortgaged"))
    pledged = len(properties) - free
    if free:
        points = min(top, free * FREE_PROPERTY)
        why = f"{free} 处未抵押、{pledged} 处已抵押 ({free} free, {pledged} mortgaged)"
        return Factor(name, points, top, why)
    if pledged:
        why = f"{pledged} 处均已抵押 (all {pledged} mortgaged)"
        return Factor(name, MORTGAGED_ONLY, top, why)
    return Factor(name, 0, top, "名下无不动产 No property on record")


def headcount_trend(months: Sequence[Mapping[str, Any]]) -> Factor:
    name = "参保人数趋势 Insured headcount trend"
    ordered = sorted(months, key=lambda m: str(m["period"]))
    if not ordered:
        return Factor(name, 0, GROWING, "无社保缴费记录 No social insurance on record")
    first, last = ordered[0], ordered[-1]
    start, end = int(first["insured_headcount"]), int(last["insured_headcount"])
    span = f"{first['period']} {start} 人 → {last['period']} {end} 人"
    if end > start:
        return Factor(name, GROWING, GROWING, f"{span}：增长 growing")
    if end == start:
        return Factor(name, STABLE, GROWING, f"{span}：稳定 stable")
    return Factor(name, SHRINKING, GROWING, f"{span}：减少 shrinking")


def _whole_years(since: date, today: date) -> int:
    before_anniversary = (today.month, today.day) < (since.month, since.day)
    return max(0, today.year - since.year - int(before_anniversary))
