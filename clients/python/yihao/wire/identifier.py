"""GB/T 36904 e-certificate identifiers (电子证照标识).

    1.2.156.3005.2 . <type code> . <issuer code> . <serial> . <version> . <check>

The root OID is fixed; the type code names the certificate type in the national catalogue, the
issuer code is the issuing authority's unified social credit code, the version has three digits,
and the check character is ISO/IEC 7064 MOD 37,36 over the four middle parts without dots. A QR
credential carries only serial and version; a verifier rebuilds the rest from the issuer
certificate and the trust list, so the identifier costs the QR three bytes instead of sixty.
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_37_36

ROOT = "1.2.156.3005.2"
SERIAL_DIGITS = 10
_PART = re.compile(r"[0-9A-Z]+")


def certificate_identifier(type_code: str, issuer_code: str, serial: int, version: int) -> str:
    if not (_PART.fullmatch(type_code) and _PART.fullmatch(issuer_code)):
        raise ValueError("type and issuer codes are upper-case letters and digits")
    if not (0 <= serial < 10**SERIAL_DIGITS and 0 < version < 1000):
        raise ValueError("serial has at most ten digits and version three")
    middle = f"{type_code}{issuer_code}{serial:0{SERIAL_DIGITS}d}{version:03d}"
    check = mod_37_36.calc_check_digit(middle)
    return f"{ROOT}.{type_code}.{issuer_code}.{serial:0{SERIAL_DIGITS}d}.{version:03d}.{check}"


def is_valid_identifier(identifier: str) -> bool:
    if not identifier.startswith(ROOT + "."):
        return False
    parts = identifier[len(ROOT) + 1 :].split(".")
    if len(parts) != 5 or not all(_PART.fullmatch(p) for p in parts):
        return False
    return bool(mod_37_36.is_valid("".join(parts)))
