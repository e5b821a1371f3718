"""Every ``YIHAO_*`` setting the SDK reads is documented in both references: this package's
README.md and the integration guide (docs/integration.md), so no setting lives only in the code.

Names are found by reading the SDK's source in this checkout, not from a list kept here, so a new
setting fails this test until both documents name it. Run from a checkout (as test_vectors.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
SOURCE = PACKAGE / "yihao"
REFERENCES = (PACKAGE / "README.md", PACKAGE.parents[1] / "docs" / "integration.md")
SETTING = re.compile(r"(?<![A-Za-z0-9_])YIHAO_[A-Z_]+(?![A-Za-z0-9_])")


def settings_in_code() -> set[str]:
    return {name for path in SOURCE.rglob("*.py") for name in SETTING.findall(path.read_text())}


def undocumented(names: set[str], text: str) -> list[str]:
    return sorted(names - set(SETTING.findall(text)))


def test_the_code_is_read() -> None:
    names = settings_in_code()
    # The search sees settings in every form the code writes them (config keys, messages).
    expected = {"YIHAO_ISSUER", "YIHAO_POST_LOGOUT_REDIRECT_URI", "YIHAO_CLIENT_PRIVATE_KEY_FILE"}
    assert expected <= names


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda path: path.name)
def test_every_setting_is_in_the_reference(reference: Path) -> None:
    assert undocumented(settings_in_code(), reference.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("missing", sorted(settings_in_code()))
def test_a_setting_left_out_of_a_reference_is_reported(missing: str) -> None:
    text = REFERENCES[0].read_text(encoding="utf-8")
    without = re.sub(rf"(?<![A-Za-z0-9_]){missing}(?![A-Za-z0-9_])", "(removed)", text)
    assert undocumented(settings_in_code(), without) == [missing]
