"""Relying services: register, list, edit, approve personal scopes, rotate the secret, disable.

A client-manager onboards services but cannot give them personal data: the scopes that need an
admin's yes (``registration.NEEDS_APPROVAL``) that it asks for wait in ``pending_scopes`` until
an admin approves them, which is always its own recorded act. Every change drops the client
from this process's cache (``forget_client``); other nodes see it within their cache time.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from idp.admin import actions, paging
from idp.admin.errors import Conflict, Invalid, NotFound
from idp.admin.roles import Operator, Permission, needs
from idp.admin.times import iso
from idp.oauth.registration import (
    ClientSpec,
    RedirectURIError,
    RegistrationError,
    apply_spec,
    new_client,
    new_secret_for,
    spec_of,
    withheld,
)
from idp.oauth.server import forget_client
from idp.oauth.tokens import revoke_client_tokens
from idp.store.crypto import token_digest
from idp.store.db import db, utcnow
from idp.store.models import Client, InitialAccessToken

#: The largest page of clients one call returns.
#: The longest an initial access token may live (RFC 7591 3 leaves it to the server).
MAX_INITIAL_ACCESS_SECONDS = 30 * 24 * 3600
MAX_INITIAL_ACCESS_USES = 100

#: What an edit may change, and the spec field each one is.
EDITABLE = {
    "name": "name",
    "redirect_uris": "redirect_uris",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "scope": "scope",
    "sector_identifier_uri": "sector_identifier_uri",
    "require_pushed_authorization_requests": "require_pushed_authorization_requests",
    "profile": "profile",
}


def shown(client: Client) -> dict[str, Any]:
    """A client as operators see it; never its secret or registration token."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "auth_method": client.token_endpoint_auth_method,
        "scope": client.scope,
        "pending_scope": client.pending_scopes,
        "grant_types": list(client.grant_types),
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "subject_type": client.subject_type,
        "sector": client.sector_identifier,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "profile": client.profile,
        "self_registered": client.registration_token_digest is not None,
        "disabled_at": iso(client.disabled_at),
        "created_at": iso(client.created_at),
    }


def _edited(client: Client) -> dict[str, Any]:
    """The fields an edit or approval changes, for the record's before and after."""
    found = shown(client)
    return {k: found[k] for k in _RECORDED}


_RECORDED = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scope",
    "pending_scope",
    "require_pushed_authorization_requests",
    "profile",
)


def client_row(client_id: str) -> Client:
    """The client with that id (any task about a client finds it here), else NotFound."""
    # PostgreSQL refuses NUL in a text parameter: such an id is simply no client.
    if len(client_id) > 64 or "\x00" in client_id:
        raise NotFound("no client with that client_id")
    found: Client | None = db.session.scalar(select(Client).filter_by(client_id=client_id))
    if found is None:
        raise NotFound("no client with that client_id")
    return found


def _invalid(exc: RegistrationError) -> Invalid:
    pointer = "/redirect_uris" if isinstance(exc, RedirectURIError) else ""
    return Invalid(str(exc), errors=[{"pointer": pointer, "detail": str(exc)}])


@needs(Permission.CLIENTS_READ)
def list_clients(
    operator: Operator, offset: int = 0, limit: int = paging.DEFAULT_LIMIT
) -> dict[str, Any]:
    """A page of clients, oldest first."""
    statement = select(Client).order_by(Client.created_at, Client.id)
    return paging.page_of(statement, offset, limit).shown(lambda row: shown(row[0]))


@needs(Permission.CLIENTS_READ)
def show_client(operator: Operator, client_id: str) -> dict[str, Any]:
    return shown(client_row(client_id))


@needs(Permission.CLIENTS_WRITE)
def register(operator: Operator, spec: ClientSpec) -> dict[str, Any]:
    """Register a client; its secret is in the answer this once only. Scopes needing approval
    that the operator may not approve are left pending."""
    pending: frozenset[str] = frozenset()
    if not operator.may(Permission.CLIENTS_APPROVE):
        granted, pending = withheld(spec.scope, frozenset())
        spec = replace(spec, scope=granted, allowed_reserved=frozenset())
    try:
        client, secret = new_client(spec, pending)
    except RegistrationError as exc:
        raise _invalid(exc) from None
    db.session.flush()
    actions.record(operator, "client.register", "client", client.client_id, after=_edited(client))
    db.session.commit()
    return {**shown(client), "client_secret": secret}


@needs(Permission.CLIENTS_WRITE)
def edit(operator: Operator, client_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a client's name, redirect URIs, scope, PAR or profile under the registration rules
    (a ``fapi2`` client pushes its requests whatever the flag says). A scope
    that needs approval and that the client does not hold yet waits for an admin, whoever
    edits: granting one is always the approval's own act."""
    client = client_row(client_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"these cannot be edited: {', '.join(sorted(unknown))}")
    before = _edited(client)
    fields = {EDITABLE[k]: v for k, v in changes.items()}
    pending = frozenset(client.pending_scopes.split())
    if "scope" in fields:
        fields["scope"], new_pending = withheld(fields["scope"], client.scopes)
        pending = new_pending
    try:
        apply_spec(client, spec_of(client, **fields), pending)
    except RegistrationError as exc:
        raise _invalid(exc) from None
    after = _edited(client)
    if after == before:
        raise Conflict("the change changes nothing")
    actions.record(operator, "client.edit", "client", client_id, before=before, after=after)
    db.session.commit()
    forget_client(client_id)
    return shown(client)


@needs(Permission.CLIENTS_APPROVE)
def approve(operator: Operator, client_id: str, scopes: list[str] | None = None) -> dict[str, Any]:
    """Grant pending scopes (all of them when ``scopes`` is None): the admin's explicit yes."""
    client = client_row(client_id)
    pending = client.pending_scopes.split()
    chosen = list(dict.fromkeys(scopes)) if scopes is not None else pending
    if not chosen:
        raise Conflict("the client has no pending scopes")
    not_pending = [s for s in chosen if s not in pending]
    if not_pending:
        raise Conflict(f"not pending for this client: {', '.join(not_pending)}")
    before = _edited(client)
    client.scope = " ".join([*client.scope.split(), *chosen])
    client.pending_scopes = " ".join(s for s in pending if s not in chosen)
    actions.record(operator, "client.approve", "client", client_id, before, _edited(client))
    db.session.commit()
    forget_client(client_id)
    return shown(client)


@needs(Permission.CLIENTS_WRITE)
def rotate_secret(operator: Operator, client_id: str) -> dict[str, Any]:
    """A new secret, in the answer this once only; the old one stops working at once here."""
    client = client_row(client_id)
    try:
        secret = new_secret_for(client)
    except RegistrationError as exc:
        raise Conflict(str(exc)) from None
    actions.record(operator, "client.rotate_secret", "client", client_id)
    db.session.commit()
    forget_client(client_id)
    return {"client_id": client_id, "client_secret": secret}


@needs(Permission.CLIENTS_WRITE)
def disable(operator: Operator, client_id: str) -> dict[str, Any]:
    """The client can no longer authenticate, start a sign-in or use its tokens."""
    return _set_disabled(operator, client_id, True)


@needs(Permission.CLIENTS_WRITE)
def enable(operator: Operator, client_id: str) -> dict[str, Any]:
    return _set_disabled(operator, client_id, False)


def _set_disabled(operator: Operator, client_id: str, disabled: bool) -> dict[str, Any]:
    client = client_row(client_id)
    if (client.disabled_at is not None) == disabled:
        raise Conflict(
            "the client is disabled already" if disabled else "the client is not disabled"
        )
    client.disabled_at = utcnow() if disabled else None
    after: dict[str, Any] = {"disabled": disabled}
    if disabled:  # a suspended service may have been compromised: its tokens end here
        after["tokens_revoked"] = revoke_client_tokens(client_id)
    actions.record(
        operator,
        "client.disable" if disabled else "client.enable",
        "client",
        client_id,
        before={"disabled": not disabled},
        after=after,
    )
    db.session.commit()
    forget_client(client_id)
    return shown(client)


@needs(Permission.INITIAL_ACCESS_TOKENS)
def issue_initial_access_token(
    operator: Operator, expires_in: int = 7 * 24 * 3600, uses: int = 1, note: str = ""
) -> dict[str, Any]:
    """RFC 7591 3: a token a developer registers clients with (``uses`` times, until it
    expires), shown this once; only its digest is kept."""
    if not 60 <= expires_in <= MAX_INITIAL_ACCESS_SECONDS:
        raise Invalid(f"expires_in must be 60 to {MAX_INITIAL_ACCESS_SECONDS} seconds")
    if not 1 <= uses <= MAX_INITIAL_ACCESS_USES:
        raise Invalid(f"uses must be 1 to {MAX_INITIAL_ACCESS_USES}")
    token = secrets.token_urlsafe(32)
    row = InitialAccessToken(
        digest=token_digest(token),
        note=note.strip()[:200],
        issued_by=operator.label,
        expires_at=utcnow() + timedelta(seconds=expires_in),
        uses_left=uses,
    )
    db.session.add(row)
    db.session.flush()
    after = {"uses": uses, "expires_at": iso(row.expires_at), "note": row.note}
    actions.record(
        operator, "client.initial_access_token", "initial_access_token", str(row.id), after=after
    )
    db.session.commit()
    return {"id": row.id, "initial_access_token": token, **after}


def _open_token(row: InitialAccessToken) -> dict[str, Any]:
    """An initial access token as operators see it afterwards: never the token itself."""
    return {
        "id": row.id,
        "note": row.note,
        "issued_by": row.issued_by,
        "issued_at": iso(row.issued_at),
        "expires_at": iso(row.expires_at),
        "uses_left": row.uses_left,
    }


@needs(Permission.INITIAL_ACCESS_TOKENS)
def list_initial_access_tokens(
    operator: Operator, offset: int = 0, limit: int = paging.DEFAULT_LIMIT
) -> dict[str, Any]:
    """The tokens that still open registration (uses left, not expired), newest first."""
    statement = (
        select(InitialAccessToken)
        .where(InitialAccessToken.uses_left > 0, InitialAccessToken.expires_at > utcnow())
        .order_by(InitialAccessToken.issued_at.desc(), InitialAccessToken.id.desc())
    )
    return paging.page_of(statement, offset, limit).shown(lambda row: _open_token(row[0]))


@needs(Permission.INITIAL_ACCESS_TOKENS)
def revoke_initial_access_token(operator: Operator, token_id: int) -> dict[str, Any]:
    """Close a token at once (a leaked one, or a developer who is done): no uses are left, and
    ``idp db purge`` deletes it with the spent ones."""
    row = db.session.get(InitialAccessToken, token_id)
    if row is None or row.uses_left <= 0:
        raise NotFound("no open initial access token with that id")
    before = _open_token(row)
    row.uses_left = 0
    actions.record(
        operator,
        "client.initial_access_token_revoke",
        "initial_access_token",
        str(row.id),
        before={"uses_left": before["uses_left"]},
        after={"uses_left": 0},
    )
    db.session.commit()
    return _open_token(row)
