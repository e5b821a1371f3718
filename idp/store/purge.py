"""Deleting rows that can no longer decide anything: expired codes, tokens and login sessions,
one-time values and one-time codes (SMS, activation) past their lifetime, pushed authorization
requests past theirs, development outbox
messages, logout tokens delivered or given up, revocation markers of grants with nothing left,
throttling counters past their expiry and sign-in history and security events older than
``IDP_SIGN_IN_HISTORY_DAYS``.

Every sign-in adds a code and tokens, so without this the tables and their indexes grow for ever.
A row goes only ``PURGE_MARGIN_SECONDS`` after its last use is gone: a used code still revokes its
grant when replayed before it expires (RFC 6749 4.1.2), and a spent refresh token does so until
the refresh token itself expires (RFC 9700 4.14.2), so both are kept that long. A code issued in
a login session also says which clients to tell when that session ends (Back-Channel Logout), so
it is kept until the session is over too. Deletes run in
batches, each its own transaction, so a large backlog never holds long locks.

``idp db purge --once-per-cluster`` (the systemd timer in ``deploy/``, installed on every node)
first claims the day: one INSERT of ``purge:<UTC date>`` into ``seen_values``, whose primary key
lets exactly one node win on PostgreSQL and SQLite alike; the others skip that day.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError

from idp.store.db import db
from idp.store.models import (
    AuthorizationCode,
    InitialAccessToken,
    LogoutDelivery,
    OneTimeCode,
    PushedRequest,
    RevokedGrant,
    SecurityEventRow,
    SeenValue,
    SessionRow,
    SignInEntry,
    SmsOutboxMessage,
    ThrottleCounter,
    Token,
)

#: How long after expiry a row is kept (clock skew, and a day to look at recent history).
PURGE_MARGIN_SECONDS = 24 * 3600
PURGE_BATCH = 5000


def purge_expired(
    session_ttl: int,
    now: float | None = None,
    batch: int = PURGE_BATCH,
    *,
    history_days: int,
) -> dict[str, int]:
    """Delete what has expired; returns how many rows of each kind went. ``session_ttl`` is the
    longest a login session lives (``IDP_SESSION_TTL``), ``history_days`` how long sign-in
    history is kept (``IDP_SIGN_IN_HISTORY_DAYS``)."""
    moment = int(now if now is not None else time.time())
    cutoff = moment - PURGE_MARGIN_SECONDS
    cutoff_at = _naive(cutoff)
    token_dead = and_(
        Token.issued_at + Token.expires_in < cutoff,
        or_(Token.refresh_expires_at.is_(None), Token.refresh_expires_at < cutoff),
    )
    code_dead = or_(
        and_(AuthorizationCode.session_id.is_(None), AuthorizationCode.expires_at < cutoff),
        AuthorizationCode.expires_at < cutoff - session_ttl,
    )
    delivery_done = or_(LogoutDelivery.delivered_at < cutoff, LogoutDelivery.given_up_at < cutoff)
    counts = {
        "codes": _delete(AuthorizationCode.id, code_dead, batch),
        "tokens": _delete(Token.id, token_dead, batch),
        "seen_values": _delete(SeenValue.key, SeenValue.expires_at < cutoff_at, batch),
        # An expired session opens nothing, so it goes at once (Redis expires its own).
        "sessions": _delete(SessionRow.digest, SessionRow.expires_at <= moment, batch),
        "logout_deliveries": _delete(LogoutDelivery.id, delivery_done, batch),
        # RFC 9126: an expired pushed request opens nothing (a used one is deleted on use).
        "pushed_requests": _delete(PushedRequest.digest, PushedRequest.expires_at < moment, batch),
        # Past the margin a code can neither be used nor count against an hour's SMS sends.
        "one_time_codes": _delete(OneTimeCode.id, OneTimeCode.expires_at < cutoff_at, batch),
        "sms_outbox": _delete(SmsOutboxMessage.id, SmsOutboxMessage.created_at < cutoff_at, batch),
        # A counter past its expiry counts nothing any more (Redis expires its own).
        "throttle_counters": _delete(
            ThrottleCounter.key, ThrottleCounter.expires_ms <= moment * 1000, batch
        ),
        "sign_in_history": _delete(
            SignInEntry.id, SignInEntry.at < _naive(moment - history_days * 24 * 3600), batch
        ),
        # RFC 7591 3: an initial access token used up or expired opens nothing any more.
        "initial_access_tokens": _delete(
            InitialAccessToken.id,
            or_(InitialAccessToken.uses_left < 1, InitialAccessToken.expires_at < cutoff_at),
            batch,
        ),
        # Auditors' copy of the security log: kept as long as the sign-in history it explains.
        "security_events": _delete(
            SecurityEventRow.id,
            SecurityEventRow.at < _naive(moment - history_days * 24 * 3600),
            batch,
        ),
    }
    # A marker is needed while a code or token of its grant could still be used or issued.
    orphaned = and_(
        ~exists().where(Token.grant_id == RevokedGrant.grant_id),
        ~exists().where(AuthorizationCode.grant_id == RevokedGrant.grant_id),
    )
    counts["revoked_grants"] = _delete(RevokedGrant.grant_id, orphaned, batch)
    return counts


def claim_day(name: str, now: float | None = None) -> str | None:
    """Claim today's (UTC) run of ``name`` for this node: the day claimed, or None when another
    node claimed it first. The claim is kept two days, then purged like any one-time value."""
    moment = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    day = moment.date().isoformat()
    db.session.add(
        SeenValue(key=f"{name}:{day}", expires_at=_naive(int(moment.timestamp())) + timedelta(2))
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return day


def _naive(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)  # naive UTC, as stored


def _delete(key: Any, condition: ColumnElement[bool], batch: int) -> int:
    """Delete the rows matching ``condition`` ``batch`` at a time, by their primary ``key``."""
    table = key.table
    total = 0
    while True:
        chosen = select(key).where(condition).limit(batch)
        result: Any = db.session.execute(delete(table).where(key.in_(chosen)))
        db.session.commit()
        total += int(result.rowcount)
        if result.rowcount < batch:
            return total
