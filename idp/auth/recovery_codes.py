"""One-time recovery codes: the way back in when the phone with the authenticator is gone.

Ten codes are made when TOTP is turned on and shown once, to be printed or written down. Each
works once in place of a TOTP code. They are stored only as keyed digests (HMAC under the index
key, over the person's row id and the code): a code has 50 bits, too few for an unkeyed hash to
stand up to a stolen table, and binding the person keeps two people's codes apart. Spending one is
a single conditional UPDATE, so a code cannot be used twice even by two requests at once.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select, update

from idp.store.crypto import FieldCipher
from idp.store.db import claim, db, utcnow
from idp.store.models import RecoveryCode

COUNT = 10
#: Lower-case letters and digits without the look-alikes 0/o, 1/l/i: read off paper, typed.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 10  # 10 * log2(31) = 49.5 bits
_DIGEST = "recovery_codes.digest"


def _digest(cipher: FieldCipher, person_id: int, code: str) -> str:
    return cipher.index(f"{person_id}\x00{code}", _DIGEST)


def normalise(text: str) -> str:
    """What the person typed, without spaces, hyphens and capitals."""
    return "".join(c for c in text.lower() if c not in " -\t")


def _shown(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def issue(cipher: FieldCipher, person_id: int) -> list[str]:
    """A new set of codes, replacing every earlier one; returned for showing once."""
    discard(person_id)
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(COUNT)]
    db.session.add_all(
        RecoveryCode(person_id=person_id, digest=_digest(cipher, person_id, c)) for c in codes
    )
    db.session.commit()
    return [_shown(c) for c in codes]


def redeem(cipher: FieldCipher, person_id: int, text: str) -> bool:
    """Spend one of the person's unused codes; False for a wrong or already used one."""
    code = normalise(text)
    if len(code) != LENGTH or not set(code) <= set(ALPHABET):
        return False
    return claim(
        update(RecoveryCode)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.digest == _digest(cipher, person_id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def remaining(person_id: int) -> int:
    count = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.person_id == person_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def discard(person_id: int) -> None:
    """Delete every code of the person (in the caller's transaction)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.person_id == person_id))
