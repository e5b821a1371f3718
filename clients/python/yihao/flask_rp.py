"""Sign-in with Yihao for a Flask application: ``/login``, ``/callback``, ``/logout``, ``g.yihao``.

Tokens and claims are personal data (an ID token may carry the identity number), so they are kept
server-side in a ``TokenStore``; Flask's cookie, which the browser can read, holds only a random
session id and the pending authorization (state, nonce, PKCE verifier: no personal data). The
store is keyed by a hash of that id, so a copy of the store does not yield working cookies.

Refresh tokens work once at this provider and a replayed one revokes the whole grant, so refreshes
of one login go through ``TokenStore.update``, which serialises them even across processes
(``g.yihao.access_token()`` when the token is nearly expired, ``g.yihao.refresh()`` at once).

The client authenticates as it was registered: ``YIHAO_CLIENT_SECRET`` (``client_secret_basic``,
or ``client_secret_post`` with ``YIHAO_TOKEN_ENDPOINT_AUTH_METHOD``), or
``YIHAO_CLIENT_PRIVATE_KEY_FILE`` (``private_key_jwt``); settings that do not fit together stop
``init_app`` with a ``ConfigurationError``. A FAPI 2.0 client (``--profile fapi2``) adds
``YIHAO_DPOP_KEY_FILE`` (its tokens are bound to that key) and
``YIHAO_PUSHED_AUTHORIZATION_REQUESTS``; ``YIHAO_CLAIMS`` asks for particular claims (OIDC Core
5.5), such as verified claims. Every setting: clients/python/README.md.

``POST /backchannel-logout`` takes the provider's logout tokens (OpenID Connect Back-Channel
Logout 1.0): when a person signs out at the provider, or ends a session from its account page,
the logins of that session here end too. Register ``<this app>/backchannel-logout`` as the
client's back-channel logout URI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import wraps
from typing import Any, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from yihao.oidc import (
    AuthorizationError,
    AuthorizationStart,
    ConfigurationError,
    LogoutTokenError,
    OidcError,
    RelyingParty,
    Subject,
    TokenError,
    Tokens,
    load_private_key_file,
)
from yihao.oidc.client_auth import ClientAuth, client_auth
from yihao.oidc.rfc9449 import DPoPKey

__all__ = [
    "CurrentLogin",
    "MemoryStore",
    "SqliteStore",
    "StoredLogin",
    "TokenStore",
    "YihaoLogin",
    "ended_by",
    "login_required",
    "safe_next",
    "store_key",
]

log = logging.getLogger(__name__)

SESSION_ID = "yihao.sid"
PENDING = "yihao.pending"
#: Sign-ins started in other tabs that may still come back; older ones are forgotten.
MAX_PENDING = 3
#: An access token this close to expiry is refreshed before use, so it cannot expire in flight.
REFRESH_MARGIN = 30.0
EXTENSION = "yihao"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class StoredLogin:
    """What the server keeps for one signed-in browser."""

    tokens: Tokens
    claims: dict[str, Any] = field(repr=False)

    def to_json(self) -> str:
        return json.dumps({"tokens": self.tokens.as_dict(), "claims": self.claims})

    @classmethod
    def from_json(cls, text: str) -> StoredLogin:
        data = json.loads(text)
        return cls(tokens=Tokens.from_dict(data["tokens"]), claims=dict(data["claims"]))


class TokenStore(Protocol):
    """Server-side logins by key (``store_key`` of the cookie's session id)."""

    def get(self, key: str) -> StoredLogin | None: ...

    def put(self, key: str, login: StoredLogin) -> None: ...

    def delete(self, key: str) -> StoredLogin | None:
        """Remove the login and return it, or None if there was none."""
        ...

    def update(self, key: str, change: Callable[[StoredLogin], StoredLogin]) -> StoredLogin | None:
        """Replace the login with ``change(current)``; callers for one key run one at a time, and
        an exception from ``change`` leaves the login as it was."""
        ...

    def end_logins(self, sub: str | None, sid: str | None) -> int:
        """Delete the logins a logout token names; returns how many (see ``ended_by``)."""
        ...

    def first_use(self, jti: str, expires_at: float) -> bool:
        """Remember a logout token's ``jti`` until ``expires_at``; False if it was seen before."""
        ...


def ended_by(claims: dict[str, Any], sub: str | None, sid: str | None) -> bool:
    """Whether a logout token with ``sub`` and/or ``sid`` ends the login with these ID token
    claims: its session when ``sid`` is given, every login of ``sub`` when only that is
    (Back-Channel Logout 1.0 section 2.4)."""
    if sub is None and sid is None:
        return False
    return (sid is None or claims.get("sid") == sid) and (sub is None or claims.get("sub") == sub)


def store_key(session_id: str) -> str:
    """The store key for a cookie's session id: a digest, so the store never holds the id."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


class MemoryStore:
    """Logins in this process's memory: for one-process deployments and tests."""

    def __init__(self) -> None:
        self._logins: dict[str, StoredLogin] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._seen: dict[str, float] = {}

    def get(self, key: str) -> StoredLogin | None:
        with self._guard:
            return self._logins.get(key)

    def put(self, key: str, login: StoredLogin) -> None:
        with self._guard:
            self._logins[key] = login

    def delete(self, key: str) -> StoredLogin | None:
        with self._guard:
            self._locks.pop(key, None)
            return self._logins.pop(key, None)

    def update(self, key: str, change: Callable[[StoredLogin], StoredLogin]) -> StoredLogin | None:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # held during change(), i.e. during a refresh request: one per login at a time
            current = self.get(key)
            if current is None:
                return None
            updated = change(current)
            with self._guard:
                if key in self._logins:
                    self._logins[key] = updated
            return updated

    def end_logins(self, sub: str | None, sid: str | None) -> int:
        with self._guard:
            keys = [k for k, login in self._logins.items() if ended_by(login.claims, sub, sid)]
            for key in keys:
                del self._logins[key]
                self._locks.pop(key, None)
            return len(keys)

    def first_use(self, jti: str, expires_at: float) -> bool:
        now = time.time()
        with self._guard:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires_at
            return True


class SqliteStore:
    """Logins in an SQLite file, shared by every worker process on one host."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a refreshing writer
            db.execute(
                "CREATE TABLE IF NOT EXISTS yihao_logins (key TEXT PRIMARY KEY,"
                " login TEXT NOT NULL, updated_at REAL NOT NULL, sub TEXT, sid TEXT)"
            )
            _add_logout_columns(db)
            db.execute(
                "CREATE TABLE IF NOT EXISTS yihao_logout_jti"
                " (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
            )

    def get(self, key: str) -> StoredLogin | None:
        with self._connect() as db:
            return _read(db, key)

    def put(self, key: str, login: StoredLogin) -> None:
        with self._connect() as db:
            _write(db, key, login)

    def delete(self, key: str) -> StoredLogin | None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            current = _read(db, key)
            db.execute("DELETE FROM yihao_logins WHERE key = ?", (key,))
            db.execute("COMMIT")
            return current

    def update(self, key: str, change: Callable[[StoredLogin], StoredLogin]) -> StoredLogin | None:
        with self._connect() as db:
            # BEGIN IMMEDIATE takes the write lock before reading, so a second process wanting
            # to refresh the same login waits and then sees the new tokens instead of the spent.
            db.execute("BEGIN IMMEDIATE")
            try:
                current = _read(db, key)
                updated = change(current) if current is not None else None
                if updated is not None:
                    _write(db, key, updated)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return updated

    def end_logins(self, sub: str | None, sid: str | None) -> int:
        if sub is None and sid is None:
            return 0
        named = [(column, value) for column, value in (("sub", sub), ("sid", sid)) if value]
        where = " AND ".join(f"{column} = ?" for column, _ in named)
        with self._connect() as db:
            cursor = db.execute(
                f"DELETE FROM yihao_logins WHERE {where}",  # noqa: S608 (fixed column names)
                [value for _, value in named],
            )
            return cursor.rowcount

    def first_use(self, jti: str, expires_at: float) -> bool:
        with self._connect() as db:
            db.execute("DELETE FROM yihao_logout_jti WHERE expires_at <= ?", (time.time(),))
            cursor = db.execute(
                "INSERT OR IGNORE INTO yihao_logout_jti (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            )
            return cursor.rowcount == 1

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One connection per call: sqlite3 connections must not be shared between threads.
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            yield db
        finally:
            db.close()


def _read(db: sqlite3.Connection, key: str) -> StoredLogin | None:
    row = db.execute("SELECT login FROM yihao_logins WHERE key = ?", (key,)).fetchone()
    return StoredLogin.from_json(row[0]) if row is not None else None


def _write(db: sqlite3.Connection, key: str, login: StoredLogin) -> None:
    db.execute(
        "INSERT INTO yihao_logins (key, login, updated_at, sub, sid) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET login = excluded.login, updated_at = excluded.updated_at,"
        " sub = excluded.sub, sid = excluded.sid",
        (key, login.to_json(), time.time(), login.claims.get("sub"), login.claims.get("sid")),
    )


def _add_logout_columns(db: sqlite3.Connection) -> None:
    """Files made before back-channel logout: add ``sub`` and ``sid``, filled from each login."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(yihao_logins)")}
    if {"sub", "sid"} <= columns:
        return
    db.execute("ALTER TABLE yihao_logins ADD COLUMN sub TEXT")
    db.execute("ALTER TABLE yihao_logins ADD COLUMN sid TEXT")
    for key, text in db.execute("SELECT key, login FROM yihao_logins").fetchall():
        claims = StoredLogin.from_json(text).claims
        db.execute(
            "UPDATE yihao_logins SET sub = ?, sid = ? WHERE key = ?",
            (claims.get("sub"), claims.get("sid"), key),
        )


#: The settings that decide how the client authenticates at the token endpoint.
AUTH_SETTINGS = (
    "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD",
    "YIHAO_CLIENT_SECRET",
    "YIHAO_CLIENT_PRIVATE_KEY_FILE",
)


@dataclass(frozen=True)
class _Settings:
    issuer: str
    client_id: str
    auth: ClientAuth = field(repr=False)
    redirect_uri: str | None
    scope: str
    post_logout_redirect_uri: str | None
    dpop: DPoPKey | None = field(default=None, repr=False)
    pushed: bool = False
    claims: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _Settings:
        missing = [name for name in ("YIHAO_ISSUER", "YIHAO_CLIENT_ID") if not config.get(name)]
        if missing:
            raise RuntimeError(f"set {', '.join(missing)} to use YihaoLogin")
        return cls(
            issuer=config["YIHAO_ISSUER"],
            client_id=config["YIHAO_CLIENT_ID"],
            auth=_client_auth(config),
            redirect_uri=config.get("YIHAO_REDIRECT_URI"),
            scope=config.get("YIHAO_SCOPE", "openid"),
            post_logout_redirect_uri=config.get("YIHAO_POST_LOGOUT_REDIRECT_URI"),
            dpop=_dpop_key(config.get("YIHAO_DPOP_KEY_FILE")),
            pushed=_flag(config.get("YIHAO_PUSHED_AUTHORIZATION_REQUESTS")),
            claims=_claims_request(config.get("YIHAO_CLAIMS")),
        )


def _claims_request(value: object) -> dict[str, Any] | None:
    """``YIHAO_CLAIMS``: a JSON object, as a dict in Python config or as text in the environment;
    checked at ``init_app``, so that a typo stops the service instead of every sign-in."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError("YihaoLogin: YIHAO_CLAIMS is not valid JSON") from None
    if not isinstance(value, dict):
        raise ConfigurationError("YihaoLogin: YIHAO_CLAIMS must be a JSON object")
    return value


def _dpop_key(path: str | None) -> DPoPKey | None:
    if not path:
        return None
    try:
        return DPoPKey.from_file(path)
    except ConfigurationError as exc:
        raise ConfigurationError(f"YihaoLogin: {exc} (see YIHAO_DPOP_KEY_FILE)") from None


def _flag(value: object) -> bool:
    """A boolean setting, from Python config or from the environment ("1", "true", "yes")."""
    return value is True or str(value).strip().lower() in {"1", "true", "yes"}


def _client_auth(config: dict[str, Any]) -> ClientAuth:
    """The client authentication the settings describe, checked at ``init_app``: the relying
    party itself is made at the first request, too late for a wrong setting to stop start-up.
    The message names the settings, never the secret or the key."""
    method, secret, key_file = (config.get(name) or None for name in AUTH_SETTINGS)
    try:
        key = load_private_key_file(key_file) if key_file else None
        return client_auth(method, secret, key)
    except ConfigurationError as exc:
        raise ConfigurationError(f"YihaoLogin: {exc} (see {', '.join(AUTH_SETTINGS)})") from None


class _AppState:
    """Per application: settings, and the relying party, made on first use because its default
    redirect URI is the absolute URL of the callback, which needs a request to build."""

    def __init__(self, settings: _Settings, store: TokenStore) -> None:
        self.settings = settings
        self.store = store
        self._relying_party: RelyingParty | None = None
        self._lock = threading.Lock()

    def relying_party(self) -> RelyingParty:
        with self._lock:
            if self._relying_party is None:
                s = self.settings
                self._relying_party = RelyingParty(
                    s.issuer,
                    s.client_id,
                    s.redirect_uri or url_for("yihao.callback", _external=True),
                    s.auth.secret,
                    s.scope,
                    auth_method=s.auth.method,
                    private_key=s.auth.key,
                    dpop=s.dpop,
                    pushed=s.pushed,
                )
            return self._relying_party


@dataclass(frozen=True)
class CurrentLogin:
    """``g.yihao`` while someone is signed in: who, their ID token claims, and their tokens."""

    subject: Subject
    claims: dict[str, Any] = field(repr=False)
    _key: str = field(repr=False)

    @property
    def scopes(self) -> frozenset[str]:
        """The scope granted to this login (``Tokens.scopes``): what the client is registered for
        and the person agreed to, so check it before relying on a claim, e.g. ``"id_number" in
        g.yihao.scopes``. Read from the store, so it is the grant's after any refresh."""
        stored = _state().store.get(self._key)
        return stored.tokens.scopes if stored is not None else frozenset()

    def access_token(self) -> str:
        """A usable access token, refreshed first if it is (nearly) expired.

        Raises ``TokenError`` when the grant is gone (e.g. consent withdrawn); the local login is
        then ended too, so the next page asks the person to sign in again.
        """
        return self._update(force=False).access_token

    def refresh(self) -> Tokens:
        """Refresh now, whatever the access token's age, and return the new tokens, which the
        store holds before this returns (the spent refresh token is gone from it: RFC 6749 6,
        one use at this provider). E.g. to learn at once whether the grant still stands.

        Raises ``TokenError`` as ``access_token`` does, and ``TokenError("login_required")``
        for a login without a refresh token (a client not registered for ``refresh_token``).
        """
        return self._update(force=True)

    def userinfo(self) -> dict[str, Any]:
        """Fresh claims from UserInfo, checked to be about the same subject (OIDC Core 5.3.4)."""
        return _state().relying_party().userinfo(self.access_token(), self.subject.sub)

    def _update(self, *, force: bool) -> Tokens:
        """The login's tokens after refreshing them in the store (serialised per login, see
        ``TokenStore.update``): always with ``force``, else only when (nearly) expired."""
        state = _state()
        try:
            stored = state.store.update(self._key, _refresher(state.relying_party(), force=force))
        except TokenError as exc:
            if exc.error == "invalid_grant":
                state.store.delete(self._key)
            raise
        if stored is None:
            raise TokenError("login_required", "the local login has ended")
        return stored.tokens


def _refresher(rp: RelyingParty, *, force: bool) -> Callable[[StoredLogin], StoredLogin]:
    def change(current: StoredLogin) -> StoredLogin:
        tokens = current.tokens
        if not force and not tokens.expires_within(REFRESH_MARGIN, now=time.time()):
            return current  # also the case when another worker refreshed while we waited
        if tokens.refresh_token is None:
            raise TokenError("login_required", "the login has no refresh token: sign in again")
        fresh = rp.refresh(tokens.refresh_token, subject=str(current.claims["sub"]))
        kept = replace(
            fresh,
            # OIDC Core 12.2: refresh responses may carry no ID token; keep ours for id_token_hint.
            id_token=fresh.id_token or tokens.id_token,
            # RFC 6749 5.1 and 6: no scope in the response means the grant's scope is unchanged.
            scope=fresh.scope or tokens.scope,
        )
        return replace(current, tokens=kept)

    return change


def _state() -> _AppState:
    state: _AppState = current_app.extensions[EXTENSION]
    return state


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Send anyone not signed in to ``/login``, coming back to this page afterwards."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if g.get("yihao") is None:
            return redirect(url_for("yihao.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site, else ``/``: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) < 0x20 for ch in value):  # browsers read "/\\" as "//"
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


class YihaoLogin:
    """The Flask extension: ``YihaoLogin(app)`` or ``YihaoLogin().init_app(app)``."""

    login_required = staticmethod(login_required)

    def __init__(self, app: Flask | None = None, *, store: TokenStore | None = None) -> None:
        self.store: TokenStore = store if store is not None else MemoryStore()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read ``YIHAO_*`` settings, register the routes and load ``g.yihao`` on each request."""
        app.extensions[EXTENSION] = _AppState(_Settings.from_config(app.config), self.store)
        app.register_blueprint(_blueprint())
        app.before_request(_load_current_login)
        csrf = app.extensions.get("csrf")  # Flask-WTF's CSRFProtect, when set up before us
        if csrf is not None:
            # The provider POSTs logout tokens server to server: a signed token, not a form.
            csrf.exempt(_backchannel_logout)

    @staticmethod
    def relying_party() -> RelyingParty:
        """The current application's ``RelyingParty``, e.g. to call ``revoke`` yourself."""
        return _state().relying_party()


def _load_current_login() -> None:
    session_id = session.get(SESSION_ID)
    stored = None
    if isinstance(session_id, str):
        stored = _state().store.get(store_key(session_id))
    g.yihao = None
    if stored is not None and isinstance(session_id, str):
        g.yihao = CurrentLogin(
            subject=Subject.from_claims(stored.claims),
            claims=stored.claims,
            _key=store_key(session_id),
        )


def _blueprint() -> Blueprint:
    blueprint = Blueprint("yihao", __name__)
    blueprint.add_url_rule("/login", "login", _login)
    blueprint.add_url_rule("/callback", "callback", _callback)
    blueprint.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])
    blueprint.add_url_rule(
        "/backchannel-logout", "backchannel_logout", _backchannel_logout, methods=["POST"]
    )
    return blueprint


def _login() -> ResponseReturnValue:
    state = _state()
    started = state.relying_party().start(claims=state.settings.claims)
    pending: dict[str, Any] = dict(session.get(PENDING) or {})
    # The URL is left out: it can be rebuilt and would only make the cookie bigger.
    next_url = safe_next(request.args.get("next"))
    pending[started.state] = {**started.as_dict(), "url": "", "next": next_url, "at": time.time()}
    # Flask's session serialiser sorts keys, so age comes from "at", not from the dict's order.
    newest = sorted(pending.items(), key=lambda item: float(item[1].get("at", 0)))[-MAX_PENDING:]
    session[PENDING] = dict(newest)
    return redirect(started.url)


def _callback() -> ResponseReturnValue:
    pending: dict[str, Any] = dict(session.get(PENDING) or {})
    entry = pending.pop(request.args.get("state", ""), None)
    session[PENDING] = pending
    if entry is None:
        return _plain("This sign-in was not started here, or has already finished.", 400)
    state = _state()
    try:
        login = state.relying_party().finish(request.url, AuthorizationStart.from_dict(entry))
    except AuthorizationError as exc:
        status = 403 if exc.error == "access_denied" else 400
        return _plain(f"Sign-in did not complete: {exc.error}", status)
    except OidcError as exc:
        log.warning("sign-in failed: %s", exc)
        return _plain("Sign-in failed; please try again later.", 502)
    _end_local_login(state)
    session_id = secrets.token_urlsafe(32)
    state.store.put(store_key(session_id), StoredLogin(login.tokens, login.claims))
    session[SESSION_ID] = session_id
    return redirect(safe_next(entry.get("next")))


def _plain(text: str, status: int) -> Response:
    # Plain text: the error code comes from the query string and must not be read as HTML.
    return Response(text, status=status, mimetype="text/plain")


def _logout() -> ResponseReturnValue:
    state = _state()
    session.pop(PENDING, None)
    stored = _end_local_login(state)
    after = state.settings.post_logout_redirect_uri
    if stored is None or stored.tokens.id_token is None:
        return redirect(after or "/")
    rp = state.relying_party()
    if stored.tokens.refresh_token is not None:
        try:  # docs/integration.md 12: logout ends the provider session only, not our grant
            rp.revoke(stored.tokens.refresh_token, "refresh_token")
        except OidcError as exc:
            log.warning("could not revoke the refresh token at sign-out: %s", exc)
    return redirect(rp.logout_url(stored.tokens.id_token, after))


def _backchannel_logout() -> ResponseReturnValue:
    """Back-Channel Logout 1.0 section 2.8: 200 when the logins are gone, 400 otherwise."""
    state = _state()
    try:
        ended = state.relying_party().validate_logout_token(request.form.get("logout_token", ""))
    except LogoutTokenError as exc:
        return _logout_answer(400, exc.reason)
    except OidcError as exc:  # the provider's keys could not be fetched: worth a retry
        log.warning("back-channel logout not checked: %s", exc)
        return _logout_answer(503, "temporarily_unavailable")
    # Section 2.6 item 10: a logout token is used once.
    if not state.store.first_use(ended.jti, ended.expires_at):
        return _logout_answer(400, "replayed")
    state.store.end_logins(ended.sub, ended.sid)
    return _logout_answer(200, None)


def _logout_answer(status: int, reason: str | None) -> Response:
    error = {"error": "invalid_request", "error_description": reason}
    body = "" if reason is None else json.dumps(error)
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"  # section 2.8
    return response


def _end_local_login(state: _AppState) -> StoredLogin | None:
    session_id = session.pop(SESSION_ID, None)
    g.yihao = None
    return state.store.delete(store_key(session_id)) if isinstance(session_id, str) else None
