"""Pushed Authorization Requests, RFC 9126: the client posts its authorization request to
``/par`` over the back channel, authenticated, and sends the browser to ``/authorize`` with only
``client_id`` and the ``request_uri`` it got back.

Written here because Authlib has no server-side PAR. The pushed request is checked by the same
steps ``/authorize`` runs before anyone signs in (``steps.REQUEST_CHECKS``), so a request that
passes here passes there, and its errors come back as JSON instead of a redirect (RFC 9126 2.3).
It waits in ``pushed_authorization_requests`` under a digest of the random part of its
``request_uri``, which one DELETE ... RETURNING takes: of two racing uses exactly one gets it, on
PostgreSQL and SQLite alike, and a copy of the table opens no sign-in.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import request
from sqlalchemy import delete
from werkzeug.datastructures import MultiDict

from idp.oauth import fapi2, rfc9101
from idp.oauth.authorization import state
from idp.oauth.authorization.steps import (
    REQUEST_CHECKS,
    Context,
    Outcome,
    Refusal,
    Refused,
    prepared_request,
)
from idp.oauth.grants import TOKEN_ENDPOINT_AUTH_METHODS
from idp.oauth.rfc9101 import PUSHED_REQUEST_URI_PREFIX as REQUEST_URI_PREFIX  # RFC 9126 2.2
from idp.oauth.server import YihaoServer
from idp.services import services
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import Client, PushedRequest

#: Client authentication's parameters (RFC 6749 2.3.1, RFC 7523 2.2): not part of the request.
_AUTHENTICATION = frozenset({"client_secret", "client_assertion", "client_assertion_type"})

Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]


def push(server: YihaoServer) -> Answer:
    """``POST /par``: authenticate the client, check its request, keep it; 201 with the
    ``request_uri`` (RFC 9126 2.2), or an OAuth error as JSON (RFC 9126 2.3)."""
    try:
        client = server.authenticate_client(
            server.create_oauth2_request(request), TOKEN_ENDPOINT_AUTH_METHODS, "par"
        )
        # FAPI 2.0 Message Signing 5.3.1: the pushed request may be a signed request object.
        params = rfc9101.unpack(client, _pushed_params(request.form, client))
        _check(params, client)
    except OAuth2Error as error:
        error.redirect_uri = error.state = None  # RFC 9126 2.3: as JSON, to the client
        status, body, headers = error()
        return status, dict(body), list(headers)
    lifetime = services().settings.par_ttl
    return 201, {"request_uri": _keep(client, params, lifetime), "expires_in": lifetime}, []


def _pushed_params(form: MultiDict[str, str], client: Client) -> dict[str, str]:
    repeated = next((name for name in form if len(form.getlist(name)) > 1), None)
    if repeated is not None:  # RFC 6749 3.1: no parameter more than once
        raise InvalidRequestError("a parameter is sent more than once")
    if "request_uri" in form:  # RFC 9126 2.1
        raise InvalidRequestError("request_uri is not allowed in a pushed request")
    claimed = form.get("client_id", client.client_id)
    if claimed != client.client_id:  # RFC 9126 2.1: the request is the authenticated client's
        raise InvalidRequestError("client_id is not the authenticated client")
    params = {k: v for k, v in form.items() if k not in _AUTHENTICATION}
    return {**params, "client_id": client.client_id}


def _check(params: dict[str, str], client: Client) -> None:
    """The checks /authorize runs before a sign-in (RFC 9126 2.1). ``prompt`` is left to
    /authorize, which runs them again on the pushed request: whether ``prompt=none`` can be
    met depends on who is signed in in the browser, and nobody is here."""
    unprompted = {k: v for k, v in params.items() if k != "prompt"}
    ctx = Context(state.begin(params), prepared_request(unprompted), client=client)
    for check in REQUEST_CHECKS:
        outcome = check(ctx)
        if isinstance(outcome, Refused):
            raise InvalidRequestError(outcome.description or _REFUSED.get(outcome.reason, ""))


_REFUSED = {Refusal.UNVERIFIED_REDIRECT_URI: "redirect_uri is missing or not registered"}


def _keep(client: Client, params: dict[str, str], lifetime: int) -> str:
    random_part = secrets.token_urlsafe(32)
    db.session.add(
        PushedRequest(
            digest=token_digest(random_part),
            client_id=client.client_id,
            params=params,
            expires_at=int(time.time()) + lifetime,
        )
    )
    db.session.commit()
    return REQUEST_URI_PREFIX + random_part


def take(request_uri: str, client_id: str) -> dict[str, str] | None:
    """The pushed request behind ``request_uri`` if it is ``client_id``'s and not expired,
    deleted in the same statement so it serves once (RFC 9126 4: "one-time use"). Another
    client's request_uri is left where it is: naming it must not spend it."""
    if not request_uri.startswith(REQUEST_URI_PREFIX) or "\x00" in request_uri:
        return None
    digest = token_digest(request_uri.removeprefix(REQUEST_URI_PREFIX))
    taken = db.session.execute(
        delete(PushedRequest)
        .where(
            PushedRequest.digest == digest,
            PushedRequest.client_id == client_id,
            PushedRequest.expires_at >= int(time.time()),
        )
        .returning(PushedRequest.params)
    ).first()
    db.session.commit()
    return dict(taken[0]) if taken is not None else None


def resolve_request_uri(ctx: Context) -> Outcome | None:
    """At /authorize: a ``request_uri`` stands for the request the client pushed, which replaces
    the query's parameters (RFC 9126 4). One that is unknown, used, expired or another client's
    is told to the person: no redirect URI of this request has been verified."""
    request_uri = ctx.params.get("request_uri")
    if request_uri is None:
        return None
    assert ctx.client is not None
    pushed = take(request_uri, ctx.client.client_id)
    if pushed is None:
        return Refused(Refusal.REQUEST_URI)
    ctx.interaction.params = pushed
    ctx.interaction.pushed = True
    ctx.prepared = prepared_request(pushed)
    return None


def requires_par(client: Client) -> bool:
    return client.require_pushed_authorization_requests or fapi2.holds(client)


def require_pushed(ctx: Context) -> Outcome | None:
    """RFC 9126 6 ``require_pushed_authorization_requests`` (and FAPI 2.0 SP 5.3.2.2): such a
    client's requests count only when pushed. Its redirect URI is verified by now, so the
    refusal goes back to the client (RFC 6749 4.1.2.1)."""
    assert ctx.client is not None
    if requires_par(ctx.client) and not ctx.interaction.pushed:
        raise InvalidRequestError("this client must push its authorization requests to /par")
    return None
