"""TOTP (RFC 6238) as a second factor after the password, with pyotp doing the arithmetic.

- **Enrolment.** The secret is made here (160 bits, RFC 4226 4 R6), stored encrypted and shown
  once, as an ``otpauth://`` QR code and as text. It protects nothing until a first valid code
  confirms that the person's app holds it; that confirmation also issues the recovery codes.
- **Verification.** 6 digits, 30-second steps, one step either side for clock drift (RFC 6238
  5.2). The step a code matched must be later than the last step accepted (RFC 6238 5.2: "the
  verifier MUST NOT accept the second attempt of the OTP"), and moving ``last_step`` is one
  conditional UPDATE, so of two nodes seeing the same code at once exactly one accepts it.
- **Removal** takes a current code or a recovery code (``idp.web.second_factor``): whoever took
  over a signed-in browser cannot turn the factor off without the phone or the paper.

Guessing is bounded by the callers: a sign-in asks for a new password after a few wrong codes,
and the account page signs the session out (docs/security.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
from pyotp.utils import strings_equal
from sqlalchemy import delete, or_, select, update

from idp.auth import recovery_codes
from idp.auth.events import SecurityEvent, security_event
from idp.store.crypto import FieldCipher
from idp.store.db import claim, db, utcnow
from idp.store.models import Person, TotpFactor

#: RFC 6238 4.1 / 5.2: the common authenticator apps' parameters (SHA-1, 6 digits, 30 s).
DIGITS = 6
INTERVAL = 30
#: Steps accepted either side of now (RFC 6238 5.2 recommends at most one step of drift).
WINDOW = 1
#: The name authenticator apps show above the code (Key Uri Format ``issuer``).
ISSUER_NAME = "一号通行"
FACTOR = "totp"
_SECRET = "totp_factors.secret"


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app that cannot scan
    uri: str  # otpauth://totp/...: what the QR code holds


def _factor(person_id: int) -> TotpFactor | None:
    return db.session.scalars(select(TotpFactor).filter_by(person_id=person_id)).first()


def is_enrolled(person_id: int) -> bool:
    """Whether the person has a confirmed authenticator (so a password alone is not enough)."""
    factor = _factor(person_id)
    return factor is not None and factor.confirmed_at is not None


def confirmed_since(person_id: int) -> TotpFactor | None:
    factor = _factor(person_id)
    return factor if factor is not None and factor.confirmed_at is not None else None


def _enrolment(secret: str, person: Person) -> Enrolment:
    # The account name is the masked number: the app's list is no place for an identity number.
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=person.number_masked, issuer_name=ISSUER_NAME
    )
    return Enrolment(secret, uri)


def start_enrolment(cipher: FieldCipher, person: Person) -> Enrolment | None:
    """A fresh secret for the person, replacing an unconfirmed one; None when one is confirmed
    (it must be removed first, so an open browser cannot silently swap the person's factor)."""
    factor = _factor(person.id)
    if factor is not None and factor.confirmed_at is not None:
        return None
    secret = pyotp.random_base32()  # 32 base32 characters: 160 bits
    if factor is None:
        factor = TotpFactor(person_id=person.id)
        db.session.add(factor)
    factor.secret_cipher = cipher.encrypt(secret, _SECRET)
    factor.last_step = None
    db.session.commit()
    return _enrolment(secret, person)


def pending_enrolment(cipher: FieldCipher, person: Person) -> Enrolment | None:
    """The enrolment in progress, shown again after a wrong first code."""
    factor = _factor(person.id)
    if factor is None or factor.confirmed_at is not None:
        return None
    return _enrolment(cipher.decrypt(factor.secret_cipher, _SECRET), person)


def confirm_enrolment(cipher: FieldCipher, person: Person, code: str) -> list[str] | None:
    """Turn the enrolment on with its first valid code; returns the recovery codes (shown once),
    or None when the code is wrong."""
    factor = _factor(person.id)
    if factor is None or factor.confirmed_at is not None:
        return None
    if not _accept(cipher, factor, code, confirming=True):
        return None
    codes = recovery_codes.issue(cipher, person.id)
    security_event(SecurityEvent.FACTOR_ADDED, person.id, factor=FACTOR)
    return codes


def verify(cipher: FieldCipher, person_id: int, code: str) -> bool:
    """A current code of the person's confirmed authenticator, not used before."""
    factor = confirmed_since(person_id)
    return factor is not None and _accept(cipher, factor, code, confirming=False)


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(code.split())
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now = totp.timecode(time.time())
    for step in range(now - WINDOW, now + WINDOW + 1):
        if strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def _accept(cipher: FieldCipher, factor: TotpFactor, code: str, confirming: bool) -> bool:
    step = _matching_step(cipher.decrypt(factor.secret_cipher, _SECRET), code)
    if step is None:
        return False
    values: dict[str, object] = {"last_step": step}
    if confirming:
        values["confirmed_at"] = utcnow()
    state = TotpFactor.confirmed_at.is_(None) if confirming else TotpFactor.confirmed_at.isnot(None)
    won = claim(
        update(TotpFactor)
        .where(
            TotpFactor.id == factor.id,
            state,
            or_(TotpFactor.last_step.is_(None), TotpFactor.last_step < step),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(factor)
    return won


def remove(person_id: int) -> None:
    """Turn the second factor off: the secret and every recovery code go."""
    db.session.execute(delete(TotpFactor).where(TotpFactor.person_id == person_id))
    recovery_codes.discard(person_id)
    db.session.commit()
    security_event(SecurityEvent.FACTOR_REMOVED, person_id, factor=FACTOR)


def check_second_factor(cipher: FieldCipher, person_id: int, text: str) -> bool:
    """A current TOTP code, or else one of the person's unused recovery codes (spent by this)."""
    code = "".join(text.split())
    if code.isascii() and code.isdigit():
        return verify(cipher, person_id, code)
    return is_enrolled(person_id) and recovery_codes.redeem(cipher, person_id, text)
