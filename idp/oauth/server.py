"""Assembles Authlib's authorization server from Yihao's grants, endpoints and extensions."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    OAuth2Request,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Flask, current_app

from idp.caching import TimedCache
from idp.oauth import fapi2
from idp.oauth.endpoints import ENDPOINTS, PAR_ENDPOINT
from idp.oauth.grants.authorization_code import AuthorizationCodeGrant
from idp.oauth.grants.client_credentials import ClientCredentialsGrant
from idp.oauth.grants.refresh_token import RefreshTokenGrant
from idp.oauth.oidc_core import OpenIDConnect, RefreshIDToken
from idp.oauth.rfc7009 import Revocation
from idp.oauth.rfc7523 import METHOD as PRIVATE_KEY_JWT
from idp.oauth.rfc7523 import PrivateKeyJWT
from idp.oauth.rfc7636 import RequiredS256
from idp.oauth.rfc7662 import Introspection
from idp.oauth.rfc8693 import TokenExchangeGrant
from idp.oauth.rfc9207 import Issuer
from idp.oauth.rpinitiated import EndSession
from idp.oauth.tokens import TokenIssuer, grant_end, save_token
from idp.observability import metrics
from idp.services import Services
from idp.store.db import db
from idp.store.models import Client


class YihaoServer(AuthorizationServer):  # type: ignore[misc]
    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        # An interaction resumed from the session arrives as a prepared request.
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        try:
            return super().get_authorization_grant(request)
        except ValueError:
            # Authlib passes an unknown response_type as the error description, which OAuth2Error
            # refuses when it holds characters RFC 6749 4.1.2.1 forbids there: same error, plain
            # (it goes to the redirect URI the interaction's steps verified).
            raise UnsupportedResponseTypeError("unknown") from None

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> Any:
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except ValueError:
            # RFC 6749 2.3.1: an Authorization header Authlib cannot parse ("Basic " with nothing
            # after it, credentials that are not UTF-8) authenticates no client.
            raise InvalidClientError(status_code=401, description="malformed credentials") from None
        except InvalidClientError as error:
            # Authlib says "cannot authenticate with methods: [...]" for everything, which reads
            # like a method mismatch when the secret is simply wrong: say which it is.
            error.description = self._why_not(request)
            raise
        fapi2.check_assertion_alg(client, request)
        if endpoint == "token":
            fapi2.require_sender_constraint(client)
        return client

    def _why_not(self, request: OAuth2Request) -> str:
        used = _method_used(request)
        claimed = _claimed_client_id(request, used)
        if claimed is None and used == PRIVATE_KEY_JWT:
            return "client authentication failed: the client assertion is not valid"
        client = self.query_client(claimed or "")
        if client is None:
            return "client authentication failed: unknown client_id"
        registered = client.token_endpoint_auth_method
        if used != registered:
            return f"client authentication failed: this client authenticates with {registered}"
        if used == "private_key_jwt":
            return "client authentication failed: the client assertion is not valid"
        return "client authentication failed: the client secret is not correct"


def _method_used(request: OAuth2Request) -> str:
    """Which client authentication the request attempted (RFC 6749 2.3.1, RFC 7523 2.2)."""
    form = request.payload.data
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        return "client_secret_basic"
    if form.get("client_assertion"):
        return PRIVATE_KEY_JWT
    return "client_secret_post" if form.get("client_secret") else "none"


def _claimed_client_id(request: OAuth2Request, used: str) -> str | None:
    if used == "client_secret_basic":
        client_id, _secret = extract_basic_authorization(request.headers)
        return str(client_id) if client_id else None
    found = request.payload.data.get("client_id")  # optional with an assertion (RFC 7523 3)
    return str(found) if found else None


class ClientCache:
    """Registered clients, read from the database at most once per ``seconds`` per process.

    Every token request looks its client up first, and that read was a third of a client-
    credentials grant (docs/performance.md). A change (``idp.admin.clients``, RFC 7592) drops the
    client here at once (``forget_client``) and reaches other nodes within ``seconds``, like a
    key rotation. A disabled client is no client: /authorize, /token, introspection, UserInfo
    and every bearer token of it see none. Cached rows are detached from any session and only
    read; unknown ids are never cached, so probing cannot fill it.
    """

    def __init__(self, seconds: int) -> None:
        self._rows: TimedCache[str, Client] = TimedCache(seconds)

    def __call__(self, client_id: str) -> Client | None:
        # Client ids are short URL-safe strings; anything else (PostgreSQL refuses NUL in text
        # parameters) is simply no client, not a database error.
        if len(client_id) > 64 or "\x00" in client_id:
            return None
        return _enabled(self._rows.get(client_id, lambda: self._load(client_id)))

    @staticmethod
    def _load(client_id: str) -> Client | None:
        found: Client | None = Client.query.filter_by(client_id=client_id).one_or_none()
        if found is not None:
            db.session.expunge(found)
        return found

    def forget(self, client_id: str) -> None:
        self._rows.forget(client_id)


def _enabled(client: Client | None) -> Client | None:
    return client if client is not None and client.disabled_at is None else None


def forget_client(client_id: str) -> None:
    """Drop a changed client from this process's cache (other nodes: within ``seconds``)."""
    cache: ClientCache = current_app.extensions["yihao_clients"]
    cache.forget(client_id)


def query_client(client_id: str) -> Client | None:
    cache: ClientCache = current_app.extensions["yihao_clients"]
    return cache(client_id)


#: Every grant the token endpoint runs; discovery's grant_types_supported is derived from it.
GRANTS = (AuthorizationCodeGrant, RefreshTokenGrant, ClientCredentialsGrant, TokenExchangeGrant)
SUPPORTED_GRANT_TYPES = [grant.GRANT_TYPE for grant in GRANTS]


def build_server(app: Flask, svc: Services, end_session: Callable[[], None]) -> YihaoServer:
    def persist(token: dict[str, Any], request: OAuth2Request) -> None:
        source = request.authorization_code or request.refresh_token
        grant_id = source.grant_id if source is not None else secrets.token_hex(16)
        ends = grant_end(svc, source, int(token["expires_in"]))
        save_token(svc, token, request.client, request.user, grant_id, source, ends, source is None)
        metrics.token_issued(request.payload.grant_type)

    issuer = svc.settings.issuer
    app.extensions["yihao_clients"] = ClientCache(svc.settings.key_cache_seconds)
    server = YihaoServer(app, query_client=query_client, save_token=persist)
    server.register_token_generator("default", TokenIssuer(svc))
    authenticated_at = (issuer + ENDPOINTS["token_endpoint"], issuer + ENDPOINTS[PAR_ENDPOINT])
    server.register_client_auth_method(PRIVATE_KEY_JWT, PrivateKeyJWT(issuer, *authenticated_at))
    server.register_grant(AuthorizationCodeGrant, [RequiredS256(required=True), OpenIDConnect()])
    server.register_grant(RefreshTokenGrant, [RefreshIDToken()])
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(TokenExchangeGrant)  # RFC 8693, by hand (idp.oauth.rfc8693)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)
    server.register_endpoint(EndSession(end_session))
    server.register_extension(Issuer(issuer))
    return server
