"""RP-Initiated Logout 1.0 on Authlib's endpoint: ID tokens checked against our key ring, and
the provider session ended through the web layer's callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet

from idp.keys.ring import SUPPORTED_ALGS
from idp.services import services


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    def __init__(self, end_session: Callable[[], None]) -> None:
        super().__init__()
        self._end = end_session

    def get_server_jwks(self) -> KeySet:
        return services().keys.verification_keys()

    def get_algorithms(self) -> list[str]:
        return list(SUPPORTED_ALGS)

    def end_session(self, end_session_request: Any) -> None:
        self._end()
