"""GB 11643-1999 resident identity numbers: vectors, edge cases and properties."""

import contextlib
from dataclasses import FrozenInstanceError
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.identifiers import (
    DocumentType,
    InvalidIdentifier,
    normalise_resident_id,
    parse_resident_id,
    upgrade_legacy_15,
)
from tests.unit.identifiers.vectors import (
    expected_reason,
    load_areacodes,
    load_vectors,
    make_resident_id,
)

CITIZEN = load_vectors()["citizen_id"]
TODAY = date(2025, 6, 1)


def reject(s: str, *, today: date | None = None) -> InvalidIdentifier:
    """Parse expecting a rejection, and check the message does not leak the input."""
    with pytest.raises(InvalidIdentifier) as caught:
        parse_resident_id(s, today=today)
    stripped = s.strip()
    if len(stripped) > 1:
        assert stripped not in str(caught.value)
        assert stripped.upper() not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(("number", "description"), CITIZEN["valid"])
def test_valid_vectors_parse(number: str, description: str) -> None:
    assert parse_resident_id(number).number == number


@pytest.mark.parametrize(("number", "description"), CITIZEN["invalid"])
def test_invalid_vectors_are_rejected_for_the_right_reason(number: str, description: str) -> None:
    assert reject(number).reason == expected_reason(description)


@pytest.mark.parametrize(("legacy", "upgraded"), CITIZEN["legacy15"])
def test_legacy_15_is_upgraded(legacy: str, upgraded: str) -> None:
    assert upgrade_legacy_15(legacy) == upgraded
    assert parse_resident_id(legacy).number == upgraded


@pytest.mark.parametrize(("raw", "normalised", "description"), CITIZEN["normalise"])
def test_normalise_vectors(raw: str, normalised: str, description: str) -> None:
    assert normalise_resident_id(raw) == normalised
    assert parse_resident_id(raw).number == normalised


def test_annex_a_example_is_decoded() -> None:
    rid = parse_resident_id("11010519491231002X")
    assert rid.document_type is DocumentType.RESIDENT_ID_CARD
    assert rid.region_code == "110105"
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "female"


def test_odd_sequence_digit_is_male() -> None:
    assert parse_resident_id("440524188001010014").sex == "male"


@pytest.mark.parametrize(
    ("number", "document_type"),
    [
        ("810000199408230021", DocumentType.HK_MACAU_PERMIT),
        (make_resident_id("820000", "19900101"), DocumentType.HK_MACAU_PERMIT),
        ("830000199201300022", DocumentType.TAIWAN_PERMIT),
        ("911398199012310021", DocumentType.FOREIGN_PERMANENT),
        ("360426199101010071", DocumentType.RESIDENT_ID_CARD),
    ],
)
def test_document_type(number: str, document_type: DocumentType) -> None:
    assert parse_resident_id(number).document_type is document_type


def test_masked_form_and_repr_hide_the_number() -> None:
    rid = parse_resident_id("11010519491231002X")
    assert rid.masked == "110105********002X"
    assert "11010519491231002X" not in repr(rid)
    assert rid.masked in repr(rid)


def test_result_is_frozen() -> None:
    rid = parse_resident_id("11010519491231002X")
    with pytest.raises(FrozenInstanceError):
        rid.number = "x"  # type: ignore[misc]


def test_born_today_is_accepted_and_tomorrow_is_not() -> None:
    number = make_resident_id("110105", TODAY.strftime("%Y%m%d"))
    assert parse_resident_id(number, today=TODAY).birth_date == TODAY
    assert reject(number, today=TODAY - timedelta(days=1)).reason == "birth_date"


def test_earliest_birth_date_is_1800() -> None:
    assert parse_resident_id(make_resident_id("110105", "18000101")).birth_date.year == 1800
    assert reject(make_resident_id("110105", "17991231")).reason == "birth_date"


@pytest.mark.parametrize("yyyymmdd", ["19990229", "19990431", "19990001", "19991300", "00000101"])
def test_impossible_dates_are_rejected(yyyymmdd: str) -> None:
    assert reject(make_resident_id("110105", yyyymmdd)).reason == "birth_date"


def test_leap_day_is_accepted() -> None:
    assert parse_resident_id(make_resident_id("110105", "20000229")).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100", "length"),
        ("11010519491231X02X", "format"),
        ("1101051949A231002X", "character"),
        ("11010519491231002A", "character"),
        ("１１０１０５１９４９１２３１００２Ｘ", "character"),
        ("110105 1949123102X", "character"),
        ("6101046209276A0", "character"),
        ("61010462092769X", "format"),
        ("610104621327690", "birth_date"),
    ],
)
def test_rejection_reasons(number: str, reason: str) -> None:
    assert reject(number).reason == reason


def test_upgrade_rejects_non_legacy_input() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        upgrade_legacy_15("11010519491231002X")
    assert caught.value.reason == "length"


def test_every_gb2260_county_code_is_accepted_including_retired_ones() -> None:
    rows = [row for row in load_areacodes() if row["级别"] == "县级"]
    rejected = []
    for row in rows:
        number = make_resident_id(row["代码"], f"{row['启用时间']}0615")
        try:
            parse_resident_id(number)
        except InvalidIdentifier:
            rejected.append(row["代码"])
    assert len(rows) > 6000
    assert not rejected, f"{len(rejected)} region codes rejected, e.g. {rejected[:5]}"


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    region = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    born = draw(st.dates(min_value=date(1800, 1, 1), max_value=TODAY))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return make_resident_id(region, born.strftime("%Y%m%d"), sequence)


@given(valid_numbers())
def test_any_well_formed_number_parses(number: str) -> None:
    assert parse_resident_id(number, today=TODAY).number == number


@given(valid_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_substitution_is_rejected(number: str, position: int, char: str) -> None:
    if number[position] == char:
        return
    mutated = number[:position] + char + number[position + 1 :]
    with pytest.raises(InvalidIdentifier):
        parse_resident_id(mutated, today=TODAY)


@given(st.text())
def test_arbitrary_text_only_ever_raises_invalid_identifier(text: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_resident_id(text, today=TODAY)


@given(st.text(alphabet="0123456789Xx", min_size=8, max_size=40))
def test_rejections_never_repeat_a_number_shaped_input(text: str) -> None:
    # Number-shaped inputs are what could be someone's identifier; none may reach a message.
    try:
        parse_resident_id(text, today=TODAY)
    except InvalidIdentifier as exc:
        assert text not in str(exc)
