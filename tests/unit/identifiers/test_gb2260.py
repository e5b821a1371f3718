"""Region names from python-stdnum's table, checked against the GB/T 2260 test dataset."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.identifiers import region_name
from tests.unit.identifiers.vectors import load_areacodes


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110105", "北京市朝阳区"),
        ("130102", "河北省石家庄市长安区"),
        ("130100", "河北省石家庄市"),
        ("130000", "河北省"),
        ("120110", "天津市东丽区"),  # renamed in 1992: the latest name wins
        ("110103", "北京市崇文区"),  # retired in 2010: still named
        ("810000", "香港特别行政区"),
    ],
)
def test_known_codes(code: str, name: str) -> None:
    assert region_name(code) == name


@pytest.mark.parametrize(
    "code", ["999999", "000000", "", "11010", "1101050", "abcdef", "１１０１０５"]
)
def test_unknown_or_malformed_codes_give_none(code: str) -> None:
    assert region_name(code) is None


@given(st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_never_raises_on_six_digits(code: str) -> None:
    name = region_name(code)
    assert name is None or name


def test_in_use_county_codes_of_2015_are_known() -> None:
    codes = [
        row["代码"]
        for row in load_areacodes()
        if row["级别"] == "县级" and row["状态"] == "在用" and int(row["启用时间"]) <= 2015
    ]
    misses = [code for code in codes if region_name(code) is None]
    assert len(codes) > 2500
    assert len(misses) <= 0.05 * len(codes), f"{len(misses)} of {len(codes)} unknown: {misses[:10]}"


def test_every_province_is_known() -> None:
    provinces = [row["代码"] for row in load_areacodes() if row["级别"] == "省级"]
    assert [code for code in provinces if region_name(code) is None] == []
