"""Dynamic Client Registration (RFC 7591) at ``/connect/register``, opened by initial access
tokens an operator issues (``idp.admin.clients.issue_initial_access_token``).

From Authlib's ``ClientRegistrationEndpoint`` this keeps the endpoint's place in the server and
its errors, and the metadata checks of its RFC 7591 and OIDC Registration claim classes against
the provider metadata. Hand-written, and why:

- the response (``create_registration_response``): Authlib echoes the request's metadata and a
  secret even for a public client, where RFC 7591 3.2.1 wants what was registered, and a
  personal scope left pending must not read as granted;
- the body (``JsonBody``): read with the provider's bounded reader, and checked for JSON types
  first (Authlib's checks assume them, so ``"redirect_uris": 5`` would be a 500);
- storing (``save_client``): the same rules as every other door (``registration.py``), the
  initial access token spent in the same transaction, and the act recorded for auditors;
- the initial access token is a bearer token of its own kind, refused per RFC 6750 3.1.

The helpers here (body, metadata, description) are shared with RFC 7592 (``rfc7592``).
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, JsonPayload, JsonRequest, OAuth2Error
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import (
    ClientMetadataClaims,
    ClientRegistrationEndpoint,
    InvalidClientMetadataError,
    InvalidRedirectURIError,
)
from authlib.oidc.registration import ClientMetadataClaims as OIDCClientMetadataClaims
from flask import request as flask_request
from jsonschema import Draft202012Validator
from sqlalchemy import select, update

from idp.admin import actions
from idp.admin.roles import Operator
from idp.oauth.discovery import provider_metadata
from idp.oauth.registration import (
    ClientSpec,
    RedirectURIError,
    RegistrationError,
    check_redirect_uris,
    new_client,
    withheld,
)
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import db, utcnow
from idp.store.models import Client, InitialAccessToken

PATH = "/connect/register"

_TEXT = {"type": "string", "maxLength": 500}
_TEXTS = {"type": "array", "items": _TEXT, "maxItems": 20}
#: The JSON types of the metadata we read (RFC 7591 2, OIDC Registration 2, Back-Channel
#: Logout 2.2, RP-Initiated Logout 3.1); other members are ignored (RFC 7591 2).
METADATA_TYPES = Draft202012Validator(
    {
        "type": "object",
        "properties": {
            **{
                name: _TEXTS
                for name in (
                    "redirect_uris",
                    "post_logout_redirect_uris",
                    "grant_types",
                    "response_types",
                    "contacts",
                    "default_acr_values",
                    "request_uris",
                )
            },
            **{
                name: _TEXT
                for name in (
                    "client_id",
                    "client_secret",
                    "client_name",
                    "client_uri",
                    "logo_uri",
                    "tos_uri",
                    "policy_uri",
                    "scope",
                    "software_id",
                    "software_version",
                    "token_endpoint_auth_method",
                    "token_endpoint_auth_signing_alg",
                    "application_type",
                    "subject_type",
                    "sector_identifier_uri",
                    "id_token_signed_response_alg",
                    "backchannel_logout_uri",
                    "initiate_login_uri",
                )
            },
            "jwks": {
                "type": "object",
                "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
                "required": ["keys"],
            },
            "backchannel_logout_session_required": {"type": "boolean"},
            "require_pushed_authorization_requests": {"type": "boolean"},  # RFC 9126 6
            "require_auth_time": {"type": "boolean"},
            "default_max_age": {"type": "integer"},
        },
    }
)
#: Metadata Authlib's claim classes do not know, read as given.
_OURS = (
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "require_pushed_authorization_requests",
)


class JsonBody(JsonPayload):  # type: ignore[misc]
    """The request's JSON object, read once when first asked for, by the web layer's bounded
    reader (``read`` raises ``ValueError`` for a bad body), so that a bad body is an OAuth error
    inside the endpoint, after the token check, not before it."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    @cached_property
    def data(self) -> dict[str, Any]:
        try:
            return self._read()
        except ValueError as exc:
            raise InvalidRequestError(_described_safely(str(exc))) from None


def json_request(read: Callable[[], dict[str, Any]]) -> JsonRequest:
    """The current Flask request as Authlib's JSON request, its body read by ``read``."""
    found = JsonRequest(flask_request.method, flask_request.url, flask_request.headers)
    found.payload = JsonBody(read)
    return found


def _described_safely(text: str) -> str:
    # RFC 6749 5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E (Authlib raises
    # otherwise), and our messages quote the offending URI, which may hold anything.
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:300]


def bad_metadata(text: str) -> InvalidClientMetadataError:
    return InvalidClientMetadataError(_described_safely(text))


def bad_redirect_uri(text: str) -> InvalidRedirectURIError:
    return InvalidRedirectURIError(_described_safely(text))


def bearer(request: JsonRequest) -> str | None:
    """The bearer token of the request (RFC 6750 2.1), if it sent one."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() or None if header[:7].lower() == "bearer " else None


def client_metadata(request: JsonRequest) -> dict[str, Any]:
    """The request's client metadata, checked for types, then by Authlib's RFC 7591 and OIDC
    Registration claims against what the provider supports."""
    raw = request.payload.data
    failure = next(iter(METADATA_TYPES.iter_errors(raw)), None)
    if failure is not None:
        where = "/".join(str(p) for p in failure.path) or "the body"
        raise bad_metadata(f"{where}: fails {failure.validator}")
    if "jwks_uri" in raw:
        raise bad_metadata("jwks_uri is not supported here: send jwks")
    try:
        check_redirect_uris(raw.get("redirect_uris", []))
    except RegistrationError as exc:
        raise bad_redirect_uri(str(exc)) from None
    metadata: dict[str, Any] = {}
    server_metadata = provider_metadata(services().settings.issuer)
    for kind in (ClientMetadataClaims, OIDCClientMetadataClaims):
        options = kind.get_claims_options(server_metadata)
        claims = kind(raw, {}, options, server_metadata)
        try:
            claims.validate()
        except Exception as exc:  # joserfc's claim errors; their description names the field
            raise bad_metadata(getattr(exc, "description", "bad metadata")) from None
        metadata.update(claims.get_registered_claims())
    return metadata | {name: raw[name] for name in _OURS if name in raw}


def spec_from(metadata: dict[str, Any]) -> ClientSpec:
    """The registration rules' view of RFC 7591 metadata, with its defaults (RFC 7591 2)."""
    name = str(metadata.get("client_name") or "").strip()
    if not name:
        # Shown on the consent page: a citizen must see whom they release data to.
        raise bad_metadata("client_name is required")
    return ClientSpec(
        name=name,
        redirect_uris=list(metadata.get("redirect_uris") or []),
        scope=metadata.get("scope") or "openid",
        grant_types=list(metadata.get("grant_types") or ["authorization_code"]),
        auth_method=metadata.get("token_endpoint_auth_method", "client_secret_basic"),
        sector_identifier_uri=metadata.get("sector_identifier_uri"),
        post_logout_redirect_uris=list(metadata.get("post_logout_redirect_uris") or []),
        subject_type=metadata.get("subject_type") or "pairwise",
        id_token_alg=metadata.get("id_token_signed_response_alg", "RS256"),
        jwks=metadata.get("jwks"),
        backchannel_logout_uri=metadata.get("backchannel_logout_uri"),
        backchannel_logout_session_required=bool(
            metadata.get("backchannel_logout_session_required", False)
        ),
        require_pushed_authorization_requests=bool(
            metadata.get("require_pushed_authorization_requests", False)
        ),
    )


def metadata_error(exc: RegistrationError) -> OAuth2Error:
    """RFC 7591 3.2.2: a redirect URI's rule, or any other field's."""
    if isinstance(exc, RedirectURIError):
        return bad_redirect_uri(str(exc))
    return bad_metadata(str(exc))


def described(client: Client) -> dict[str, Any]:
    """The client's registered metadata (RFC 7591 3.2.1), granted scope only."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": calendar.timegm(client.created_at.timetuple()),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": ["code"] if "authorization_code" in client.grant_types else [],
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": client.scope,
        "subject_type": client.subject_type,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
    }
    if client.secret_digest is not None:
        body["client_secret_expires_at"] = 0  # RFC 7591 3.2.1: required with a secret; never
    if client.jwks:
        body["jwks"] = client.jwks
    if client.backchannel_logout_uri:
        body["backchannel_logout_uri"] = client.backchannel_logout_uri
    return body


def configuration_uri(client: Client) -> str:
    """RFC 7592 3: where the client reads, updates and deletes its registration."""
    return f"{services().settings.issuer}{PATH}/{client.client_id}"


def self_service(client_id: str, how: str) -> Operator:
    """Who acts in a self-service change, for the admin-action record."""
    return Operator("client", client_id, how, frozenset())


class Registration(ClientRegistrationEndpoint):  # type: ignore[misc]
    def create_endpoint_request(self, request: JsonRequest) -> JsonRequest:
        return request  # made by the web layer (json_request), with its body reader

    def get_server_metadata(self) -> dict[str, Any]:
        return provider_metadata(services().settings.issuer)

    def authenticate_token(self, request: JsonRequest) -> InitialAccessToken:
        value = bearer(request)
        row: InitialAccessToken | None = None
        if value is not None:
            row = db.session.scalar(
                select(InitialAccessToken).filter_by(digest=token_digest(value))
            )
        if row is None or row.uses_left < 1 or row.expires_at <= utcnow():
            # RFC 7591 3: an initial access token is refused like any bearer token (RFC 6750 3.1).
            raise InvalidTokenError("send a valid initial access token", realm="yihao-register")
        return row

    def create_registration_response(self, request: JsonRequest) -> tuple[int, Any, Any]:
        initial = self.authenticate_token(request)
        metadata = client_metadata(request)
        client, secret, access_token = self.save_client({}, metadata, request, initial)
        body = described(client) | {
            "registration_access_token": access_token,
            "registration_client_uri": configuration_uri(client),
        }
        if secret is not None:
            body["client_secret"] = secret
        return 201, body, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]

    def save_client(
        self,
        client_info: dict[str, Any],
        client_metadata: dict[str, Any],
        request: JsonRequest,
        initial: InitialAccessToken | None = None,
    ) -> tuple[Client, str | None, str]:
        """Store the client under the registration rules; scopes needing an admin's approval
        wait in ``pending_scopes``. Spends one use of the initial access token atomically."""
        assert initial is not None
        spec = spec_from(client_metadata)
        granted, pending = withheld(spec.scope, frozenset())
        spec = replace(spec, scope=granted)
        try:
            client, secret = new_client(spec, pending)
        except RegistrationError as exc:
            raise metadata_error(exc) from None
        access_token = secrets.token_urlsafe(32)
        client.registration_token_digest = token_digest(access_token)
        spent = db.session.execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.id == initial.id, InitialAccessToken.uses_left > 0)
            .values(uses_left=InitialAccessToken.uses_left - 1)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            raise InvalidTokenError("the initial access token is used up")
        db.session.flush()
        how = f"dynamic registration (initial access token {initial.id})"
        actions.record(
            self_service(client.client_id, how),
            "client.register_dynamic",
            "client",
            client.client_id,
            after={"scope": client.scope, "pending_scope": client.pending_scopes},
        )
        db.session.commit()
        return client, secret, access_token
