"""GB 32100-2015 unified social credit codes: vectors, edge cases and properties."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from idp.identifiers import InvalidIdentifier, parse_uscc
from tests.unit.identifiers.vectors import expected_reason, load_vectors

USCC = load_vectors()["uscc"]
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 11714-1997 weights, written out again so the tests do not reuse the module's table.
ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_check(body: str) -> str:
    values = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    check = (
        11 - sum(values.index(c) * w for c, w in zip(body, ORGANISATION_WEIGHTS, strict=True)) % 11
    )
    return "X" if check == 10 else str(check % 11)


def with_check(body: str) -> str:
    """Complete 17 characters with the mod-31 check (stdnum's, which the vectors confirm)."""
    return body + str(uscc.calc_check_digit(body))


def reject(s: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_uscc(s)
    if len(s.strip()) > 1:
        assert s.strip() not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(("code", "description"), USCC["valid"])
def test_valid_vectors_parse(code: str, description: str) -> None:
    assert parse_uscc(code).code == code


@pytest.mark.parametrize(("code", "description"), USCC["invalid"])
def test_invalid_vectors_are_rejected_for_the_right_reason(code: str, description: str) -> None:
    assert reject(code).reason == expected_reason(description)


def test_parts() -> None:
    parsed = parse_uscc("91310115MA1K3BTP2B")
    assert parsed.registration_authority == "9"
    assert parsed.organisation_type == "1"
    assert parsed.region_code == "310115"
    assert parsed.organisation_code == "MA1K3BTP2"


def test_spaces_and_lower_case_are_normalised() -> None:
    assert parse_uscc(" 91310115ma1k3btp2b\t").code == "91310115MA1K3BTP2B"


@pytest.mark.parametrize("authority", list("123456789AGJNQY"))
def test_assigned_registration_authorities_are_accepted(authority: str) -> None:
    code = with_check(authority + "1110000600037341")
    assert parse_uscc(code).registration_authority == authority


@pytest.mark.parametrize("authority", ["0", "B", "C", "H", "X"])
def test_unassigned_registration_authorities_are_rejected(authority: str) -> None:
    assert reject(with_check(authority + "1110000600037341")).reason == "registration_authority"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letters_are_rejected(letter: str) -> None:
    assert reject("91310115M" + letter + "1K3BTP2B").reason == "character"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "length"),
        ("91110000600037341LL", "length"),
        (with_check("911A0000600037341"), "format"),
        (with_check("91110000600037342"), "organisation_code"),
        ("91110000600037341-", "character"),
    ],
)
def test_rejection_reasons(code: str, reason: str) -> None:
    assert reject(code).reason == reason


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from("123456789AGJNQY"))
    organisation_type = draw(st.sampled_from(ALPHABET))
    region = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    body = "".join(draw(st.lists(st.sampled_from(ALPHABET), min_size=8, max_size=8)))
    return with_check(authority + organisation_type + region + body + organisation_check(body))


@given(valid_codes())
def test_any_well_formed_code_parses(code: str) -> None:
    assert parse_uscc(code).code == code


@given(valid_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_rejected(code: str, position: int, char: str) -> None:
    if code[position] == char:
        return
    with pytest.raises(InvalidIdentifier):
        parse_uscc(code[:position] + char + code[position + 1 :])


@given(st.text())
def test_arbitrary_text_only_ever_raises_invalid_identifier(text: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_uscc(text)


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=40))
def test_rejections_never_repeat_a_number_shaped_input(text: str) -> None:
    # Number-shaped inputs are what could be someone's identifier; none may reach a message.
    try:
        parse_uscc(text)
    except InvalidIdentifier as exc:
        assert text not in str(exc)
