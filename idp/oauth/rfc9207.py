"""RFC 9207: the ``iss`` parameter in every authorization response, against mix-up attacks."""

from __future__ import annotations

from authlib.oauth2.rfc9207 import IssuerParameter


class Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer
