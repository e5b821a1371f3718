"""NIST SP 800-63B-4 3.1.1.2: length, the shipped list, the account's own number; nothing else."""

from __future__ import annotations

import pytest

from idp.auth.password_rules import (
    MAX_LENGTH,
    PasswordProblem,
    common_passwords,
    password_problem,
    personal_words,
)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("1234567", PasswordProblem.TOO_SHORT),
        ("x" * (MAX_LENGTH + 1), PasswordProblem.TOO_LONG),
        ("woaini1314", PasswordProblem.COMMON),
        ("QQ123456", PasswordProblem.COMMON),  # compared case-insensitively
        ("password", PasswordProblem.COMMON),
        ("5201314520", PasswordProblem.COMMON),
    ],
)
def test_refused(password: str, problem: PasswordProblem) -> None:
    assert password_problem(password) is problem


@pytest.mark.parametrize(
    "password", ["lantern orchid quay", "abcdefgh-7", "长城长江黄河泰山", "a" * MAX_LENGTH]
)
def test_no_composition_rules(password: str) -> None:
    assert password_problem(password) is None


def test_the_number_and_birth_date_are_refused() -> None:
    words = personal_words("11010519491231002X")
    assert password_problem("me11010519491231002x", words) is PasswordProblem.PERSONAL
    assert password_problem("born19491231!", words) is PasswordProblem.PERSONAL


def test_the_list_is_of_good_size_with_common_chinese_passwords() -> None:
    shipped = common_passwords()
    assert len(shipped) > 30_000
    assert {"123456", "5201314", "woaini1314", "qq123456", "a123456"} <= shipped
