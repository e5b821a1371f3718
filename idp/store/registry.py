"""Writing and reading source-registry records; the only code that touches their ciphertext.

A record is found by a keyed index of its natural key (bound to the registry kind, so the same
number in two registries gives two unrelated values) and by its holders' subject indexes. Data is
one encrypted JSON object, compared after decryption, so an unchanged re-import writes nothing and
keeps the version that certificates refer to.

Household records also carry ``group_index``, a keyed index of their household number (户号), so
that the members of one household are found by index alone. It is derived from the data, not part
of it: refreshing it never counts as a change and never bumps the version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from sqlalchemy import select

from idp.store.crypto import FieldCipher
from idp.store.db import db, utcnow
from idp.store.models import RegistryHolder, RegistryRecord
from idp.store.subjects import enterprise_index, person_index

_DATA = "registry_records.data"
_MOBILE = "registry_records.mobile"

Outcome = Literal["created", "updated", "unchanged"]


class HolderSource(Protocol):
    @property
    def subject(self) -> Literal["person", "enterprise"]: ...

    @property
    def identifier(self) -> str: ...


class RecordSource(Protocol):
    """What the store needs of a validated registry row (``idp.credentials.registries``)."""

    @property
    def kind(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def key_masked(self) -> str: ...

    @property
    def holders(self) -> tuple[HolderSource, ...]: ...

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def mobile(self) -> str | None: ...


def upsert_record(cipher: FieldCipher, row: RecordSource) -> Outcome:
    """Add or refresh one record with its holders, in the caller's transaction (not committed)."""
    holders = _holder_indexes(cipher, row)
    group = _group_index(cipher, row.kind, row.data)
    record = find_record(cipher, row.kind, row.key)
    if record is None:
        _create(cipher, row, holders, group)
        return "created"
    current = {holder.holder_index for holder in record.holders}
    if read_record(cipher, record) == dict(row.data) and current == holders:
        if record.group_index != group:
            # Records imported before the index existed (migration 0004) get it on re-import.
            record.group_index = group
            db.session.flush()
        # No certificate carries the mobile number, so a new one is no new record version.
        return "unchanged" if _set_mobile(cipher, record, row.mobile) else "updated"
    _update(cipher, record, row, holders, group)
    return "updated"


def read_mobile(cipher: FieldCipher, record: RegistryRecord) -> str | None:
    """The mobile number on record, or None when the registry has none."""
    return cipher.decrypt(record.mobile_cipher, _MOBILE) if record.mobile_cipher else None


def _set_mobile(cipher: FieldCipher, record: RegistryRecord, mobile: str | None) -> bool:
    """Store ``mobile`` on the record; True when it was already the one on record."""
    if read_mobile(cipher, record) == mobile:
        return True
    record.mobile_cipher = _seal_mobile(cipher, mobile)
    record.updated_at = utcnow()
    db.session.flush()
    return False


def find_record(cipher: FieldCipher, kind: str, key: str) -> RegistryRecord | None:
    """Look a record up by its normalised natural key through the keyed index."""
    return db.session.scalar(
        select(RegistryRecord).where(
            RegistryRecord.kind == kind, RegistryRecord.key_index == _key_index(cipher, kind, key)
        )
    )


def read_record(cipher: FieldCipher, record: RegistryRecord) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cipher.decrypt(record.data_cipher, _DATA))
    return data


def records_for_holder(holder_index: str) -> list[RegistryRecord]:
    """Every record held by one subject, given its ``person_index`` or ``enterprise_index``."""
    return list(
        db.session.scalars(
            select(RegistryRecord)
            .join(RegistryHolder)
            .where(RegistryHolder.holder_index == holder_index)
            .order_by(RegistryRecord.kind, RegistryRecord.id)
        )
    )


def household_number_index(cipher: FieldCipher, household_number: str) -> str:
    """The keyed index of a household number (户号), as stored in ``group_index``."""
    return cipher.index(household_number, "registry.household_number")


def household_members(cipher: FieldCipher, household_number: str) -> list[RegistryRecord]:
    """Every household record with this household number, in import order, found by index."""
    return list(
        db.session.scalars(
            select(RegistryRecord)
            .where(
                RegistryRecord.kind == "household",
                RegistryRecord.group_index == household_number_index(cipher, household_number),
            )
            .order_by(RegistryRecord.id)
        )
    )


def _create(cipher: FieldCipher, row: RecordSource, holders: set[str], group: str | None) -> None:
    db.session.add(
        RegistryRecord(
            kind=row.kind,
            key_index=_key_index(cipher, row.kind, row.key),
            key_masked=row.key_masked,
            group_index=group,
            data_cipher=_seal(cipher, row.data),
            mobile_cipher=_seal_mobile(cipher, row.mobile),
            version=1,
            holders=[RegistryHolder(holder_index=index) for index in sorted(holders)],
        )
    )
    db.session.flush()


def _update(
    cipher: FieldCipher,
    record: RegistryRecord,
    row: RecordSource,
    holders: set[str],
    group: str | None,
) -> None:
    record.data_cipher = _seal(cipher, row.data)
    record.mobile_cipher = _seal_mobile(cipher, row.mobile)
    record.group_index = group
    record.version += 1
    record.updated_at = utcnow()
    # Keep the holder rows that stay: deleting and re-adding the same primary key in one flush
    # is needless churn.
    record.holders = [h for h in record.holders if h.holder_index in holders]
    kept = {h.holder_index for h in record.holders}
    record.holders.extend(RegistryHolder(holder_index=i) for i in sorted(holders - kept))
    db.session.flush()


def _holder_indexes(cipher: FieldCipher, row: RecordSource) -> set[str]:
    return {
        person_index(cipher, h.identifier)
        if h.subject == "person"
        else enterprise_index(cipher, h.identifier)
        for h in row.holders
    }


def _group_index(cipher: FieldCipher, kind: str, data: Mapping[str, Any]) -> str | None:
    """Only household records are grouped (by household number); other kinds keep NULL."""
    if kind != "household":
        return None
    return household_number_index(cipher, str(data["household_number"]))


def _seal_mobile(cipher: FieldCipher, mobile: str | None) -> bytes | None:
    return cipher.encrypt(mobile, _MOBILE) if mobile else None


def _key_index(cipher: FieldCipher, kind: str, key: str) -> str:
    return cipher.index(key, f"registry.{kind}")


def _seal(cipher: FieldCipher, data: Mapping[str, Any]) -> bytes:
    plaintext = json.dumps(dict(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return cipher.encrypt(plaintext, _DATA)
