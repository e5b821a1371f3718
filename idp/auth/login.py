"""Checking a username and password, throttled (``idp.throttle``) before any hash is computed.

The username is a resident identity number: enterprises have no password of their own, their
legal representative signs in and then picks the enterprise to act for. Every well-formed number
takes the same path, registered or not: the throttle keys on the number's HMAC index, an unknown
number is checked against a decoy hash, and the sign-in history is asked about it too, so status,
page and timing say nothing about who is registered. Only the password path is throttled; other
ways of signing in (passkeys) neither consult nor feed these counters.
"""

from __future__ import annotations

from enum import StrEnum

from idp.auth import history
from idp.auth.events import SecurityEvent, security_event
from idp.auth.passwords import Passwords, PasswordsBusy
from idp.identifiers import InvalidIdentifier, parse_resident_id
from idp.observability import metrics
from idp.store.crypto import FieldCipher
from idp.store.db import db
from idp.store.models import Person
from idp.store.subjects import find_person, person_index
from idp.throttle.keys import address_digest
from idp.throttle.policy import Attempt, LoginThrottle, Refusal

METHOD = "password"
#: Seconds to come back after ``PasswordsBusy``: a hash takes tens of milliseconds.
BUSY_RETRY_AFTER = 1
#: The ``gate`` label of the throttled-requests metric: the counters, or the full hash queue.
GATE_COUNTERS, GATE_HASH_QUEUE = "login", "argon2_queue"


class LoginFailure(StrEnum):
    MALFORMED = "malformed"
    BAD_CREDENTIALS = "bad_credentials"
    DISABLED = "disabled"


def authenticate(
    cipher: FieldCipher,
    passwords: Passwords,
    throttle: LoginThrottle,
    username: str,
    password: str,
    address: str | None,
) -> Person | LoginFailure | Refusal:
    try:
        number = parse_resident_id(username).number
    except InvalidIdentifier:
        return LoginFailure.MALFORMED
    person = find_person(cipher, number)
    digest = address_digest(cipher, address)
    known_here = history.signed_in_from(person.id if person else None, digest)
    admitted = throttle.admit(person_index(cipher, number), digest, known_here)
    if isinstance(admitted, Refusal):
        return _refused(person, admitted, GATE_COUNTERS)
    try:
        matched = passwords.verify(person.password_hash if person else None, password)
    except PasswordsBusy:
        return _refused(person, Refusal(BUSY_RETRY_AFTER), GATE_HASH_QUEUE)
    if not matched:
        failures = throttle.failed(admitted)
        security_event(
            SecurityEvent.SIGN_IN_FAILED,
            person.id if person else None,
            method=METHOD,
            failures=failures,
        )
        return LoginFailure.BAD_CREDENTIALS
    assert person is not None
    _succeeded(person, passwords, password, throttle, admitted)
    # Said only after the right password, so it tells nothing to someone guessing numbers.
    return LoginFailure.DISABLED if person.disabled_at is not None else person


def _refused(person: Person | None, refusal: Refusal, gate: str) -> Refusal:
    metrics.throttled(gate)
    security_event(
        SecurityEvent.THROTTLED,
        person.id if person else None,
        method=METHOD,
        retry_after=refusal.retry_after,
    )
    return refusal


def _succeeded(
    person: Person, passwords: Passwords, password: str, throttle: LoginThrottle, attempt: Attempt
) -> None:
    throttle.succeeded(attempt)
    if person.disabled_at is None:
        security_event(SecurityEvent.SIGNED_IN, person.id, method=METHOD)
    else:
        security_event(SecurityEvent.SIGN_IN_FAILED, person.id, method=METHOD, reason="disabled")
    if passwords.needs_rehash(person.password_hash):
        try:
            person.password_hash = passwords.hash(password)
        except PasswordsBusy:
            return  # upgraded at a quieter sign-in
        db.session.commit()
