"""The financing platform's explained credit score (clients/examples financing/score.py): each
factor's points at its thresholds, and that a missing claim scores nothing rather than failing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from yihao_examples.financing.score import (
    business_status,
    credit_score,
    headcount_trend,
    registered_capital,
    unmortgaged_property,
    years_established,
)

TODAY = date(2026, 12, 4)


def registration(**changes: Any) -> dict[str, Any]:
    return {
        "enterprise_type": "有限责任公司",
        "legal_representative": "李明",
        "registered_capital": 10_000_000,
        "established": "2018-06-12",
        "address": "北京市朝阳区建国路1号院5号楼8层801",
        "business_status": "存续(在营、开业、在册)",
    } | changes


def month(period: str, headcount: int) -> dict[str, Any]:
    return {"period": period, "insured_headcount": headcount, "contribution_amount": "1000"}


@pytest.mark.parametrize(
    ("established", "points", "years"),
    [
        ("2026-12-05", 0, 0),  # not yet a year, and a future date is not negative
        ("2025-12-04", 10, 1),  # the anniversary itself counts
        ("2025-12-05", 0, 0),
        ("2023-01-01", 15, 3),
        ("2018-06-12", 20, 8),
        ("2016-12-04", 25, 10),
    ],
)
def test_years_are_whole_years_to_today(established: str, points: int, years: int) -> None:
    factor = years_established(registration(established=established), TODAY)
    assert (factor.points, factor.maximum) == (points, 25)
    assert f"已满 {years} 年" in factor.why


@pytest.mark.parametrize(
    ("status", "points"),
    [("存续(在营、开业、在册)", 20), ("在营", 20), ("注销", 0), ("吊销，未注销", 0)],
)
def test_only_an_operating_business_gets_the_status_points(status: str, points: int) -> None:
    assert business_status(registration(business_status=status)).points == points


@pytest.mark.parametrize(
    ("capital", "points"),
    [(10_000_000, 15), (9_999_999, 10), (1_000_000, 10), (100_000, 5), (99_999, 0), (0, 0)],
)
def test_registered_capital_steps(capital: int, points: int) -> None:
    factor = registered_capital(registration(registered_capital=capital))
    assert factor.points == points and f"{capital:,} yuan" in factor.why


def test_free_property_counts_and_mortgaged_only_a_little() -> None:
    free, pledged = {"mortgaged": False}, {"mortgaged": True}
    assert unmortgaged_property([]).points == 0
    assert unmortgaged_property([pledged, pledged]).points == 5
    assert unmortgaged_property([free, pledged]).points == 10
    assert unmortgaged_property([free, free, free]).points == 20  # capped at the maximum
    assert "1 处未抵押、1 处已抵押" in unmortgaged_property([free, pledged]).why


def test_headcount_trend_compares_the_first_and_last_month_in_order() -> None:
    # Released oldest first, but the score does not rely on the order it is given.
    growing = [month("2026-10", 12), month("2026-08", 11), month("2026-09", 12)]
    assert headcount_trend(growing).points == 20
    assert "2026-08 11 人 → 2026-10 12 人" in headcount_trend(growing).why
    assert headcount_trend([month("2026-08", 9), month("2026-10", 9)]).points == 15
    assert headcount_trend([month("2026-08", 9), month("2026-10", 3)]).points == 5
    assert headcount_trend([]).points == 0


def test_the_demo_enterprise_scores_85_a() -> None:
    score = credit_score(
        registration(),
        [{"mortgaged": True}, {"mortgaged": False}],
        [month("2026-08", 11), month("2026-09", 12), month("2026-10", 12)],
        TODAY,
    )
    assert [f.points for f in score.factors] == [20, 20, 15, 10, 20]
    assert (score.total, score.maximum, score.grade) == (85, 100, "A 优")


def test_nothing_released_scores_nothing_with_reasons() -> None:
    score = credit_score(None, [], [], TODAY)
    assert score.total == 0 and score.grade == "D 差"
    assert all(f.why for f in score.factors)
