"""What the account page shows of a session's origin: a short device name, a masked address."""

from __future__ import annotations

import pytest

from idp.sessions.devices import describe_device, mask_address


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("192.168.10.23", "192.168.*.*"),
        ("::ffff:10.1.2.3", "10.1.*.*"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("not an address", ""),
        (None, ""),
    ],
)
def test_addresses_are_masked_to_their_network(address: str | None, masked: str) -> None:
    assert mask_address(address) == masked


def test_a_user_agent_becomes_browser_and_system() -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    assert describe_device(iphone) == "Mobile Safari · iOS"
    assert describe_device("") == ""
    assert len(describe_device("x" * 5000)) <= 100
