"""What the account page says about where a session was opened: a short browser-and-system
name from the User-Agent (parsed by ``ua-parser``) and an address with its host part masked."""

from __future__ import annotations

import ipaddress

from ua_parser import parse

DEVICE_LENGTH = 100


def describe_device(user_agent: str) -> str:
    """E.g. "Chrome Mobile on Android"; empty when the User-Agent says nothing recognisable."""
    found = parse(user_agent[:512])
    browser = found.user_agent.family if found.user_agent else ""
    system = found.os.family if found.os else ""
    if browser and system:
        return f"{browser} · {system}"[:DEVICE_LENGTH]
    return (browser or system)[:DEVICE_LENGTH]


def client_address(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a request came from, an IPv4-mapped IPv6 one as IPv4; None if it is none."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed


def mask_address(address: str | None) -> str:
    """192.168.*.* for IPv4, the /48 prefix for IPv6: enough to recognise a network, not a host."""
    parsed = client_address(address)
    if parsed is None:
        return ""
    if isinstance(parsed, ipaddress.IPv4Address):
        first, second, _third, _fourth = str(parsed).split(".")
        return f"{first}.{second}.*.*"
    network = ipaddress.IPv6Network(f"{parsed}/48", strict=False)
    return f"{network.network_address}/48"
