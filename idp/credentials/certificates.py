"""Certificates (电子证照): one per registry record version, made when a holder first needs it.

When an import changes a record, its certificate is superseded: the old one is revoked (its bit
flips, so QR codes made from the stale data stop verifying) and the next request makes version
n+1 under a new GB/T 36904 identifier. When the holder revokes their own certificate (a lost
phone), the next request makes a fresh one of the same version under a new serial; a revocation
by an operator or a client stands until the record changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from yihao.wire.fields import CredentialType
from yihao.wire.identifier import certificate_identifier

from idp.credentials.profiles import Catalogue
from idp.credentials.registries import KINDS
from idp.credentials.status import BY_HOLDER, SYSTEM, open_list, random_indexes, revoke
from idp.identifiers import mask_identifier
from idp.oauth.principal import Principal
from idp.services import Services
from idp.store.db import db
from idp.store.models import Certificate, RegistryRecord
from idp.store.registry import read_record, records_for_holder
from idp.store.subjects import enterprise_uscc

#: Registry kind -> the certificate type it feeds (declared once, in ``registries.KINDS``).
KIND_TYPES = {name: kind.credential_type for name, kind in KINDS.items()}


@dataclass(frozen=True)
class Holder:
    """Who asks: their keyed index, masked code and its type (GB/T 36903 持证主体代码)."""

    index: str
    masked: str
    code_type: str  # resident_id | uscc


@dataclass(frozen=True)
class Held:
    certificate: Certificate
    data: dict[str, Any]


def holders_of(svc: Services, principal: Principal) -> list[Holder]:
    """The person, and every enterprise they represent (whose business licence they may show)."""
    person = principal.person
    holders = [Holder(person.number_index, person.number_masked, "resident_id")]
    for enterprise in person.enterprises:
        masked = mask_identifier(enterprise_uscc(svc.cipher, enterprise))
        holders.append(Holder(enterprise.uscc_index, masked, "uscc"))
    return holders


def held_by(svc: Services, holder: Holder) -> list[Held]:
    """The holder's current certificates with their data, made or renewed as needed."""
    out = []
    for record in records_for_holder(holder.index):
        data = read_record(svc.cipher, record)
        out.append(Held(_current(svc, record, data, holder), data))
    db.session.commit()
    return out


def _current(
    svc: Services, record: RegistryRecord, data: dict[str, Any], holder: Holder
) -> Certificate:
    existing = _of_version(record)
    if existing is not None:
        return existing
    for stale in db.session.scalars(
        select(Certificate).where(
            Certificate.record_id == record.id,
            Certificate.version != record.version,
            Certificate.revoked_at.is_(None),
        )
    ):
        revoke(stale, "superseded", SYSTEM)
    return _create(svc, record, data, holder)


def _of_version(record: RegistryRecord) -> Certificate | None:
    """The record version's latest certificate, unless its holder revoked it (then: make one)."""
    latest: Certificate | None = db.session.scalar(
        select(Certificate)
        .where(Certificate.record_id == record.id, Certificate.version == record.version)
        .order_by(Certificate.id.desc())
        .limit(1)
    )
    if latest is not None and latest.revoked_by == BY_HOLDER:
        return None
    return latest


def _valid_until(data: dict[str, Any]) -> datetime | None:
    end = data.get("valid_until")
    return datetime.combine(date.fromisoformat(end), time.max) if end else None


def _create(
    svc: Services, record: RegistryRecord, data: dict[str, Any], holder: Holder
) -> Certificate:
    type_ = KIND_TYPES[record.kind]
    status_list = open_list(svc)
    for index in random_indexes(status_list.size):
        certificate = Certificate(
            credential_type=int(type_),
            record_id=record.id,
            version=record.version,
            identifier="pending",
            holder_index=holder.index,
            holder_masked=holder.masked,
            holder_code_type=holder.code_type,
            valid_until=_valid_until(data),
            status_list_id=status_list.id,
            status_index=index,
        )
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
                db.session.flush()
                certificate.identifier = identifier_of(svc, certificate)
                db.session.flush()
        except IntegrityError:  # that index is taken, or a concurrent request made this version
            made = _of_version(record)
            if made is not None:
                return made
            continue
        return certificate
    raise RuntimeError("no free status-list entry after several attempts")


def identifier_of(svc: Services, certificate: Certificate) -> str:
    catalogue: Catalogue = svc.catalogue
    type_code = catalogue.types[CredentialType(certificate.credential_type)].type_code
    return certificate_identifier(
        type_code, svc.settings.issuer_code, certificate.id, certificate.version
    )


def find_by_identifier(identifier: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.identifier == identifier))


def holds(svc: Services, principal: Principal, certificate: Certificate) -> bool:
    """Whether this person holds the certificate: their own, or their enterprise's licence."""
    return certificate.holder_index in {h.index for h in holders_of(svc, principal)}
