"""The provider's login session, in Flask's signed cookie so any node can read it.

It holds the person's row id, the authentication time and a random session id, never an
identity number. Pending authorization interactions ride along in the same cookie.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import session

from idp.store.db import db
from idp.store.models import Person

_KEYS = ("person_id", "auth_time", "sid")


@dataclass(frozen=True)
class LoginSession:
    person: Person
    auth_time: int
    sid: str


def sign_in(person: Person) -> None:
    # A fresh session id on every sign-in, against session fixation.
    pending = session.get("interactions", {})
    session.clear()
    session.update(person_id=person.id, auth_time=int(time.time()), sid=secrets.token_hex(16))
    session["interactions"] = pending
    session.permanent = True


def current_login(max_age_seconds: int) -> LoginSession | None:
    if not all(k in session for k in _KEYS):
        return None
    if time.time() - int(session["auth_time"]) > max_age_seconds:
        return None
    person = db.session.get(Person, int(session["person_id"]))
    if person is None:
        return None
    return LoginSession(person, int(session["auth_time"]), str(session["sid"]))


def sign_out() -> None:
    session.clear()


def interactions() -> dict[str, Any]:
    found: dict[str, Any] = session.setdefault("interactions", {})
    return found
