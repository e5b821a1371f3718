"""The enrolment app's district rules, on claims shaped as docs/claims.md describes them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from yihao_examples.enrolment.eligibility import School, assess

SCHOOL = School("番禺区市桥中学", "junior", "广东省广州市番禺区市桥街道")
TODAY = date(2027, 3, 1)  # registration for September 2027: 陈小宇 is then 12
HOUSEHOLD: dict[str, Any] = {
    "household_number": "440113004521",
    "address": "广东省广州市番禺区市桥街道富华中路2号",
    "relation": "户主",
    "members": [
        {"name": "李明", "relation": "户主", "birth_date": "1991-01-01", "sex": "male"},
        {"name": "陈小宇", "relation": "子", "birth_date": "2014-10-05", "sex": "male"},
    ],
}
HOME = {"location": "番禺区市桥街道富华中路2号3栋1201房", "owners": ["李明"]}


def test_household_and_property_in_the_district_and_the_right_age() -> None:
    (verdict,) = assess(HOUSEHOLD, [HOME], SCHOOL, TODAY)
    assert verdict.child == "陈小宇"
    assert verdict.eligible
    assert [c.passed for c in verdict.checks] == [True, True, True]


@pytest.mark.parametrize(
    ("household", "properties", "failing"),
    [
        ({**HOUSEHOLD, "address": "北京市朝阳区建国路1号"}, [HOME], "户籍 Household"),
        (HOUSEHOLD, [{"location": "北京市朝阳区建国路1号院3号楼"}], "房产 Property"),
        (HOUSEHOLD, [], "房产 Property"),
    ],
)
def test_each_rule_says_why_it_fails(
    household: dict[str, Any], properties: list[dict[str, Any]], failing: str
) -> None:
    (verdict,) = assess(household, properties, SCHOOL, TODAY)
    assert not verdict.eligible
    assert [c.label for c in verdict.checks if not c.passed] == [failing]


def test_age_is_counted_on_31_august() -> None:
    primary = School("市桥中心小学", "primary", SCHOOL.district)
    (verdict,) = assess(HOUSEHOLD, [HOME], primary, TODAY)  # 12 on 31 August 2027
    assert verdict.eligible
    (later,) = assess(HOUSEHOLD, [HOME], primary, date(2027, 9, 1))  # for 2028: 13, too old
    assert [c.label for c in later.checks if not c.passed] == ["年龄 Age"]
    (early,) = assess(HOUSEHOLD, [HOME], SCHOOL, date(2026, 5, 1))  # 11 in 2026: not junior yet
    assert [c.label for c in early.checks if not c.passed] == ["年龄 Age"]


def test_no_household_entry_means_no_children_to_assess() -> None:
    assert assess(None, [HOME], SCHOOL, TODAY) == []
    adults_only = {**HOUSEHOLD, "members": HOUSEHOLD["members"][:1]}
    assert assess(adults_only, [HOME], SCHOOL, TODAY) == []
