"""The levels of assurance: which amr reaches which acr, and what a request needs."""

from __future__ import annotations

import pytest

from idp.oauth.assurance import (
    ACR_VALUES_SUPPORTED,
    PASSKEY,
    PASSWORD,
    TWO_FACTOR,
    Level,
    acr_of,
    required_level,
    satisfies,
)

PWD = ("pwd",)
PWD_OTP = ("pwd", "otp", "mfa")
HWK = ("hwk", "mfa")


def test_each_agreed_amr_has_its_level() -> None:
    assert acr_of(PWD) == "urn:yihao:acr:password"
    assert acr_of(PWD_OTP) == "urn:yihao:acr:two-factor"
    assert acr_of(HWK) == "urn:yihao:acr:passkey"
    assert acr_of(()) is None
    assert acr_of(("otp",)) is None  # a code alone is no sign-in here
    assert [PASSWORD.acr, TWO_FACTOR.acr, PASSKEY.acr] == ACR_VALUES_SUPPORTED


@pytest.mark.parametrize(
    ("amr", "needed", "met"),
    [
        (PWD, PASSWORD, True),
        (PWD, TWO_FACTOR, False),
        (PWD, PASSKEY, False),
        (PWD_OTP, PASSWORD, True),  # a higher level meets a lower one
        (PWD_OTP, TWO_FACTOR, True),
        (PWD_OTP, PASSKEY, False),
        (HWK, PASSWORD, True),
        (HWK, TWO_FACTOR, True),
        (HWK, PASSKEY, True),
        ((), PASSWORD, False),
        ((), None, True),
    ],
)
def test_a_higher_level_satisfies_a_lower_one(
    amr: tuple[str, ...], needed: Level | None, met: bool
) -> None:
    assert satisfies(amr, needed) is met


def test_acr_values_are_alternatives_and_the_lowest_known_one_is_needed() -> None:
    assert required_level(None) is None
    assert required_level("") is None
    assert required_level(TWO_FACTOR.acr) is TWO_FACTOR
    # OIDC Core 3.1.2.1: in order of preference, so any of them will do.
    assert required_level(f"{PASSKEY.acr} {TWO_FACTOR.acr}") is TWO_FACTOR
    assert required_level(f"urn:other:gold {PASSKEY.acr}") is PASSKEY
    assert required_level("urn:other:gold") is None  # unknown values ask for nothing


def test_the_client_minimum_is_a_floor() -> None:
    assert required_level(None, TWO_FACTOR.acr) is TWO_FACTOR
    assert required_level(PASSWORD.acr, TWO_FACTOR.acr) is TWO_FACTOR
    assert required_level(PASSKEY.acr, TWO_FACTOR.acr) is PASSKEY
    assert required_level(None, "urn:unknown") is None
