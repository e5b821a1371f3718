"""Client registration rules (OIDC Registration 1.0 section 2, RFC 7591 2), applied the same way
whichever door a client comes in by (CLI today, admin API or dynamic registration later)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from idp.admin.roles import ROLE_SCOPES
from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth.assurance import ACR_VALUES_SUPPORTED, BY_ACR
from idp.oauth.claims import SUPPORTED_SCOPES
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.server import forget_client
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import Client
from idp.store.models.clients import sector_of

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
#: Scopes no client gets by merely listing them: the operator must also allow each one by name.
#: ``credentials`` lets an app have the citizen's certificates bound to keys it holds itself, so
#: it is the provider's own wallet's (``idp.oauth.first_party``) unless an operator says otherwise.
RESERVED_SCOPES = {
    "credentials": "binds the citizen's e-certificates to keys the app holds",
    **{scope: f"acts as an operator in the {role} role" for scope, role in ROLE_SCOPES.items()},
}


class RegistrationError(ValueError):
    """The client metadata breaks a rule; the message names the field and the rule."""


@dataclass(frozen=True)
class ClientSpec:
    name: str
    redirect_uris: list[str]
    scope: str
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    auth_method: str = "client_secret_basic"
    sector_identifier_uri: str | None = None
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    purposes: dict[str, str] = field(default_factory=dict)
    subject_type: str = "pairwise"
    id_token_alg: str = "RS256"
    access_token_format: str = "opaque"
    jwks: dict[str, Any] | None = None
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    client_id: str | None = None  # only for the provider's own first-party clients
    allowed_reserved: frozenset[str] = frozenset()  # the operator's yes to RESERVED_SCOPES
    minimum_acr: str | None = None  # the lowest level of assurance its sign-ins may have


def _check_uri(uri: str, what: str) -> None:
    parts = urlsplit(uri)
    # RFC 6749 3.1.2: absolute, no fragment; RFC 8252 7.3 and 8.3: plain http only on loopback.
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if (
        parts.fragment
        or not parts.hostname
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise RegistrationError(
            f"{what} {uri!r} must be an absolute https URL (http only on loopback), no fragment"
        )


def _check(spec: ClientSpec) -> None:
    if not spec.name.strip():
        raise RegistrationError("name must not be empty")
    if spec.auth_method not in TOKEN_ENDPOINT_AUTH_METHODS:
        raise RegistrationError(
            f"auth method must be one of {', '.join(TOKEN_ENDPOINT_AUTH_METHODS)}"
        )
    unknown = set(spec.grant_types) - set(GRANT_TYPES)
    if unknown or not spec.grant_types:
        raise RegistrationError(f"grant types must be among {', '.join(GRANT_TYPES)}")
    if spec.auth_method == "none" and "client_credentials" in spec.grant_types:
        raise RegistrationError("a public client cannot use client_credentials (RFC 6749 4.4)")
    bad_scopes = set(spec.scope.split()) - set(SUPPORTED_SCOPES)
    if bad_scopes:
        raise RegistrationError(f"unknown scopes: {', '.join(sorted(bad_scopes))}")
    _check_reserved(spec)
    if "authorization_code" in spec.grant_types and not spec.redirect_uris:
        raise RegistrationError("authorization_code clients need at least one redirect URI")
    for uri in spec.redirect_uris:
        _check_uri(uri, "redirect URI")
    for uri in spec.post_logout_redirect_uris:
        _check_uri(uri, "post-logout redirect URI")
    _check_backchannel(spec)
    if spec.subject_type not in ("pairwise", "public"):
        raise RegistrationError("subject type must be pairwise or public")
    if spec.id_token_alg not in SUPPORTED_ALGS:
        raise RegistrationError(f"ID token algorithm must be one of {', '.join(SUPPORTED_ALGS)}")
    if spec.access_token_format not in ("opaque", "jwt"):
        raise RegistrationError("access token format must be opaque or jwt")
    if spec.auth_method == "private_key_jwt" and not (spec.jwks and spec.jwks.get("keys")):
        raise RegistrationError("private_key_jwt needs the client's public keys (jwks)")
    if spec.minimum_acr is not None and spec.minimum_acr not in BY_ACR:
        raise RegistrationError(f"minimum acr must be one of {', '.join(ACR_VALUES_SUPPORTED)}")
    _check_sector(spec)


def _check_backchannel(spec: ClientSpec) -> None:
    if spec.backchannel_logout_uri is None:
        if spec.backchannel_logout_session_required:
            raise RegistrationError("backchannel_logout_session_required needs a back-channel URI")
        return
    # Back-Channel Logout 1.0 section 2.2: an absolute URL, https or loopback http like redirect
    # URIs, which MAY carry a query but MUST NOT carry a fragment.
    _check_uri(spec.backchannel_logout_uri, "back-channel logout URI")


def _check_reserved(spec: ClientSpec) -> None:
    for scope in sorted(set(spec.scope.split()) & set(RESERVED_SCOPES)):
        if scope not in spec.allowed_reserved:
            raise RegistrationError(
                f"scope {scope} is reserved (it {RESERVED_SCOPES[scope]});"
                f" allow it for this client explicitly (idp client add --allow-reserved {scope})"
            )


def _check_sector(spec: ClientSpec) -> None:
    hosts = {urlsplit(u).hostname for u in spec.redirect_uris}
    if spec.sector_identifier_uri is None:
        # OIDC Core 8.1: several redirect hosts under pairwise need a sector_identifier_uri.
        if spec.subject_type == "pairwise" and len(hosts) > 1:
            raise RegistrationError("redirect URIs on several hosts need a sector identifier URI")
        return
    _check_uri(spec.sector_identifier_uri, "sector identifier URI")
    listed = _fetch_sector_document(spec.sector_identifier_uri)
    missing = [u for u in spec.redirect_uris if u not in listed]
    if missing:
        # OIDC Registration 5: the document must list every redirect URI of the client.
        raise RegistrationError(f"sector identifier document does not list {', '.join(missing)}")


def _fetch_sector_document(uri: str) -> list[str]:
    try:
        response = requests.get(uri, timeout=5, allow_redirects=False)
        response.raise_for_status()
        listed = json.loads(response.text)
    except (requests.RequestException, ValueError) as exc:
        raise RegistrationError(
            f"sector identifier URI could not be read as a JSON array: {exc}"
        ) from None
    if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
        raise RegistrationError("sector identifier document must be a JSON array of URIs")
    return listed


#: Client authentication methods with no shared secret (RFC 7591 2: "none"; RFC 7523).
SECRETLESS_METHODS = frozenset({"none", "private_key_jwt"})


def register_client(spec: ClientSpec) -> tuple[Client, str | None]:
    """Validate and store a client; returns it with its secret, shown this once only."""
    _check(spec)
    secret = None if spec.auth_method in SECRETLESS_METHODS else _new_secret()
    client = Client(
        client_id=spec.client_id or secrets.token_urlsafe(16),
        secret_digest=token_digest(secret) if secret else None,
        name=spec.name.strip(),
        redirect_uris=list(spec.redirect_uris),
        post_logout_redirect_uris=list(spec.post_logout_redirect_uris),
        scope=" ".join(dict.fromkeys(spec.scope.split())),
        grant_types=list(spec.grant_types),
        token_endpoint_auth_method=spec.auth_method,
        jwks=spec.jwks,
        subject_type=spec.subject_type,
        sector_identifier=sector_of(spec.redirect_uris, spec.sector_identifier_uri),
        purposes=dict(spec.purposes),
        id_token_signed_response_alg=spec.id_token_alg,
        access_token_format=spec.access_token_format,
        backchannel_logout_uri=spec.backchannel_logout_uri,
        backchannel_logout_session_required=spec.backchannel_logout_session_required,
        minimum_acr=spec.minimum_acr,
    )
    db.session.add(client)
    db.session.commit()
    return client, secret


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def registered_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.created_at, Client.id)))


def reset_secret(client_id: str) -> str:
    """A new secret for a confidential client, shown this once; the old one stops working
    (on other nodes once their client cache expires, ``IDP_KEY_CACHE_SECONDS``)."""
    client = db.session.scalars(select(Client).filter_by(client_id=client_id)).one_or_none()
    if client is None:
        raise RegistrationError("no client with that client_id")
    if client.token_endpoint_auth_method in SECRETLESS_METHODS:
        method = client.token_endpoint_auth_method
        raise RegistrationError(f"the client authenticates with {method}: it has no secret")
    secret = _new_secret()
    client.secret_digest = token_digest(secret)
    db.session.commit()
    forget_client(client_id)
    return secret
