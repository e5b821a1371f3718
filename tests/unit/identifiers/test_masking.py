"""Masking: full numbers keep their usual shape, anything else never shows in full."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.identifiers import mask_identifier


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("91110000600037341L", "911100********341L"),
        ("610104620927690", "61***********90"),
        ("12345678", "12****78"),
        ("1234567", "1*****7"),
        ("1234", "1**4"),
        ("123", "***"),
        ("1", "*"),
        ("", ""),
    ],
)
def test_examples(raw: str, masked: str) -> None:
    assert mask_identifier(raw) == masked


@given(st.text().filter(lambda s: len(s) != 18))
def test_other_lengths_show_at_most_two_characters_each_side_and_hide_half(text: str) -> None:
    masked = mask_identifier(text)
    kept = min(2, len(text) // 4)
    assert len(masked) == len(text)
    assert masked[kept : len(text) - kept] == "*" * (len(text) - 2 * kept)
    assert 2 * kept <= len(text) / 2
