"""Relying services (``idp.admin.clients``), and initial access tokens for dynamic registration."""

from __future__ import annotations

from typing import Any

from idp.admin import clients
from idp.admin.errors import NotFound
from idp.admin.roles import Operator
from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth import fapi2
from idp.oauth.assurance import ACR_VALUES_SUPPORTED
from idp.oauth.claims import SUPPORTED_SCOPES
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.registration import GRANT_TYPES, RESERVED_SCOPES, ClientSpec
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import PAGING_QUERY, Schema, closed, page_of

_TEXT: Schema = {"type": "string"}
_URI = {"type": "string", "maxLength": 500}
_URIS = {"type": "array", "items": _URI, "maxItems": 20}
_SCOPE = {"type": "string", "maxLength": 500}
_NAME = {"type": "string", "minLength": 1, "maxLength": 200}

_CLIENT_FIELDS: dict[str, Schema] = {
    "client_id": _TEXT,
    "name": _TEXT,
    "auth_method": _TEXT,
    "scope": _TEXT,
    "pending_scope": _TEXT,
    "grant_types": {"type": "array", "items": _TEXT},
    "redirect_uris": {"type": "array", "items": _TEXT},
    "post_logout_redirect_uris": {"type": "array", "items": _TEXT},
    "subject_type": _TEXT,
    "sector": _TEXT,
    "require_pushed_authorization_requests": {"type": "boolean"},
    "profile": _TEXT,
    "self_registered": {"type": "boolean"},
    "disabled_at": {"type": ["string", "null"]},
    "created_at": _TEXT,
}
_CLIENT = closed(_CLIENT_FIELDS, *_CLIENT_FIELDS)
_SECRET = {"type": ["string", "null"]}
_REGISTERED = closed({**_CLIENT_FIELDS, "client_secret": _SECRET}, *_CLIENT_FIELDS, "client_secret")
_REGISTER = closed(
    {
        "name": _NAME,
        "redirect_uris": _URIS,
        "post_logout_redirect_uris": _URIS,
        "scope": _SCOPE,
        "grant_types": {
            "type": "array",
            "items": {"enum": list(GRANT_TYPES)},
            "minItems": 1,
            "uniqueItems": True,
        },
        "auth_method": {"enum": TOKEN_ENDPOINT_AUTH_METHODS},
        "purposes": {
            "type": "object",
            "propertyNames": {"enum": list(SUPPORTED_SCOPES)},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
        },
        "subject_type": {"enum": ["pairwise", "public"]},
        "id_token_alg": {"enum": list(SUPPORTED_ALGS)},
        "access_token_format": {"enum": ["opaque", "jwt"]},
        "jwks": {
            "type": "object",
            "properties": {"keys": {"type": "array", "items": {"type": "object"}, "maxItems": 10}},
            "required": ["keys"],
        },
        "sector_identifier_uri": _URI,
        "backchannel_logout_uri": _URI,
        "backchannel_logout_session_required": {"type": "boolean"},
        "allow_reserved": {"type": "array", "items": {"enum": sorted(RESERVED_SCOPES)}},
        "minimum_acr": {"enum": ACR_VALUES_SUPPORTED},
        "require_pushed_authorization_requests": {"type": "boolean"},
        "profile": {"enum": list(fapi2.PROFILES)},
    },
    "name",
)
_EDIT = {
    **closed(
        {
            "name": _NAME,
            "redirect_uris": _URIS,
            "post_logout_redirect_uris": _URIS,
            "scope": _SCOPE,
            "sector_identifier_uri": _URI,
            "require_pushed_authorization_requests": {"type": "boolean"},
            "profile": {"enum": list(fapi2.PROFILES)},
        }
    ),
    "minProperties": 1,
}
_APPROVE = closed(
    {"scopes": {"type": "array", "items": {"type": "string", "maxLength": 64}, "minItems": 1}}
)
_NEW_SECRET = closed({"client_id": _TEXT, "client_secret": _TEXT}, "client_id", "client_secret")
_ISSUE = closed(
    {
        "expires_in": {
            "type": "integer",
            "minimum": 60,
            "maximum": clients.MAX_INITIAL_ACCESS_SECONDS,
        },
        "uses": {"type": "integer", "minimum": 1, "maximum": clients.MAX_INITIAL_ACCESS_USES},
        "note": {"type": "string", "maxLength": 200},
    }
)
_ISSUED = closed(
    {
        "id": {"type": "integer"},
        "initial_access_token": _TEXT,
        "uses": {"type": "integer"},
        "expires_at": _TEXT,
        "note": _TEXT,
    },
    "id",
    "initial_access_token",
    "uses",
    "expires_at",
    "note",
)
_OPEN_TOKEN = closed(
    {
        "id": {"type": "integer"},
        "note": _TEXT,
        "issued_by": _TEXT,
        "issued_at": _TEXT,
        "expires_at": _TEXT,
        "uses_left": {"type": "integer"},
    },
    "id",
    "note",
    "issued_by",
    "issued_at",
    "expires_at",
    "uses_left",
)


@operation(
    "GET",
    "/clients",
    calls=clients.list_clients,
    tag="clients",
    summary="A page of registered clients, oldest first",
    response=page_of(_CLIENT),
    query=PAGING_QUERY,
)
def list_clients(operator: Operator, **page: int) -> Any:
    return clients.list_clients(operator, **page)


@operation(
    "POST",
    "/clients",
    calls=clients.register,
    tag="clients",
    status=201,
    summary="Register a client; its secret is in this answer only. A client-manager's personal"
    " and reserved scopes wait for an admin's approval",
    request_schema=_REGISTER,
    response=_REGISTERED,
)
def register_client(operator: Operator, body: dict[str, Any]) -> Any:
    return clients.register(operator, _spec(body))


def _spec(body: dict[str, Any]) -> ClientSpec:
    auth_method = body.get("auth_method", "client_secret_basic")
    return ClientSpec(
        name=body["name"],
        redirect_uris=body.get("redirect_uris", []),
        scope=body.get("scope", "openid"),
        grant_types=body.get("grant_types", ["authorization_code", "refresh_token"]),
        auth_method=auth_method,
        sector_identifier_uri=body.get("sector_identifier_uri"),
        post_logout_redirect_uris=body.get("post_logout_redirect_uris", []),
        purposes=body.get("purposes", {}),
        subject_type=body.get("subject_type", "pairwise"),
        id_token_alg=body.get("id_token_alg", "RS256"),
        access_token_format=body.get("access_token_format", "opaque"),
        jwks=body.get("jwks"),
        backchannel_logout_uri=body.get("backchannel_logout_uri"),
        backchannel_logout_session_required=body.get("backchannel_logout_session_required", False),
        allowed_reserved=frozenset(body.get("allow_reserved", ())),
        minimum_acr=body.get("minimum_acr"),
        require_pushed_authorization_requests=body.get(
            "require_pushed_authorization_requests", False
        ),
        profile=body.get("profile", ""),
    )


@operation(
    "GET",
    "/clients/{client_id}",
    calls=clients.show_client,
    tag="clients",
    summary="One client",
    response=_CLIENT,
)
def show_client(operator: Operator, client_id: str) -> Any:
    return clients.show_client(operator, client_id)


@operation(
    "PATCH",
    "/clients/{client_id}",
    calls=clients.edit,
    tag="clients",
    summary="Change a client's name, redirect URIs, scope, PAR or security profile; new personal"
    " and reserved scopes wait for an admin's approval",
    request_schema=_EDIT,
    response=_CLIENT,
)
def edit_client(operator: Operator, client_id: str, body: dict[str, Any]) -> Any:
    return clients.edit(operator, client_id, body)


@operation(
    "POST",
    "/clients/{client_id}/approve",
    calls=clients.approve,
    tag="clients",
    summary="Grant a client its pending scopes (all, or those listed)",
    request_schema=_APPROVE,
    response=_CLIENT,
)
def approve_scopes(operator: Operator, client_id: str, body: dict[str, Any]) -> Any:
    return clients.approve(operator, client_id, body.get("scopes"))


@operation(
    "POST",
    "/clients/{client_id}/secret",
    calls=clients.rotate_secret,
    tag="clients",
    summary="Give a confidential client a new secret, in this answer only; the old one stops"
    " working",
    response=_NEW_SECRET,
)
def rotate_secret(operator: Operator, client_id: str) -> Any:
    return clients.rotate_secret(operator, client_id)


@operation(
    "POST",
    "/clients/{client_id}/disable",
    calls=clients.disable,
    tag="clients",
    summary="Disable a client: it can no longer authenticate, sign anyone in or use its tokens",
    response=_CLIENT,
)
def disable_client(operator: Operator, client_id: str) -> Any:
    return clients.disable(operator, client_id)


@operation(
    "POST",
    "/clients/{client_id}/enable",
    calls=clients.enable,
    tag="clients",
    summary="Enable a disabled client again",
    response=_CLIENT,
)
def enable_client(operator: Operator, client_id: str) -> Any:
    return clients.enable(operator, client_id)


@operation(
    "POST",
    "/initial-access-tokens",
    calls=clients.issue_initial_access_token,
    tag="clients",
    status=201,
    summary="An initial access token for dynamic client registration (RFC 7591 3), in this"
    " answer only",
    request_schema=_ISSUE,
    response=_ISSUED,
)
def issue_initial_access_token(operator: Operator, body: dict[str, Any]) -> Any:
    return clients.issue_initial_access_token(operator, **body)


@operation(
    "GET",
    "/initial-access-tokens",
    calls=clients.list_initial_access_tokens,
    tag="clients",
    summary="Initial access tokens that still open registration, newest first (never the tokens)",
    response=page_of(_OPEN_TOKEN),
    query=PAGING_QUERY,
)
def list_initial_access_tokens(operator: Operator, **page: int) -> Any:
    return clients.list_initial_access_tokens(operator, **page)


@operation(
    "DELETE",
    "/initial-access-tokens/{token_id}",
    calls=clients.revoke_initial_access_token,
    tag="clients",
    summary="Close an initial access token at once",
    response=_OPEN_TOKEN,
)
def revoke_initial_access_token(operator: Operator, token_id: str) -> Any:
    if not token_id.isdigit() or len(token_id) > 18:
        raise NotFound("no open initial access token with that id")
    return clients.revoke_initial_access_token(operator, int(token_id))
