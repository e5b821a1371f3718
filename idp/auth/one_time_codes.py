"""One-time codes that prove possession: a 6-digit code sent by SMS to the registry's mobile
number, or an activation code a counter clerk prints after checking the physical card.

Each code is single use, expires (minutes for SMS, hours for an activation code), is bound to a
purpose (register or reset), a channel and a subject (the person index of the number), and is
stored only as an HMAC under a key derived from ``IDP_INDEX_KEY``: six digits are brute-forced
from an unkeyed hash at once. Issuing a code retires the subject's earlier ones of that purpose
and channel, so one code is live at a time.

Every guess first spends an attempt with one conditional UPDATE, and only then is the digest
compared, so however many requests race, a code is compared at most ``attempts`` times; a right
guess then claims the code with another conditional UPDATE (``idp.store.db.claim``), so it is
used once. SMS sends are counted per number and per address over the last hour: a send is written
and committed first and counted after, so racing sends can only be refused too often, never let
through beyond the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, func, select, update

from idp.services import Services
from idp.store.db import claim, db, utcnow
from idp.store.models import OneTimeCode

SMS_DIGITS = 6
#: No 0/O, 1/I/L: a clerk's print-out is read and typed by hand. 32 symbols x 12 = 60 bits.
ACTIVATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACTIVATION_LENGTH = 12
SEND_WINDOW = timedelta(hours=1)
_SPACING = re.compile(r"[\s\-]")


class Purpose(StrEnum):
    REGISTER = "register"
    RESET = "reset"


class Channel(StrEnum):
    SMS = "sms"
    COUNTER = "counter"


class Redeemed(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    #: No live code: never issued, expired, used, or burnt by too many wrong entries.
    NONE = "none"


@dataclass(frozen=True, repr=False)
class SmsCode:
    """A code to send; ``row_id`` withdraws it when the gateway fails. ``repr`` hides the code."""

    code: str
    row_id: int


def read_code(text: str) -> tuple[Channel, str] | None:
    """What a person typed, as (channel, normalised code): the form tells the two apart."""
    compact = _SPACING.sub("", text).upper()
    if len(compact) == SMS_DIGITS and compact.isdigit():
        return Channel.SMS, compact
    if len(compact) == ACTIVATION_LENGTH and all(c in ACTIVATION_ALPHABET for c in compact):
        return Channel.COUNTER, compact
    return None


def format_activation_code(code: str) -> str:
    """ABCD-EFGH-JKMN: groups of four, as printed for the citizen."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_activation_code(svc: Services, purpose: Purpose, subject: str) -> str:
    """A counter's activation code for ``subject``, valid ``IDP_ACTIVATION_CODE_TTL``."""
    code = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))
    row = _insert(svc, purpose, Channel.COUNTER, subject, None, code)
    _retire_others(row)
    return code


def issue_sms_code(svc: Services, purpose: Purpose, subject: str, address: str) -> SmsCode | None:
    """A code to send by SMS, or None when this number or this address had too many sends."""
    code = f"{secrets.randbelow(10**SMS_DIGITS):0{SMS_DIGITS}d}"
    row = _insert(svc, purpose, Channel.SMS, subject, _address_index(svc, address), code)
    settings = svc.settings
    if (
        _sends(OneTimeCode.subject_index == subject) > settings.sms_per_number_hourly
        or _sends(OneTimeCode.address_index == row.address_index) > settings.sms_per_address_hourly
    ):
        db.session.execute(delete(OneTimeCode).where(OneTimeCode.id == row.id))
        db.session.commit()
        return None
    _retire_others(row)
    return SmsCode(code, row.id)


def withdraw(sent: SmsCode) -> None:
    """The code could not be delivered: it can never be used, but still counts as a send."""
    db.session.execute(
        update(OneTimeCode).where(OneTimeCode.id == sent.row_id).values(used_at=utcnow())
    )
    db.session.commit()


def redeem(svc: Services, purpose: Purpose, channel: Channel, subject: str, code: str) -> Redeemed:
    """Use the subject's live code of this purpose and channel, if ``code`` is it."""
    now = utcnow()
    row = db.session.scalar(
        select(OneTimeCode)
        .where(*_live(purpose, channel, subject, now))
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    db.session.commit()  # end the read, so the claims below are transactions of their own
    if row is None:
        return Redeemed.NONE
    limit = svc.settings.one_time_code_attempts
    spent = update(OneTimeCode).where(
        OneTimeCode.id == row.id,
        OneTimeCode.attempts < limit,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    )
    if not claim(spent.values(attempts=OneTimeCode.attempts + 1)):
        return Redeemed.NONE
    expected = _digest(svc, purpose, channel, subject, code)
    if not hmac.compare_digest(expected, row.digest):
        return Redeemed.WRONG
    used = update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
    return Redeemed.OK if claim(used.values(used_at=now)) else Redeemed.NONE


def _live(
    purpose: Purpose, channel: Channel, subject: str, now: datetime
) -> tuple[ColumnElement[bool], ...]:
    return (
        OneTimeCode.subject_index == subject,
        OneTimeCode.purpose == purpose,
        OneTimeCode.channel == channel,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    )


def _insert(
    svc: Services,
    purpose: Purpose,
    channel: Channel,
    subject: str,
    address_index: str | None,
    code: str,
) -> OneTimeCode:
    settings = svc.settings
    ttl = settings.sms_code_ttl if channel is Channel.SMS else settings.activation_code_ttl
    now = utcnow()
    row = OneTimeCode(
        purpose=purpose,
        channel=channel,
        subject_index=subject,
        address_index=address_index,
        digest=_digest(svc, purpose, channel, subject, code),
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    db.session.add(row)
    db.session.commit()
    return row


def _retire_others(row: OneTimeCode) -> None:
    db.session.execute(
        update(OneTimeCode)
        .where(
            *_live(Purpose(row.purpose), Channel(row.channel), row.subject_index, utcnow()),
            OneTimeCode.id != row.id,
        )
        .values(used_at=utcnow())
    )
    db.session.commit()


def _sends(condition: ColumnElement[bool]) -> int:
    since = utcnow() - SEND_WINDOW
    count = db.session.scalar(
        select(func.count())
        .select_from(OneTimeCode)
        .where(condition, OneTimeCode.channel == Channel.SMS, OneTimeCode.created_at > since)
    )
    return int(count or 0)


def _address_index(svc: Services, address: str) -> str:
    return svc.cipher.index(address, "one_time_codes.address")


def _digest(svc: Services, purpose: Purpose, channel: Channel, subject: str, code: str) -> str:
    key = svc.cipher.derive("one-time-codes")
    message = f"{purpose}\x00{channel}\x00{subject}\x00{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
