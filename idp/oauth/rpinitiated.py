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

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        # Our ID tokens carry aud as a one-element list and azp (OIDC Core 2); Authlib resolves
        # only a string aud, which would drop the post-logout redirect.
        audience = id_token_claims.get("aud")
        candidates = [audience] if isinstance(audience, str) else list(audience or [])
        client_id = id_token_claims.get("azp") or (candidates[0] if len(candidates) == 1 else None)
        return self.server.query_client(client_id) if isinstance(client_id, str) else None

    def end_session(self, end_session_request: Any) -> None:
        self._end()
