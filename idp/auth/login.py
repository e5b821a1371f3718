"""Checking a username and password, with a per-account lockout after repeated failures.

The username is a resident identity number: enterprises have no password of their own, their
legal representative signs in and then picks the enterprise to act for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from idp.auth.passwords import Passwords
from idp.identifiers import InvalidIdentifier, parse_resident_id
from idp.store.crypto import FieldCipher
from idp.store.db import db, utcnow
from idp.store.models import Person
from idp.store.subjects import find_person


class LoginFailure(StrEnum):
    MALFORMED = "malformed"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lockout: timedelta


def authenticate(
    cipher: FieldCipher, passwords: Passwords, policy: LoginPolicy, username: str, password: str
) -> Person | LoginFailure:
    try:
        number = parse_resident_id(username).number
    except InvalidIdentifier:
        return LoginFailure.MALFORMED
    person = find_person(cipher, number)
    if person is not None and person.locked_until and person.locked_until > utcnow():
        return LoginFailure.LOCKED
    if not passwords.verify(person.password_hash if person else None, password):
        if person is not None:
            _record_failure(person, policy)
        return LoginFailure.BAD_CREDENTIALS
    assert person is not None
    _record_success(person, passwords, password)
    # Said only after the right password, so it tells nothing to someone guessing numbers.
    return LoginFailure.DISABLED if person.disabled_at is not None else person


def _record_failure(person: Person, policy: LoginPolicy) -> None:
    person.failed_logins += 1
    if person.failed_logins >= policy.max_failures:
        person.locked_until = utcnow() + policy.lockout
        person.failed_logins = 0
    db.session.commit()


def _record_success(person: Person, passwords: Passwords, password: str) -> None:
    if person.failed_logins or person.locked_until:
        person.failed_logins = 0
        person.locked_until = None
    if passwords.needs_rehash(person.password_hash):
        person.password_hash = passwords.hash(password)
    db.session.commit()
