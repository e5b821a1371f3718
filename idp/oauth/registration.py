"""Client registration rules (OIDC Registration 1.0 section 2, RFC 7591 2), applied the same way
whichever door a client comes in by: the CLI and the admin API (``idp.admin.clients``), and
dynamic registration (``rfc7591``, ``rfc7592``)."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import requests

from idp.admin.roles import ROLE_SCOPES
from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth import fapi2
from idp.oauth.assurance import ACR_VALUES_SUPPORTED, BY_ACR
from idp.oauth.claims import PERSONAL_SCOPES, SUPPORTED_SCOPES
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
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

#: Scopes a client gets only with an admin's yes: personal data, and the reserved ones. A
#: client-manager or a self-registering client asking for one leaves it pending
#: (``clients.pending_scopes``) until an admin approves it.
NEEDS_APPROVAL = PERSONAL_SCOPES | frozenset(RESERVED_SCOPES)


class RegistrationError(ValueError):
    """The client metadata breaks a rule; the message names the field and the rule."""


class RedirectURIError(RegistrationError):
    """A redirect URI breaks a rule (RFC 7591 3.2.2 ``invalid_redirect_uri``)."""


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
    require_pushed_authorization_requests: bool = False  # RFC 9126 6
    profile: str = ""  # a security profile (idp.oauth.fapi2.PROFILES)


def _check_uri(uri: str, what: str) -> None:
    kind = RedirectURIError if what == "redirect URI" else RegistrationError
    try:
        parts = urlsplit(uri)
    except ValueError:  # an unbalanced "[" in the host, for one
        raise kind(f"{what} {uri!r} is not a URL") from None
    # RFC 6749 3.1.2: absolute, no fragment; RFC 8252 7.3 and 8.3: plain http only on loopback.
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if (
        parts.fragment
        or not parts.hostname
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise kind(
            f"{what} {uri!r} must be an absolute https URL (http only on loopback), no fragment"
        )


def check_redirect_uris(uris: list[str]) -> None:
    """RFC 6749 3.1.2 and RFC 9700 2.1: each one absolute, https (http on loopback), exact."""
    for uri in uris:
        _check_uri(uri, "redirect URI")


def check(spec: ClientSpec) -> None:
    """Every rule a client's metadata must meet, whichever door it comes in by."""
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
        raise RedirectURIError("authorization_code clients need at least one redirect URI")
    check_redirect_uris(spec.redirect_uris)
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
    _check_profile(spec)
    _check_sector(spec)


def _check_profile(spec: ClientSpec) -> None:
    if spec.profile not in fapi2.PROFILES:
        named = ", ".join(p for p in fapi2.PROFILES if p)
        raise RegistrationError(f"profile must be empty or one of {named}")
    if fapi2.applies(spec.profile) and spec.auth_method not in fapi2.AUTH_METHODS:
        # FAPI 2.0 SP 5.3.2.1: no shared secrets, and no public clients.
        raise RegistrationError(
            f"a {spec.profile} client authenticates with {', '.join(fapi2.AUTH_METHODS)}"
        )


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
    client, secret = new_client(spec)
    db.session.commit()
    return client, secret


def new_client(
    spec: ClientSpec, pending: frozenset[str] = frozenset()
) -> tuple[Client, str | None]:
    """Validate a client and add it to the session, uncommitted (the caller records the act in
    the same transaction); ``pending`` scopes wait for an admin (``NEEDS_APPROVAL``)."""
    check(spec)
    secret = None if spec.auth_method in SECRETLESS_METHODS else _new_secret()
    client = Client(
        client_id=spec.client_id or new_client_id(),
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
        id_token_signed_response_alg=fapi2.id_token_alg(spec.profile, spec.id_token_alg),
        access_token_format=spec.access_token_format,
        backchannel_logout_uri=spec.backchannel_logout_uri,
        backchannel_logout_session_required=spec.backchannel_logout_session_required,
        minimum_acr=spec.minimum_acr,
        pending_scopes=" ".join(sorted(pending)),
        require_pushed_authorization_requests=spec.require_pushed_authorization_requests
        or fapi2.applies(spec.profile),
        profile=spec.profile,
    )
    db.session.add(client)
    return client, secret


#: Letters and digits only: an id that began with "-" (as a URL-safe token may) would be read as
#: an option by ``idp client ...`` and every other command line an operator pastes it into.
_CLIENT_ID_ALPHABET = string.ascii_letters + string.digits
_CLIENT_ID_LENGTH = 22  # ~131 bits, as many as a 16-byte token


def new_client_id() -> str:
    return "".join(secrets.choice(_CLIENT_ID_ALPHABET) for _ in range(_CLIENT_ID_LENGTH))


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def withheld(requested: str, granted_now: frozenset[str]) -> tuple[str, frozenset[str]]:
    """Split a requested scope for someone who may not approve: what the client gets (in the
    order asked), and the scopes needing approval that it does not hold yet (left pending)."""
    asked = list(dict.fromkeys(requested.split()))
    pending = frozenset(s for s in asked if s in NEEDS_APPROVAL and s not in granted_now)
    return " ".join(s for s in asked if s not in pending), pending


def spec_of(client: Client, **changes: Any) -> ClientSpec:
    """The registered client as a spec, with ``changes``, to check an edit against the rules;
    reserved scopes it already holds stay allowed."""
    current = ClientSpec(
        name=client.name,
        redirect_uris=list(client.redirect_uris),
        scope=client.scope,
        grant_types=list(client.grant_types),
        auth_method=client.token_endpoint_auth_method,
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        purposes=dict(client.purposes),
        subject_type=client.subject_type,
        id_token_alg=client.id_token_signed_response_alg,
        access_token_format=client.access_token_format,
        jwks=client.jwks,
        backchannel_logout_uri=client.backchannel_logout_uri,
        backchannel_logout_session_required=client.backchannel_logout_session_required,
        allowed_reserved=client.scopes & frozenset(RESERVED_SCOPES),
        minimum_acr=client.minimum_acr,
        require_pushed_authorization_requests=client.require_pushed_authorization_requests,
        profile=client.profile,
    )
    return replace(current, **changes)


def apply_spec(client: Client, spec: ClientSpec, pending: frozenset[str]) -> None:
    """Check ``spec`` and write it over ``client``, uncommitted. A pairwise client keeps its
    sector: its subjects are derived from it (OIDC Core 8.1), so changing it would give every
    citizen a new ``sub`` at this service."""
    check(spec)
    sector = sector_of(spec.redirect_uris, spec.sector_identifier_uri)
    if client.subject_type == "pairwise" and sector != client.sector_identifier:
        raise RedirectURIError(
            f"the redirect URIs must stay on the sector {client.sector_identifier}"
            " (pairwise subjects are derived from it)"
        )
    client.name = spec.name.strip()
    client.redirect_uris = list(spec.redirect_uris)
    client.post_logout_redirect_uris = list(spec.post_logout_redirect_uris)
    client.scope = " ".join(dict.fromkeys(spec.scope.split()))
    client.grant_types = list(spec.grant_types)
    client.token_endpoint_auth_method = spec.auth_method
    client.jwks = spec.jwks
    client.id_token_signed_response_alg = fapi2.id_token_alg(spec.profile, spec.id_token_alg)
    client.backchannel_logout_uri = spec.backchannel_logout_uri
    client.backchannel_logout_session_required = spec.backchannel_logout_session_required
    client.require_pushed_authorization_requests = (
        spec.require_pushed_authorization_requests or fapi2.applies(spec.profile)
    )
    client.profile = spec.profile
    client.pending_scopes = " ".join(sorted(pending))


def new_secret_for(client: Client) -> str:
    """A new secret for a confidential client, shown this once, uncommitted; the old one stops
    working (on other nodes once their client cache expires, ``IDP_KEY_CACHE_SECONDS``)."""
    if client.token_endpoint_auth_method in SECRETLESS_METHODS:
        method = client.token_endpoint_auth_method
        raise RegistrationError(f"the client authenticates with {method}: it has no secret")
    secret = _new_secret()
    client.secret_digest = token_digest(secret)
    return secret
