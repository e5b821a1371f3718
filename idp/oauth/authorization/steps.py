"""The steps of the interaction, each a small function over the request's ``Context``.

A step returns None to let the request through to the next step, or the ``Outcome`` that ends
this run; a protocol error is raised as Authlib's ``OAuth2Error`` and answered by the pipeline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import current_app, request
from joserfc import jwt
from joserfc.errors import JoseError

from idp.auth.session import LoginSession, current_login
from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth import rfc9101
from idp.oauth.authorization.state import Decision, Interaction, Page
from idp.oauth.claims import PERSONAL_SCOPES, subject_of
from idp.oauth.principal import Principal
from idp.oauth.server import YihaoServer, query_client
from idp.services import services
from idp.store.consents import has_consent
from idp.store.db import db
from idp.store.models import Client, Enterprise, Person


class Refusal(StrEnum):
    """Why the person is shown an error page instead of going back to the client."""

    UNKNOWN_CLIENT = "unknown_client"
    UNVERIFIED_REDIRECT_URI = "unverified_redirect_uri"
    EXPIRED = "expired"
    INVALID_REQUEST = "invalid_request"
    #: RFC 9101 / OIDC Core 6.3: a request object that breaks a rule (``idp.oauth.rfc9101``).
    INVALID_REQUEST_OBJECT = "invalid_request_object"


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    description: str = ""


@dataclass(frozen=True)
class Show:
    """The person has to answer ``page`` of interaction ``uid`` before the request can go on."""

    uid: str
    page: Page


@dataclass(frozen=True)
class Issue:
    """Answer the client: a code for ``principal``, or ``access_denied`` when it is None."""

    principal: Principal | None


Outcome = Refused | Show | Issue


@dataclass
class Context:
    """What one run of the steps has found out; the ``interaction`` is what outlives it."""

    interaction: Interaction
    prepared: OAuth2Request | None
    client: Client | None = None
    #: Set once verified: from then on, protocol errors go back to the client (RFC 6749 4.1.2.1).
    redirect_uri: str | None = None
    grant: Any = None
    login: LoginSession | None = None
    scopes: frozenset[str] = frozenset()
    enterprise: Enterprise | None = None

    @property
    def params(self) -> dict[str, str]:
        return self.interaction.params


def server() -> YihaoServer:
    found: YihaoServer = current_app.extensions["yihao_server"]
    return found


def principal_of(
    login: LoginSession | None, enterprise: Enterprise | None = None
) -> Principal | None:
    if login is None:
        return None
    return Principal(login.person, enterprise, login.auth_time, login.sid, login.amr)


def prepared_request(params: dict[str, str]) -> OAuth2Request:
    """The authorization request Authlib is to see, with ``params`` rather than this HTTP
    request's own: a resumed interaction's, or those of a request object."""
    prepared = OAuth2Request(
        "GET", request.url_root.rstrip("/") + "/authorize", headers=request.headers
    )
    prepared.payload = BasicOAuth2Payload(params)
    return prepared


def find_client(ctx: Context) -> Outcome | None:
    client_id = ctx.params.get("client_id")
    ctx.client = query_client(client_id) if client_id else None
    return None if ctx.client is not None else Refused(Refusal.UNKNOWN_CLIENT)


def unpack_request_object(ctx: Context) -> Outcome | None:
    """RFC 9101 6.3: a signed ``request`` replaces the query, here and in the saved interaction
    (so a resumed run sees the same parameters and no request object to spend again)."""
    assert ctx.client is not None
    rfc9101.refuse_external_request_uri(ctx.params)  # OIDC Core 6.2
    if "request" in ctx.params:
        ctx.interaction.params = rfc9101.unpack(ctx.client, ctx.params)
        ctx.prepared = prepared_request(ctx.interaction.params)
    return None


def verify_redirect_uri(ctx: Context) -> Outcome | None:
    # RFC 6749 4.1.2.1: never redirect to an unverified redirect URI; tell the person instead.
    assert ctx.client is not None
    requested = ctx.params.get("redirect_uri")
    if requested:
        verified = requested if ctx.client.check_redirect_uri(requested) else None
    elif "openid" in ctx.params.get("scope", "").split():
        verified = None  # OIDC Core 3.1.2.1: redirect_uri is REQUIRED
    else:
        verified = ctx.client.get_default_redirect_uri()  # RFC 6749 3.1.2.3: only one registered
    ctx.redirect_uri = verified
    return None if verified else Refused(Refusal.UNVERIFIED_REDIRECT_URI)


def validate_request(ctx: Context) -> Outcome | None:
    """Authlib's checks of the request itself: response type, scope, PKCE, nonce, prompt."""
    assert ctx.client is not None
    ctx.login = current_login()
    ctx.grant = server().get_consent_grant(request=ctx.prepared, end_user=principal_of(ctx.login))
    ctx.scopes = requested_scopes(ctx.interaction, ctx.client)
    return None


def check_max_age(ctx: Context) -> Outcome | None:
    # OIDC Core 3.1.2.1: max_age is a non-negative number of seconds; checked before any login.
    max_age = ctx.params.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
        raise InvalidRequestError("max_age must be a non-negative integer")
    return None


def authenticate(ctx: Context) -> Outcome | None:
    if not _needs_login(ctx):
        return None
    if "none" in ctx.interaction.prompts:
        raise LoginRequiredError()
    ctx.interaction.login_asked = True
    ctx.interaction.sid_before = ctx.login.sid if ctx.login else None
    return Show(ctx.interaction.uid, Page.LOGIN)


def _needs_login(ctx: Context) -> bool:
    login = ctx.login
    if login is None:
        return True
    if ctx.interaction.signed_in_since_asked(login.sid):
        return False
    if "login" in ctx.interaction.prompts:
        return True
    max_age = ctx.params.get("max_age")
    if max_age is not None and time.time() - login.auth_time > int(max_age):
        return True
    hint = ctx.params.get("id_token_hint")
    if not hint:
        return False
    assert ctx.client is not None
    return _hinted_subject(hint) != subject_of(services(), ctx.client, Principal(login.person))


def _hinted_subject(hint: str) -> str:
    """The ``sub`` of an ID token we issued; its expiry does not matter (OIDC Core 3.1.2.1)."""
    try:
        token = jwt.decode(
            hint, services().keys.verification_keys(), algorithms=list(SUPPORTED_ALGS)
        )
    except (JoseError, ValueError):
        raise InvalidRequestError("id_token_hint is not an ID token issued here") from None
    return str(token.claims.get("sub", ""))


def honour_denial(ctx: Context) -> Outcome | None:
    # RFC 6749 4.1.2.1: the person said no (on the enterprise or the consent page).
    return Issue(None) if ctx.interaction.decision is Decision.DENY else None


def choose_enterprise(ctx: Context) -> Outcome | None:
    if "enterprise" not in ctx.scopes:
        return None
    assert ctx.login is not None
    ctx.enterprise = chosen_enterprise(ctx.interaction, ctx.login.person)
    if ctx.enterprise is not None:
        return None
    if "none" in ctx.interaction.prompts:
        raise InteractionRequiredError()
    return Show(ctx.interaction.uid, Page.ENTERPRISE)


def consent(ctx: Context) -> Outcome | None:
    if not _needs_consent(ctx):
        return None
    if "none" in ctx.interaction.prompts:
        raise ConsentRequiredError()
    return Show(ctx.interaction.uid, Page.CONSENT)


def _needs_consent(ctx: Context) -> bool:
    if not ctx.scopes & PERSONAL_SCOPES or ctx.interaction.decision is Decision.ALLOW:
        return False
    if "consent" in ctx.interaction.prompts:
        return True
    assert ctx.client is not None and ctx.login is not None
    enterprise_id = ctx.enterprise.id if ctx.enterprise else None
    return not has_consent(ctx.login.person.id, ctx.client.client_id, enterprise_id, ctx.scopes)


def issue(ctx: Context) -> Outcome | None:
    return Issue(principal_of(ctx.login, ctx.enterprise))


def requested_scopes(interaction: Interaction, client: Client) -> frozenset[str]:
    return frozenset(client.get_allowed_scope(interaction.params.get("scope")).split())


def chosen_enterprise(interaction: Interaction, person: Person) -> Enterprise | None:
    """The enterprise chosen on this interaction, while ``person`` still represents it."""
    if interaction.enterprise_id is None:
        return None
    enterprise = db.session.get(Enterprise, interaction.enterprise_id)
    if enterprise is None or enterprise.legal_representative_id != person.id:
        return None
    return enterprise
