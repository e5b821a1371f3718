"""Self-registration (实名注册) and password reset, both proven the same way.

A citizen names themselves with number + name. Registration matches them against the population
registry (``resident_id``), reset against the account itself; a wrong name and an unknown number
get the same answer, so the form tells nobody whose number is on file. Possession is then proven
by a one-time code (``idp.auth.one_time_codes``): sent by SMS to the registry's mobile number on
record, or an activation code a counter clerk issued. Only then is the account created from the
registry record, or its password replaced (and every session of it ended by the caller).

The claimant travels between the pages in the sealed server-side session as a ``Claimant``: the
person index and row ids, never the number itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from idp.auth.events import SecurityEvent, security_event
from idp.auth.one_time_codes import Purpose, Redeemed, issue_sms_code, read_code, redeem, withdraw
from idp.auth.password_rules import PasswordProblem, password_problem, personal_words
from idp.identifiers import InvalidIdentifier, mask_mobile, parse_resident_id, same_name
from idp.notify.sms import SmsError, sender_for
from idp.services import Services
from idp.store.db import db
from idp.store.models import Person, RegistryRecord
from idp.store.registry import find_record, read_mobile, read_record
from idp.store.subjects import Contact, add_person, find_person, person_index, read_person

REGISTRY = "resident_id"


class Mismatch(StrEnum):
    MALFORMED = "malformed"
    #: Unknown number or wrong name: one answer for both.
    NO_MATCH = "no_match"
    ALREADY_REGISTERED = "already_registered"
    NOT_REGISTERED = "not_registered"


class Failure(StrEnum):
    WRONG_CODE = "wrong_code"
    NO_CODE = "no_code"
    ALREADY_REGISTERED = "already_registered"


class Sent(StrEnum):
    SENT = "sent"
    NO_MOBILE = "no_mobile"
    LIMITED = "limited"
    FAILED = "failed"


@dataclass(frozen=True)
class Claimant:
    """Whom a registration or reset is for, once number and name matched."""

    purpose: Purpose
    subject: str
    record_id: int | None
    person_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose.value,
            "subject": self.subject,
            "record_id": self.record_id,
            "person_id": self.person_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claimant:
        return cls(Purpose(data["purpose"]), data["subject"], data["record_id"], data["person_id"])


def identify(svc: Services, purpose: Purpose, number: str, name: str) -> Claimant | Mismatch:
    try:
        normalised = parse_resident_id(number).number
    except InvalidIdentifier:
        return Mismatch.MALFORMED
    record = find_record(svc.cipher, REGISTRY, normalised)
    person = find_person(svc.cipher, normalised)
    on_record = record is not None and same_name(read_record(svc.cipher, record)["name"], name)
    subject = person_index(svc.cipher, normalised)
    record_id = record.id if record is not None and on_record else None
    if purpose is Purpose.REGISTER:
        if not on_record:
            return Mismatch.NO_MATCH
        if person is not None:
            return Mismatch.ALREADY_REGISTERED
        return Claimant(purpose, subject, record_id, None)
    if person is None:
        return Mismatch.NOT_REGISTERED if on_record else Mismatch.NO_MATCH
    if not same_name(read_person(svc.cipher, person).name, name):
        return Mismatch.NO_MATCH
    return Claimant(purpose, subject, record_id, person.id)


def mobile_of(svc: Services, claimant: Claimant) -> str | None:
    """The registry's mobile number on record, the only number a code is ever sent to."""
    record = db.session.get(RegistryRecord, claimant.record_id) if claimant.record_id else None
    return read_mobile(svc.cipher, record) if record is not None else None


def masked_mobile(svc: Services, claimant: Claimant) -> str | None:
    mobile = mobile_of(svc, claimant)
    return mask_mobile(mobile) if mobile else None


def send_code(svc: Services, claimant: Claimant, address: str) -> Sent:
    mobile = mobile_of(svc, claimant)
    if mobile is None:
        return Sent.NO_MOBILE
    issued = issue_sms_code(svc, claimant.purpose, claimant.subject, address)
    if issued is None:
        return Sent.LIMITED
    text = _(
        "[Yihao] Your code is %(code)s, valid for %(minutes)d minutes. Tell no one.",
        code=issued.code,
        minutes=svc.settings.sms_code_ttl // 60,
    )
    try:
        sender_for(svc.settings, svc.cipher).send(mobile, text)
    except SmsError:
        withdraw(issued)
        return Sent.FAILED
    return Sent.SENT


def finish(
    svc: Services, claimant: Claimant, code: str, password: str
) -> Person | PasswordProblem | Failure:
    """Check the new password, then the code, then create the account or replace its password."""
    number, name, address = _subject_facts(svc, claimant)
    problem = password_problem(password, personal_words(number))
    if problem is not None:
        return problem
    typed = read_code(code)
    if typed is None:
        return Failure.WRONG_CODE
    channel, normalised = typed
    outcome = redeem(svc, claimant.purpose, channel, claimant.subject, normalised)
    if outcome is not Redeemed.OK:
        return Failure.WRONG_CODE if outcome is Redeemed.WRONG else Failure.NO_CODE
    password_hash = svc.passwords.hash(password)
    if claimant.purpose is Purpose.REGISTER:
        return _create(svc, claimant, number, name, address, password_hash, channel)
    return _reset(claimant, password_hash, channel)


def _create(
    svc: Services,
    claimant: Claimant,
    number: str,
    name: str,
    address: str | None,
    password_hash: str,
    channel: str,
) -> Person | Failure:
    contact = Contact(
        phone=mobile_of(svc, claimant),
        address={"formatted": address, "country": "CN"} if address else {},
    )
    try:
        person = add_person(svc.cipher, parse_resident_id(number), name, password_hash, contact)
        db.session.commit()
    except IntegrityError:  # registered by a racing request after the code was checked
        db.session.rollback()
        return Failure.ALREADY_REGISTERED
    security_event(SecurityEvent.REGISTERED, person.id, proof=channel)
    return person


def _reset(claimant: Claimant, password_hash: str, channel: str) -> Person:
    person = db.session.get(Person, claimant.person_id)
    assert person is not None  # persons are disabled, never deleted
    person.password_hash = password_hash
    db.session.commit()
    security_event(SecurityEvent.PASSWORD_RESET, person.id, proof=channel)
    return person


def _subject_facts(svc: Services, claimant: Claimant) -> tuple[str, str, str | None]:
    """Number, name and (registry) address of the claimant, decrypted for this request only."""
    if claimant.person_id is not None:
        person = db.session.get(Person, claimant.person_id)
        assert person is not None
        record = read_person(svc.cipher, person)
        return record.number, record.name, None
    registry = db.session.get(RegistryRecord, claimant.record_id)
    assert registry is not None
    data = read_record(svc.cipher, registry)
    return str(data["id_number"]), str(data["name"]), data.get("address")
