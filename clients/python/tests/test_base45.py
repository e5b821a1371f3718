"""yihao.wire.base45 against RFC 9285's examples and against the PyPI ``base45`` package."""

from __future__ import annotations

import contextlib

import base45 as reference
import pytest
from hypothesis import given
from hypothesis import strategies as st
from yihao.wire import base45

# RFC 9285 §4.3 and §4.4
RFC_EXAMPLES = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581")]


@pytest.mark.parametrize(("data", "text"), RFC_EXAMPLES)
def test_rfc_9285_examples(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


def test_rfc_9285_decoding_example() -> None:
    assert base45.decode("QED8WEX0") == b"ietf!"


@given(st.binary(max_size=600))
def test_agrees_with_the_reference_package(data: bytes) -> None:
    text = base45.encode(data)
    assert text == reference.b45encode(data).decode()
    assert base45.decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "A",  # a dangling character
        "GGW",  # 65535 + 1 = 65536 does not fit two bytes (RFC 9285 §4: reject)
        ":::",  # 44 + 45*44 + 2025*44: far too large
        "::",  # 44 + 45*44 = 2024 does not fit one byte
        "abc",  # lower case is not in the alphabet
        "AB\u00e9",  # not ASCII
        "AB\n",
    ],
)
def test_rejects_what_rfc_9285_says_to_reject(text: str) -> None:
    with pytest.raises(ValueError, match="not base45"):
        base45.decode(text)


@given(st.text(max_size=60))
def test_any_text_decodes_or_raises_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        base45.decode(text)
