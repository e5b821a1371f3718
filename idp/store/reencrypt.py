"""``idp db re-encrypt``: every encrypted column moved to the current ``IDP_DATA_KEY``.

After a rotation the old key stays in ``IDP_DATA_KEY_FALLBACKS`` until this has run; then it can
go. Rows are read in batches by primary key, each batch its own transaction, and a row is written
only if its ciphertext is still the one read (a conditional UPDATE), so a row the application
changed meanwhile (already under the current key) is left alone. Ciphertext already under the
current key is skipped, so a second run changes nothing and an interrupted run can be repeated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from idp.auth.rfc6238 import _SECRET as TOTP_SECRET
from idp.keys.issuer import _CONTEXT as ISSUER_PRIVATE
from idp.keys.ring import _CONTEXT as SIGNING_PRIVATE
from idp.store.crypto import DecryptionError, FieldCipher
from idp.store.db import db
from idp.store.models import (
    Enterprise,
    IssuerKey,
    KeyRequest,
    Person,
    RegistryRecord,
    SigningKey,
    TotpFactor,
)
from idp.store.registry import _DATA as REGISTRY_DATA
from idp.store.registry import _MOBILE as REGISTRY_MOBILE
from idp.store.subjects import _CONTACT as PERSON_CONTACT
from idp.store.subjects import _NAME as PERSON_NAME
from idp.store.subjects import _NUMBER as PERSON_NUMBER
from idp.store.subjects import _USCC as ENTERPRISE_USCC

#: Every column ``FieldCipher`` writes, with the associated data it was sealed with.
ENCRYPTED_COLUMNS: tuple[tuple[Any, str], ...] = (
    (Person.number_cipher, PERSON_NUMBER),
    (Person.name_cipher, PERSON_NAME),
    (Person.contact_cipher, PERSON_CONTACT),
    (Enterprise.uscc_cipher, ENTERPRISE_USCC),
    (RegistryRecord.data_cipher, REGISTRY_DATA),
    (RegistryRecord.mobile_cipher, REGISTRY_MOBILE),
    (SigningKey.private_cipher, SIGNING_PRIVATE),
    (IssuerKey.private_cipher, ISSUER_PRIVATE),
    (KeyRequest.private_cipher, ISSUER_PRIVATE),  # sealed by keys/issuer.seal too
    (TotpFactor.secret_cipher, TOTP_SECRET),
)

REENCRYPT_BATCH = 500


def reencrypt_all(cipher: FieldCipher, batch: int = REENCRYPT_BATCH) -> dict[str, int]:
    """Re-encrypt every column; returns how many values of each moved, and how many were
    already under the current key (``already_current``)."""
    counts: dict[str, int] = {}
    current = 0
    for column, context in ENCRYPTED_COLUMNS:
        moved, kept = _reencrypt_column(cipher, column, context, batch)
        counts[f"{column.class_.__tablename__}.{column.key}"] = moved
        current += kept
    counts["already_current"] = current
    return counts


def _reencrypt_column(
    cipher: FieldCipher, column: Any, context: str, batch: int
) -> tuple[int, int]:
    model = column.class_
    key = model.id
    moved = kept = 0
    last = 0
    while True:
        query = select(key, column).where(key > last, column.is_not(None))
        rows = db.session.execute(query.order_by(key).limit(batch)).all()
        for row_id, blob in rows:
            fresh = _fresh(cipher, blob, context, f"{model.__tablename__} row {row_id}")
            if fresh is None:
                kept += 1
                continue
            changed = update(model).where(key == row_id, column == blob).values({column: fresh})
            result: Any = db.session.execute(changed)
            moved += int(result.rowcount)
        db.session.commit()
        if len(rows) < batch:
            return moved, kept
        last = rows[-1][0]


def _fresh(cipher: FieldCipher, blob: bytes, context: str, where: str) -> bytes | None:
    try:
        return cipher.reencrypt(blob, context)
    except DecryptionError as exc:
        raise DecryptionError(f"{where}: {exc}; give the key and run it again") from None
