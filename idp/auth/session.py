"""The provider's login session: a server-side record (``idp.sessions``) behind an opaque cookie.

The record holds the person's row id, the authentication time and the public session id
(``sid``, put in ID tokens and logout tokens), never an identity number. Pending authorization
interactions are kept in the same record, each for at most ``interaction_ttl``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, session

from idp.oauth.backchannel_logout import session_ended
from idp.services import services
from idp.sessions.flask_session import ServerSession
from idp.sessions.store import SessionRecord, SessionStore, digest_of
from idp.store.db import db
from idp.store.models import Person

INTERACTIONS = "interactions"
#: The session's authentication methods (RFC 8176 ``amr`` values), in the sealed contents.
AMR = "amr"


@dataclass(frozen=True)
class LoginSession:
    person: Person
    auth_time: int
    sid: str
    #: How the person proved who they are, as RFC 8176 ``amr`` values ("pwd", "otp", "hwk"...).
    amr: tuple[str, ...]


def _session() -> ServerSession:
    assert isinstance(session, ServerSession)  # installed by the application factory
    return session


def sign_in(person: Person, amr: Sequence[str]) -> None:
    """Start a signed-in session for ``person``, authenticated by the ``amr`` methods.

    A new id and a new sid on every sign-in (a step-up included), against session fixation;
    pending interactions carry on.
    """
    pending = interactions()
    now = int(time.time())
    current = _session()
    current.renew(person.id, now, now + services().settings.session_ttl)
    current.clear()
    current[INTERACTIONS] = pending
    current[AMR] = list(amr)


def current_login() -> LoginSession | None:
    """Who is signed in on this browser. The record expires by itself, but ``IDP_SESSION_TTL``
    is checked again so that a lowered lifetime applies to sessions opened before the change."""
    record = _session().record
    if record is None or record.person_id is None or record.auth_time is None:
        return None
    if time.time() - record.auth_time > services().settings.session_ttl:
        return None
    person = db.session.get(Person, record.person_id)
    if person is None or person.disabled_at is not None:
        return None
    return LoginSession(person, record.auth_time, record.sid, tuple(_session().get(AMR, ())))


def sign_out() -> None:
    """End this browser's session now, on the server, and tell the clients that took part."""
    current = _session()
    record = current.record
    if current.cookie_id is not None:  # now, not when the response is saved
        session_store().delete(digest_of(current.cookie_id))
    current.end()
    if record is not None and record.person_id is not None:
        _ended([record])


def end_sessions(person_id: int, sid: str | None) -> int:
    """End one of the person's sessions (by ``sid``), or all of them; returns how many ended.

    When this browser's session is among them, its cookie is cleared with the response.
    Works without a request too (``idp person disable``).
    """
    ended = session_store().end(person_id, sid, int(time.time()))
    if has_request_context():
        mine = _session().record
        if mine is not None and any(r.sid == mine.sid for r in ended):
            _session().end()
    _ended(ended)
    return len(ended)


def sessions_of(person_id: int) -> list[SessionRecord]:
    return session_store().of_person(person_id, int(time.time()))


def _ended(records: list[SessionRecord]) -> None:
    svc = services()
    for record in records:
        if record.person_id is not None:
            session_ended(svc, record.person_id, record.sid)


def session_store() -> SessionStore:
    found: SessionStore = current_app.extensions["yihao_sessions"]
    return found


def interactions() -> dict[str, Any]:
    """Pending interactions by id; those older than ``interaction_ttl`` are dropped."""
    found: dict[str, Any] = _session().setdefault(INTERACTIONS, {})
    oldest = time.time() - services().settings.interaction_ttl
    for uid in [uid for uid, item in found.items() if item.get("started", 0) < oldest]:
        del found[uid]
        _session().modified = True
    return found
