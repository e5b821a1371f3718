"""``idp db purge``: expired rows go a day after they stop mattering, and nothing earlier."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from idp.store.db import db
from idp.store.models import (
    AuthorizationCode,
    LogoutDelivery,
    PushedRequest,
    RevokedGrant,
    SeenValue,
    SessionRow,
    Token,
)
from idp.store.purge import PURGE_MARGIN_SECONDS, claim_day, purge_expired
from tests.conftest import Citizen

NOW = int(time.time())
LONG_AGO = NOW - PURGE_MARGIN_SECONDS - 60  # past the margin
LATELY = NOW - 60  # expired, but within the margin
SESSION_TTL = 8 * 3600
HISTORY_DAYS = 90


def _code(
    citizen: Citizen, expires_at: int, grant_id: str | None = None, session_id: str | None = None
) -> AuthorizationCode:
    return AuthorizationCode(
        session_id=session_id,
        code_digest=secrets.token_hex(32),
        grant_id=grant_id or secrets.token_hex(16),
        client_id="purge-test",
        person_id=citizen.person_id,
        redirect_uri="https://rp.example/cb",
        scope="openid",
        auth_time=NOW,
        code_challenge="x" * 43,
        code_challenge_method="S256",
        expires_at=expires_at,
    )


def _token(
    issued_at: int, refresh_expires_at: int | None = None, **extra: Any
) -> tuple[str, Token]:
    grant_id = extra.pop("grant_id", None) or secrets.token_hex(16)
    row = Token(
        grant_id=grant_id,
        client_id="purge-test",
        scope="",
        access_digest=secrets.token_hex(32),
        refresh_digest=secrets.token_hex(32) if refresh_expires_at else None,
        issued_at=issued_at,
        expires_in=600,
        refresh_expires_at=refresh_expires_at,
        grant_expires_at=refresh_expires_at or issued_at + 600,
        **extra,
    )
    return grant_id, row


def _seen(expires_at: int) -> SeenValue:
    moment = datetime.fromtimestamp(expires_at, UTC).replace(tzinfo=None)
    return SeenValue(key=f"jti:{secrets.token_hex(16)}", expires_at=moment)


def _exists(model: Any, key: Any) -> bool:
    return db.session.get(model, key) is not None


def test_purge_deletes_exactly_what_can_no_longer_matter(ctx: Flask, citizen: Citizen) -> None:
    old_code, recent_code, live_code = (
        _code(citizen, LONG_AGO),
        _code(citizen, LATELY),
        _code(citizen, NOW + 300),
    )
    _, plain = _token(LONG_AGO - 600)
    _, refreshed_out = _token(LONG_AGO - 600, refresh_expires_at=LONG_AGO)
    # Access long expired, refresh token spent but not expired: kept for reuse detection.
    kept_grant, spent = _token(
        LONG_AGO - 600, refresh_expires_at=NOW + 3600, revoked=True, refresh_used_at=datetime.now()
    )
    _, recent = _token(LATELY - 600)
    _, live = _token(NOW)
    old_seen, live_seen = _seen(LONG_AGO), _seen(NOW + 300)
    orphan = RevokedGrant(grant_id=secrets.token_hex(16))
    still_needed = RevokedGrant(grant_id=kept_grant)
    rows = [old_code, recent_code, live_code, plain, refreshed_out, spent, recent, live]
    db.session.add_all([*rows, old_seen, live_seen, orphan, still_needed])
    db.session.commit()
    ids = {name: row.id for name, row in zip("abcdefgh", rows, strict=True)}
    seen_keys = (old_seen.key, live_seen.key)
    marker_ids = (orphan.grant_id, still_needed.grant_id)

    counts = purge_expired(
        SESSION_TTL, batch=2, history_days=HISTORY_DAYS
    )  # several batches, each its own transaction

    assert not _exists(AuthorizationCode, ids["a"])
    assert _exists(AuthorizationCode, ids["b"]) and _exists(AuthorizationCode, ids["c"])
    assert not _exists(Token, ids["d"]) and not _exists(Token, ids["e"])
    assert _exists(Token, ids["f"]) and _exists(Token, ids["g"]) and _exists(Token, ids["h"])
    assert not _exists(SeenValue, seen_keys[0]) and _exists(SeenValue, seen_keys[1])
    assert not _exists(RevokedGrant, marker_ids[0]) and _exists(RevokedGrant, marker_ids[1])
    assert counts["codes"] >= 1 and counts["tokens"] >= 2 and counts["seen_values"] >= 1
    assert counts["revoked_grants"] >= 1
    again = purge_expired(SESSION_TTL, history_days=HISTORY_DAYS)
    assert again == dict.fromkeys(
        (
            "codes",
            "tokens",
            "seen_values",
            "sessions",
            "logout_deliveries",
            "pushed_requests",
            "one_time_codes",
            "sms_outbox",
            "throttle_counters",
            "sign_in_history",
            "initial_access_tokens",
            "security_events",
            "revoked_grants",
        ),
        0,
    )


def _session(person_id: int, expires_at: int) -> SessionRow:
    return SessionRow(
        digest=secrets.token_hex(32),
        sid=secrets.token_hex(16),
        person_id=person_id,
        auth_time=expires_at - SESSION_TTL,
        created_at=expires_at - SESSION_TTL,
        last_seen=expires_at - SESSION_TTL,
        expires_at=expires_at,
        device="",
        address="",
        sealed=b"",
    )


def _delivery(delivered_at: int | None) -> LogoutDelivery:
    return LogoutDelivery(
        client_id="purge-test",
        uri="https://rp.example/bcl",
        token="x",
        attempts=1,
        next_attempt_at=NOW,
        delivered_at=delivered_at,
        created_at=LONG_AGO,
    )


def test_purge_keeps_a_sessions_codes_while_the_session_may_live(
    ctx: Flask, citizen: Citizen
) -> None:
    # A code past the margin still names the clients to tell when its session ends.
    in_session = _code(citizen, LONG_AGO, session_id=secrets.token_hex(16))
    session_over = _code(citizen, LONG_AGO - SESSION_TTL, session_id=secrets.token_hex(16))
    now = int(time.time())  # not NOW: the module may have been imported minutes ago
    expired, live = _session(citizen.person_id, now - 1), _session(citizen.person_id, now + 3600)
    sent, waiting = _delivery(LONG_AGO), _delivery(None)
    db.session.add_all([in_session, session_over, expired, live, sent, waiting])
    db.session.commit()
    keys = (in_session.id, session_over.id, expired.digest, live.digest, sent.id, waiting.id)

    counts = purge_expired(SESSION_TTL, history_days=HISTORY_DAYS)

    assert _exists(AuthorizationCode, keys[0]) and not _exists(AuthorizationCode, keys[1])
    assert not _exists(SessionRow, keys[2]) and _exists(SessionRow, keys[3])
    assert not _exists(LogoutDelivery, keys[4]) and _exists(LogoutDelivery, keys[5])
    assert counts["sessions"] >= 1 and counts["logout_deliveries"] >= 1


def test_purge_deletes_expired_pushed_requests(ctx: Flask) -> None:
    # RFC 9126: past its expiry a request_uri opens nothing, so its row goes at once.
    now = int(time.time())
    expired, live = (
        PushedRequest(
            digest=secrets.token_hex(32), client_id="purge-test", params={}, expires_at=when
        )
        for when in (now - 1, now + 60)
    )
    db.session.add_all([expired, live])
    db.session.commit()
    keys = (expired.digest, live.digest)

    counts = purge_expired(SESSION_TTL, history_days=HISTORY_DAYS)

    assert not _exists(PushedRequest, keys[0]) and _exists(PushedRequest, keys[1])
    assert counts["pushed_requests"] >= 1


def test_of_nodes_starting_the_daily_purge_at_once_one_purges(app: Flask) -> None:
    """Every node's timer fires; each claims the day at the same moment; exactly one wins."""
    name, nodes = f"purge-{secrets.token_hex(4)}", 4
    start, claims = threading.Barrier(nodes), list[str | None]()

    def node() -> None:
        with app.app_context():
            start.wait()
            claims.append(claim_day(name, NOW))
            db.session.remove()

    threads = [threading.Thread(target=node) for _ in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    today = datetime.fromtimestamp(NOW, UTC).date().isoformat()
    assert sorted(claims, key=str) == [today] + [None] * (nodes - 1)
    with app.app_context():
        assert claim_day(name, NOW + 3600 * 24) is not None  # the next day is free again
        assert claim_day(name, NOW) is None  # and today stays taken
        db.session.remove()
