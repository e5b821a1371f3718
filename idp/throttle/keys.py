"""What a counter is about: an account (the number's HMAC index, whether or not anyone holds the
number), a client, or the pair. Addresses are stored only as keyed digests."""

from __future__ import annotations

import ipaddress

from idp.sessions.devices import client_address
from idp.store.crypto import FieldCipher

_ADDRESS = "throttle.address"


def client_of(address: str | None) -> str:
    """The part of an address one client controls: an IPv4 address, an IPv6 /64 (RFC 6177: the
    least a site is given, so one customer can spread over all of it)."""
    parsed = client_address(address)
    if parsed is None:
        return ""
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))


def address_digest(cipher: FieldCipher, address: str | None) -> str:
    return cipher.index(client_of(address), _ADDRESS)


def account_key(number_index: str) -> str:
    return f"account:{number_index}"


def pair_key(number_index: str, digest: str) -> str:
    return f"pair:{number_index}:{digest}"


def address_key(digest: str) -> str:
    return f"address:{digest}"
