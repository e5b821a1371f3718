"""Shared test data for the identifier tests.

The data lives outside the repository (it must not be copied into the project), next to
it in ``shared/``; ``YIHAO_SHARED`` points elsewhere when the checkout is laid out
differently, e.g. in CI.
"""

import csv
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from idp.identifiers import Reason

# GB 11643-1999 §5.5 weights and check characters, written out independently of the
# ISO 7064 implementation so that the tests do not check the code against itself.
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECKS = "10X98765432"

# Vector descriptions are prose; the first keyword found decides the expected reason.
_REASON_KEYWORDS: tuple[tuple[str, Reason], ...] = (
    ("future", "birth_date"),
    ("month", "birth_date"),
    ("too short", "length"),
    ("too long", "length"),
    ("bad check character", "check_character"),
    ("letter", "character"),
)


def shared_data_dir() -> Path:
    override = os.environ.get("YIHAO_SHARED")
    shared = Path(override) if override else Path(__file__).resolve().parents[3].parent / "shared"
    return shared / "data"


@cache
def load_vectors() -> dict[str, Any]:
    path = shared_data_dir() / "vectors" / "identifiers.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def load_areacodes() -> tuple[dict[str, str], ...]:
    path = shared_data_dir() / "gb2260" / "areacodes.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        return tuple(csv.DictReader(f))


def expected_reason(description: str) -> Reason:
    for keyword, reason in _REASON_KEYWORDS:
        if keyword in description:
            return reason
    raise LookupError(f"no expected reason for vector description {description!r}")


def reference_check_character(body: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body, _GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECKS[total % 11]


def make_resident_id(region: str, yyyymmdd: str, sequence: str = "001") -> str:
    body = region + yyyymmdd + sequence
    return body + reference_check_character(body)
