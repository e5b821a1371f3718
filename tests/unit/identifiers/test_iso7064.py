"""ISO/IEC 7064 check characters: published examples and single-error detection."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.identifiers import (
    InvalidIdentifier,
    mod_11_2_check_character,
    mod_37_36_check_character,
)
from tests.unit.identifiers.vectors import reference_check_character

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("11010519491231002", "X"),  # GB 11643-1999 Annex A
        ("44052418800101001", "4"),  # GB 11643-1999 Annex A
        ("0794", "0"),  # ISO 7064 example, via python-stdnum's doctests
        ("079", "X"),
    ],
)
def test_mod_11_2_examples(digits: str, check: str) -> None:
    assert mod_11_2_check_character(digits) == check


def test_mod_37_36_example() -> None:
    assert mod_37_36_check_character("A12425GABC1234002") == "M"


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_mod_11_2_matches_gb11643_weights(digits: str) -> None:
    assert mod_11_2_check_character(digits) == reference_check_character(digits)


@given(
    st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=30),
    st.data(),
)
def test_mod_37_36_detects_every_single_substitution(payload: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    char = data.draw(st.sampled_from(ALPHANUMERIC.replace(payload[position], "")))
    mutated = payload[:position] + char + payload[position + 1 :]
    assert mod_37_36_check_character(mutated) != mod_37_36_check_character(payload)


@pytest.mark.parametrize(
    ("function", "payload", "reason"),
    [
        (mod_11_2_check_character, "", "length"),
        (mod_11_2_check_character, "079X", "character"),
        (mod_11_2_check_character, "٠٧٩", "character"),
        (mod_37_36_check_character, "", "length"),
        (mod_37_36_check_character, "a12425", "character"),
    ],
)
def test_bad_payloads_are_rejected(
    function: Callable[[str], str], payload: str, reason: str
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        function(payload)
    assert caught.value.reason == reason
