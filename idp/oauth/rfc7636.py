"""PKCE (RFC 7636) with S256 required of every client, public or confidential.

Authlib's ``CodeChallenge`` lets confidential clients skip PKCE and accepts ``plain``; RFC 9700
2.1.1 recommends PKCE for all clients and S256 only, so both are tightened here.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge


class RequiredS256(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge", redirect_uri=redirect_uri
            )
        # RFC 7636 4.3: an absent method means "plain", which is refused here.
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "code_challenge_method must be S256", redirect_uri=redirect_uri
            )
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Any) -> str:
        challenge: str = authorization_code.code_challenge
        return challenge

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        method: str = authorization_code.code_challenge_method
        return method
