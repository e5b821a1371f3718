"""RFC 9207: the ``iss`` parameter in every authorization response, against mix-up attacks."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Response


class Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


def with_issuer(response: Response, issuer: str) -> Response:
    """RFC 9207 2: error responses carry ``iss`` too (Authlib's extension adds it to codes only)."""
    response.location = add_params_to_uri(response.location, {"iss": issuer})
    return response
