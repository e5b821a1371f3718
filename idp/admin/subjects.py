"""People and enterprises: found by number through the keyed index, shown masked, and the acts of
support (disable, re-enable, reset factors, unlock) and of an admin (a new legal representative).

A number is taken only to find someone (a POST body, the CLI's option); every further act names
the person or enterprise by public id, so no full number is ever in a URL, a log line or the
record. The CLI calls these same functions as ``roles.CLI``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from idp.admin import actions
from idp.admin.errors import Invalid, NotFound
from idp.admin.roles import Operator, Permission, needs
from idp.admin.times import iso
from idp.auth import history, recovery_codes, rfc6238, webauthn
from idp.auth.events import SecurityEvent, security_event
from idp.auth.session import end_sessions
from idp.identifiers import (
    InvalidIdentifier,
    ResidentId,
    Uscc,
    mask_identifier,
    parse_resident_id,
    parse_uscc,
)
from idp.oauth.tokens import revoke_person
from idp.services import services
from idp.store import subjects
from idp.store.db import db, utcnow
from idp.store.models import Enterprise, Person


def resident_id(number: str, pointer: str = "/id_number") -> ResidentId:
    """The parsed number, or ``Invalid`` naming the rule it breaks (never the number)."""
    try:
        return parse_resident_id(number)
    except InvalidIdentifier as exc:
        raise Invalid(str(exc), errors=[{"pointer": pointer, "detail": str(exc)}]) from None


def uscc(code: str, pointer: str = "/uscc") -> Uscc:
    try:
        return parse_uscc(code)
    except InvalidIdentifier as exc:
        raise Invalid(str(exc), errors=[{"pointer": pointer, "detail": str(exc)}]) from None


def person_by_number(number: str, pointer: str = "/id_number") -> Person:
    """The registered person with this number, through the keyed index; ``NotFound`` otherwise."""
    person = subjects.find_person(services().cipher, resident_id(number, pointer).number)
    if person is None:
        raise NotFound("no person is registered with that number")
    return person


def person_by_id(public_id: str) -> Person:
    person: Person | None = db.session.scalar(select(Person).filter_by(public_id=public_id))
    if person is None:
        raise NotFound("no person with that id")
    return person


def _enterprise_by_id(public_id: str) -> Enterprise:
    found: Enterprise | None = db.session.scalar(select(Enterprise).filter_by(public_id=public_id))
    if found is None:
        raise NotFound("no enterprise with that id")
    return found


def _masked_uscc(enterprise: Enterprise) -> str:
    return mask_identifier(subjects.enterprise_uscc(services().cipher, enterprise))


def person_ref(person: Person) -> dict[str, str]:
    """How a person is named to an operator: public id and masked number."""
    return {"person": person.public_id, "id_number": person.number_masked}


def _shown_person(person: Person) -> dict[str, Any]:
    return {
        **person_ref(person),
        "document_type": person.document_type,
        "disabled": person.disabled_at is not None,
        "disabled_at": iso(person.disabled_at),
        "created_at": iso(person.created_at),
        "factors": {
            "password": bool(person.password_hash),
            "totp": rfc6238.is_enrolled(person.id),
            "recovery_codes": recovery_codes.remaining(person.id),
            "passkeys": len(webauthn.passkeys_of(person.id)),
        },
        "sign_ins": history.sign_ins(person.id),
        "enterprises": [
            {"enterprise": e.public_id, "uscc": _masked_uscc(e), "name": e.name}
            for e in person.enterprises
        ],
    }


def _shown_enterprise(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "enterprise": enterprise.public_id,
        "uscc": _masked_uscc(enterprise),
        "name": enterprise.name,
        "created_at": iso(enterprise.created_at),
        "legal_representative": person_ref(enterprise.legal_representative),
    }


@needs(Permission.SUBJECTS_READ)
def find_person(operator: Operator, number: str) -> dict[str, Any]:
    """The person registered with ``number`` (read, so not recorded), shown masked."""
    return _shown_person(person_by_number(number))


@needs(Permission.SUBJECTS_READ)
def show_person(operator: Operator, person_id: str) -> dict[str, Any]:
    return _shown_person(person_by_id(person_id))


@needs(Permission.SUBJECTS_WRITE)
def disable(operator: Operator, person_id: str) -> dict[str, Any]:
    """No more sign-ins; every session ends (with back-channel logout to the services that took
    part) and every token about the person is revoked. Disabling again ends and revokes again."""
    person = person_by_id(person_id)
    before = person.disabled_at
    person.disabled_at = before or utcnow()
    actions.record(
        operator,
        "person.disable",
        "person",
        person.number_masked,
        before={"disabled_at": iso(before)},
        after={"disabled_at": iso(person.disabled_at)},
    )
    db.session.commit()
    ended = end_sessions(person.id, None)
    return {
        **person_ref(person),
        "sessions_ended": ended,
        "tokens_revoked": revoke_person(person.id),
    }


@needs(Permission.SUBJECTS_WRITE)
def enable(operator: Operator, person_id: str) -> dict[str, Any]:
    """Sign-in works again; ended sessions and revoked tokens stay ended."""
    person = person_by_id(person_id)
    before = person.disabled_at
    person.disabled_at = None
    actions.record(
        operator,
        "person.enable",
        "person",
        person.number_masked,
        before={"disabled_at": iso(before)},
        after={"disabled_at": None},
    )
    db.session.commit()
    return _shown_person(person)


@needs(Permission.SUBJECTS_WRITE)
def reset_factors(operator: Operator, person_id: str) -> dict[str, Any]:
    """After checking the card at a counter, for a lost phone: the authenticator app, its
    recovery codes and every passkey go, and every session ends; the password stays."""
    person = person_by_id(person_id)
    had_totp, passkeys = rfc6238.is_enrolled(person.id), len(webauthn.passkeys_of(person.id))
    # Added first, so it is committed with the first removal (each helper commits its own).
    actions.record(
        operator,
        "person.reset_factors",
        "person",
        person.number_masked,
        before={"totp": had_totp, "passkeys": passkeys},
        after={"totp": False, "passkeys": 0},
    )
    if had_totp:
        rfc6238.remove(person.id)
    removed = webauthn.remove_all(person.id)
    if removed:
        security_event(SecurityEvent.FACTOR_REMOVED, person.id, factor="passkey", by="operator")
    db.session.commit()
    return {
        "id_number": person.number_masked,
        "totp_removed": had_totp,
        "passkeys_removed": removed,
        "sessions_ended": end_sessions(person.id, None),
    }


def _unlock(operator: Operator, number_index: str, masked: str) -> dict[str, Any]:
    services().throttle.forget_failures(number_index)
    actions.record(operator, "person.unlock", "person", masked)
    db.session.commit()
    return {"id_number": masked, "status": "unlocked"}


@needs(Permission.SUBJECTS_WRITE)
def unlock(operator: Operator, person_id: str) -> dict[str, Any]:
    """Forget the person's failed password attempts (the citizen called: "my account is
    locked")."""
    person = person_by_id(person_id)
    return {
        "person": person.public_id,
        **_unlock(operator, person.number_index, person.number_masked),
    }


@needs(Permission.SUBJECTS_WRITE)
def unlock_number(operator: Operator, number: str) -> dict[str, Any]:
    """The same for a number, registered or not: the throttle counts unknown numbers too, and a
    counter clerk unlocks without first learning whether the number has an account."""
    rid = resident_id(number)
    return _unlock(operator, subjects.person_index(services().cipher, rid.number), rid.masked)


@needs(Permission.SUBJECTS_READ)
def find_enterprise(operator: Operator, code: str) -> dict[str, Any]:
    found = subjects.find_enterprise(services().cipher, uscc(code))
    if found is None:
        raise NotFound("no enterprise is registered with that code")
    return _shown_enterprise(found)


@needs(Permission.SUBJECTS_READ)
def show_enterprise(operator: Operator, enterprise_id: str) -> dict[str, Any]:
    return _shown_enterprise(_enterprise_by_id(enterprise_id))


@needs(Permission.REPRESENTATIVE)
def set_representative(operator: Operator, enterprise_id: str, number: str) -> dict[str, Any]:
    """Record a new legal representative (already registered); the previous one can no longer
    act for the enterprise, and their grants for it end at their next refresh."""
    enterprise = _enterprise_by_id(enterprise_id)
    representative = person_by_number(number)
    before = person_ref(enterprise.legal_representative)
    subjects.change_representative(enterprise, representative)
    actions.record(
        operator,
        "enterprise.representative",
        "enterprise",
        _masked_uscc(enterprise),
        before={"legal_representative": before},
        after={"legal_representative": person_ref(representative)},
    )
    db.session.commit()
    return _shown_enterprise(enterprise)
