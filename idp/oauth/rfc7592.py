"""Dynamic client registration management (RFC 7592) at ``/connect/register/<client_id>``:
a self-registered client reads, replaces and deletes its registration with the registration
access token it got at registration (only its digest is stored).

Authlib's ``ClientConfigurationEndpoint`` runs the protocol: the token, then the client named by
the URL, that they match, and the rules of an update request (RFC 7592 2.2: no registration
fields, its own ``client_id``, a matching ``client_secret``). Hand-written: reading the body and
the metadata (shared with ``rfc7591``; Authlib's own prints a failure to stdout), and what a
change does here:

- an update goes through the same rules as every door (``registration.apply_spec``): a pairwise
  client keeps its sector, a personal scope it does not hold yet waits for an admin, and the
  authentication method stays (a public client turned confidential would have no secret);
- a delete disables the client and withdraws the token rather than removing the row, so that
  citizens' records of what they released (``releases``) still name the service.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint
from sqlalchemy import select

from idp.admin import actions
from idp.oauth.discovery import provider_metadata
from idp.oauth.registration import RegistrationError, apply_spec, withheld
from idp.oauth.rfc7591 import (
    Registration,
    bad_metadata,
    bearer,
    client_metadata,
    configuration_uri,
    described,
    metadata_error,
    self_service,
    spec_from,
)
from idp.oauth.server import YihaoServer, forget_client
from idp.oauth.tokens import revoke_client_tokens
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import db, utcnow
from idp.store.models import Client


def register_endpoints(server: YihaoServer) -> None:
    """Dynamic registration and its management on the server (here, not in ``server.py``,
    which this module imports for ``forget_client``)."""
    server.register_endpoint(Registration)
    server.register_endpoint(Configuration)


class RegistrationAccess:
    """The registration access token presented: good for its own client only (RFC 7592 1)."""

    def __init__(self, client: Client, value: str) -> None:
        self.client = client
        self.value = value

    def check_client(self, client: Client) -> bool:
        return bool(client.id == self.client.id)


def _enabled(**where: Any) -> Client | None:
    found: Client | None = db.session.scalar(
        select(Client).filter_by(**where).where(Client.disabled_at.is_(None))
    )
    return found


class Configuration(ClientConfigurationEndpoint):  # type: ignore[misc]
    def create_endpoint_request(self, request: Any) -> Any:
        return request  # made by the web layer (rfc7591.json_request), with its body reader

    def get_server_metadata(self) -> dict[str, Any]:
        return provider_metadata(services().settings.issuer)

    def authenticate_token(self, request: Any) -> RegistrationAccess:
        value = bearer(request)
        client = _enabled(registration_token_digest=token_digest(value)) if value else None
        if client is None or value is None:
            raise InvalidTokenError("send the client's registration access token")
        named = self.authenticate_client(request)
        if named is not None and named.id != client.id:
            # RFC 7592 1: a registration access token is good for its own client only; Authlib
            # would answer 400 access_denied, which RFC 6750 3.1 makes 401 invalid_token.
            raise InvalidTokenError("the registration access token is another client's")
        return RegistrationAccess(client, value)

    def authenticate_client(self, request: Any) -> Client | None:
        client_id = urlsplit(request.uri).path.rstrip("/").rsplit("/", 1)[-1]
        if len(client_id) > 64 or "\x00" in client_id:
            return None
        return _enabled(client_id=client_id)

    def revoke_access_token(self, request: Any, token: RegistrationAccess) -> None:
        # RFC 7592 2: a token used for a client that does not exist SHOULD be revoked.
        token.client.registration_token_digest = None
        db.session.commit()

    def check_permission(self, client: Client, request: Any) -> bool:
        return True

    def introspect_client(self, client: Client) -> dict[str, Any]:
        return described(client)

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        # RFC 7592 3: the same token stays good; only its digest is kept, so echo the one sent.
        token: RegistrationAccess = request.credential
        return {
            "registration_client_uri": configuration_uri(client),
            "registration_access_token": token.value,
        }

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        return client_metadata(request)

    def update_client(
        self, client: Client, client_metadata: dict[str, Any], request: Any
    ) -> Client:
        """RFC 7592 2.2: the request's metadata replaces the registered metadata."""
        spec = spec_from(client_metadata)
        if spec.auth_method != client.token_endpoint_auth_method:
            raise bad_metadata("token_endpoint_auth_method cannot change: register a new client")
        granted, pending = withheld(spec.scope, client.scopes)
        before = described(client) | {"pending_scope": client.pending_scopes}
        try:
            # RFC 7591 metadata has no profile: an operator's choice, kept through updates.
            apply_spec(client, replace(spec, scope=granted, profile=client.profile), pending)
        except RegistrationError as exc:
            db.session.rollback()
            raise metadata_error(exc) from None
        after = described(client) | {"pending_scope": client.pending_scopes}
        actions.record(
            self_service(client.client_id, "dynamic registration management"),
            "client.update_dynamic",
            "client",
            client.client_id,
            before=before,
            after=after,
        )
        db.session.commit()
        forget_client(client.client_id)
        return client

    def delete_client(self, client: Client, request: Any) -> None:
        """RFC 7592 2.3: client_id, secret and registration access token stop working, and
        so do the tokens it holds."""
        client.disabled_at = utcnow()
        client.registration_token_digest = None
        revoked = revoke_client_tokens(client.client_id)
        actions.record(
            self_service(client.client_id, "dynamic registration management"),
            "client.delete_dynamic",
            "client",
            client.client_id,
            before={"disabled": False},
            after={"disabled": True, "tokens_revoked": revoked},
        )
        db.session.commit()
        forget_client(client.client_id)
