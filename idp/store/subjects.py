"""Finding, creating and reading persons and enterprises; the only code that touches their
ciphertext columns, so encryption stays a detail of the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from idp.identifiers import ResidentId, Uscc, mask_identifier, parse_resident_id
from idp.store.crypto import FieldCipher
from idp.store.db import db
from idp.store.models import Enterprise, Person

_NUMBER = "persons.number"
_NAME = "persons.name"
_CONTACT = "persons.contact"
_USCC = "enterprises.uscc"


def person_index(cipher: FieldCipher, number: str) -> str:
    """The keyed lookup value of a normalised number: the person row and registry holders share it,
    so a person's registry records are found without decrypting anyone's."""
    return cipher.index(number, _NUMBER)


def enterprise_index(cipher: FieldCipher, uscc: str) -> str:
    """The keyed lookup value of a USCC, shared by the enterprise row and registry holders."""
    return cipher.index(uscc, _USCC)


class AlreadyRegistered(ValueError):
    """A subject with this number exists; the message names only the masked number."""


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    address: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonRecord:
    """A person's decrypted data, alive only for the request that needed it."""

    person: Person
    number: str
    document_type: str
    name: str
    birth_date: date
    sex: str
    contact: Contact


def add_person(
    cipher: FieldCipher, rid: ResidentId, name: str, password_hash: str, contact: Contact
) -> Person:
    index = person_index(cipher, rid.number)
    if db.session.scalar(select(Person.id).where(Person.number_index == index)) is not None:
        raise AlreadyRegistered(f"a person with number {rid.masked} is already registered")
    person = Person(
        document_type=str(rid.document_type),
        number_index=index,
        number_cipher=cipher.encrypt(rid.number, _NUMBER),
        number_masked=rid.masked,
        name_cipher=cipher.encrypt(name, _NAME),
        contact_cipher=cipher.encrypt(json.dumps(contact.__dict__, ensure_ascii=False), _CONTACT),
        password_hash=password_hash,
    )
    db.session.add(person)
    return person


def find_person(cipher: FieldCipher, number: str) -> Person | None:
    """Look a person up by normalised number through the keyed index."""
    index = person_index(cipher, number)
    return db.session.scalar(select(Person).where(Person.number_index == index))


def read_person(cipher: FieldCipher, person: Person) -> PersonRecord:
    number = cipher.decrypt(person.number_cipher, _NUMBER)
    rid = parse_resident_id(number)
    raw = (
        json.loads(cipher.decrypt(person.contact_cipher, _CONTACT)) if person.contact_cipher else {}
    )
    return PersonRecord(
        person=person,
        number=number,
        document_type=person.document_type,
        name=cipher.decrypt(person.name_cipher, _NAME),
        birth_date=rid.birth_date,
        sex=rid.sex,
        contact=Contact(phone=raw.get("phone"), address=raw.get("address") or {}),
    )


def add_enterprise(
    cipher: FieldCipher, uscc: Uscc, name: str, representative: Person
) -> Enterprise:
    if find_enterprise(cipher, uscc) is not None:
        raise AlreadyRegistered(f"an enterprise with code {mask_identifier(uscc.code)} exists")
    enterprise = Enterprise(
        uscc_index=enterprise_index(cipher, uscc.code),
        uscc_cipher=cipher.encrypt(uscc.code, _USCC),
        name=name,
        legal_representative=representative,
    )
    db.session.add(enterprise)
    return enterprise


def find_enterprise(cipher: FieldCipher, uscc: Uscc) -> Enterprise | None:
    found: Enterprise | None = db.session.scalar(
        select(Enterprise).where(Enterprise.uscc_index == enterprise_index(cipher, uscc.code))
    )
    return found


def change_representative(enterprise: Enterprise, representative: Person) -> None:
    """A new legal representative: the old one's grants to act for the enterprise stop at their
    next refresh (``idp.oauth.grants.refresh_token``), their access tokens when they expire."""
    enterprise.legal_representative = representative


def enterprise_uscc(cipher: FieldCipher, enterprise: Enterprise) -> str:
    return cipher.decrypt(enterprise.uscc_cipher, _USCC)
