"""Flask's ``session`` backed by a ``SessionStore``: the cookie carries only an opaque id.

Views keep using ``flask.session`` (Flask-WTF keeps its CSRF token there, the authorization
endpoint its pending interactions); this interface loads and saves it by the cookie's id. A
browser nobody has signed in on gets a record only once something is put in its session, and that
record lives ``interaction_ttl`` from its last change. Signing in replaces the record with a new
one under a new id (against session fixation) that ends ``session_ttl`` after sign-in, however
active it is.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SessionInterface

from idp.config import Settings
from idp.sessions.devices import describe_device, mask_address
from idp.sessions.redis_store import RedisStore
from idp.sessions.store import (
    SessionRecord,
    SessionStore,
    digest_of,
    new_cookie_id,
    new_sid,
    seal,
    unseal,
)
from idp.sessions.table import TableStore

#: ``last_seen`` is written at most this often when nothing else in the session changed.
TOUCH_SECONDS = 60


def store_for(settings: Settings) -> SessionStore:
    if settings.session_store.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(settings.session_store, settings.session_key_prefix, settings.session_ttl)
    return TableStore()


def fresh_record(now: int, expires_at: int) -> SessionRecord:
    """A new record for the current request's browser, with a new public ``sid``."""
    return SessionRecord(
        sid=new_sid(),
        created_at=now,
        last_seen=now,
        expires_at=expires_at,
        device=describe_device(request.headers.get("User-Agent", "")),
        address=mask_address(request.remote_addr),
    )


class ServerSession(SecureCookieSession):
    """The session's contents, with the record they belong to (None until first saved)."""

    def __init__(
        self, data: dict[str, Any], cookie_id: str | None, record: SessionRecord | None
    ) -> None:
        super().__init__(data)
        self.cookie_id = cookie_id
        self.record = record
        self.ended = False
        self.replaced: str | None = None

    def renew(self, person_id: int, auth_time: int, expires_at: int) -> None:
        """Start a signed-in record under a new id; the old record is deleted when saved."""
        if self.cookie_id is not None:
            self.replaced = digest_of(self.cookie_id)
        self.cookie_id = None
        self.record = fresh_record(auth_time, expires_at)
        self.record.person_id, self.record.auth_time = person_id, auth_time
        self.modified = True

    def end(self) -> None:
        """Delete the record when the response is saved, and the cookie with it."""
        self.clear()
        self.ended = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, interaction_ttl: int) -> None:
        self.store = store
        self._anonymous_ttl = interaction_ttl

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie_id = request.cookies.get(self.get_cookie_name(app))
        if cookie_id:
            record = self.store.load(digest_of(cookie_id), int(time.time()))
            if record is not None:
                return ServerSession(unseal(cookie_id, record.sealed), cookie_id, record)
        return ServerSession({}, None, None)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.replaced is not None:
            self.store.delete(session.replaced)
        if session.ended:
            self._end(app, session, response)
            return
        now = int(time.time())
        record = session.record
        new = session.cookie_id is None
        if new and not session:
            return  # nothing to remember about this browser
        if record is None:
            record = session.record = fresh_record(now, now + self._anonymous_ttl)
        if not (new or session.modified or now - record.last_seen >= TOUCH_SECONDS):
            return
        if record.person_id is None:
            record.expires_at = now + self._anonymous_ttl
        cookie_id = session.cookie_id = session.cookie_id or new_cookie_id()
        record.last_seen, record.sealed = now, seal(cookie_id, dict(session))
        self.store.save(digest_of(cookie_id), record)
        response.vary.add("Cookie")
        if new:
            response.set_cookie(
                self.get_cookie_name(app),
                cookie_id,
                expires=record.expires_at,
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self.get_cookie_samesite(app),
            )

    def _end(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.cookie_id is not None:
            self.store.delete(digest_of(session.cookie_id))
        response.vary.add("Cookie")
        response.delete_cookie(
            self.get_cookie_name(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=True,
            samesite=self.get_cookie_samesite(app),
        )
