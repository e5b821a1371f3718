"""Who is calling the admin API: a client with an admin-scoped token, or an operator's session.

- A bearer token (RFC 6750 2.1) of the client-credentials grant whose scope holds
  ``admin:<role>`` values: the client acts in those roles. A token issued to a person is never
  an admin credential, whatever its scope (the person did not sign in to administer).
- Otherwise the browser's session: a person holding roles (``operator_roles``), signed in with
  a second factor (a passkey, or password + authenticator app) within ``IDP_ADMIN_SESSION_TTL``;
  an unsafe method must also pass the form rule (CSRF token header and same origin).
"""

from __future__ import annotations

import time

from flask import g, request

from idp.admin.errors import Forbidden, Unauthenticated
from idp.admin.operators import roles_of
from idp.admin.roles import ROLE_SCOPES, Operator
from idp.auth.session import LoginSession, current_login
from idp.oauth.assurance import TWO_FACTOR, satisfies
from idp.oauth.userinfo import DigestBearerValidator
from idp.services import services
from idp.web.csrf import protect_form

_OPERATOR = "admin_operator"
_SAFE = ("GET", "HEAD", "OPTIONS")


def current_operator() -> Operator:
    """The caller, once per request; ``Unauthenticated`` or ``Forbidden`` otherwise."""
    held: Operator | None = g.get(_OPERATOR)
    if held is None:
        header = request.headers.get("Authorization", "")
        held = _by_token(header[7:].strip()) if header[:7].lower() == "bearer " else _by_session()
        g.setdefault(_OPERATOR, held)
    return held


def _by_token(value: str) -> Operator:
    token = DigestBearerValidator().authenticate_token(value) if value else None
    if token is None or token.is_expired() or token.is_revoked():
        raise Unauthenticated("the bearer token is unknown, expired or revoked")
    if token.person_id is not None:
        raise Forbidden("a token issued to a person is not an admin credential")
    roles = frozenset(ROLE_SCOPES[s] for s in token.scope.split() if s in ROLE_SCOPES)
    if not roles:
        raise Forbidden("the token carries no admin scope (admin:<role>)")
    return Operator("client", token.client_id, token.client_id, roles)


def _by_session() -> Operator:
    login = current_login()
    if login is None:
        raise Unauthenticated("sign in, or send an admin-scoped bearer token")
    roles = roles_of(login.person.id)
    if not roles:
        raise Forbidden("this person holds no operator role")
    fresh_enough(login)
    if request.method not in _SAFE:
        protect_form()
    return Operator("person", login.person.public_id, login.person.number_masked, roles)


def fresh_enough(login: LoginSession) -> None:
    """The console's rule: a second factor, and a sign-in younger than the admin session TTL."""
    if not satisfies(login.amr, TWO_FACTOR):
        raise Forbidden("the admin console needs a passkey, or a password and authenticator app")
    if time.time() - login.auth_time > services().settings.admin_session_ttl:
        raise Unauthenticated("the admin session has ended: sign in again")
