"""Generated client ids are safe to paste into a command line."""

from __future__ import annotations

import re

from idp.oauth.registration import new_client_id


def test_client_ids_are_letters_and_digits_only() -> None:
    # A URL-safe token starts with "-" one time in 64, which `idp client reset-secret` took for
    # an option; 2,000 ids would meet "-" or "_" somewhere almost surely if the alphabet had them.
    ids = {new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{22}", found) for found in ids)
