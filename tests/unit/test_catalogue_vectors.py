"""The provider's default catalogue publishes what docs/formats.md's test vectors assume.

The SDK's vector test (clients/python/tests/test_vectors.py) verifies the documented credential
against an inline catalogue, since the SDK's suite cannot import the provider. This is the other
half: the provider's trust list carries exactly those entries, so a counter given the provider's
trust list reads the documented credential the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from idp.credentials.catalogue import DEFAULT_CATALOGUE
from idp.credentials.profiles import load_catalogue

SDK_VECTORS = Path(__file__).resolve().parents[2] / "clients/python/tests/test_vectors.py"


def _sdk_catalogue() -> dict[str, Any]:
    # Loaded by path, not imported: the SDK's tests are not a package of this suite.
    spec = importlib.util.spec_from_file_location("_sdk_test_vectors", SDK_VECTORS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    catalogue: dict[str, Any] = module.CATALOGUE
    return catalogue


def test_the_vector_catalogue_is_the_providers() -> None:
    expected = _sdk_catalogue()
    published = load_catalogue(DEFAULT_CATALOGUE).published()

    for section in ("types", "profiles"):
        assert expected[section], section
        for key, entry in expected[section].items():
            assert published[section][key] == entry, (section, key)
