"""OpenID Connect Back-Channel Logout 1.0: when a login session ends, every client that got
tokens in it is told so by a signed logout token POSTed to its ``backchannel_logout_uri``.

Ending a session also revokes the tokens issued in it (section 2.7 lets the OP; refresh tokens
without ``offline_access``, which this provider does not offer, should go). Logout tokens wait in
the ``logout_deliveries`` table and are sent by ``Deliverer`` threads, one per worker, off the
request path. A worker claims a row with one conditional UPDATE before sending, so two workers
rarely send the same token; when they do, the receiver refuses the replayed ``jti``, as section
2.6 asks, so a second delivery is harmless.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from flask import Flask
from joserfc import jwt
from sqlalchemy import bindparam, select, update

from idp.oauth.claims import subject_of
from idp.oauth.principal import Principal
from idp.oauth.tokens import revoke_grant
from idp.services import Services
from idp.store.db import claim, db
from idp.store.models import AuthorizationCode, Client, Enterprise, LogoutDelivery, Person

log = logging.getLogger(__name__)

#: Back-Channel Logout 1.0 section 2.4: the one member of the ``events`` claim.
EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: Section 2.4 recommends a short lifetime ("two minutes or less").
LOGOUT_TOKEN_TTL = 120
#: Section 2.5: the OP waits a bounded time for the RP.
DELIVERY_TIMEOUT = 5.0
#: Attempts before a delivery is given up, waiting BACKOFF * 4**n seconds after the n-th failure.
MAX_ATTEMPTS = 6
BACKOFF = 5
#: How long a claimed delivery is left to the worker sending it before another may retry it.
LEASE = 60
POLL_SECONDS = 1.0


#: The codes issued in one login session: whom it involved, and the grants to revoke.
SESSION_CODES = select(
    AuthorizationCode.client_id, AuthorizationCode.enterprise_id, AuthorizationCode.grant_id
).where(
    AuthorizationCode.session_id == bindparam("sid"),
    AuthorizationCode.person_id == bindparam("person_id"),
)


@dataclass(frozen=True)
class _Participant:
    client_id: str
    enterprise_id: int | None


def session_ended(svc: Services, person_id: int, sid: str) -> int:
    """Revoke the session's tokens and queue a logout token for each client with a back-channel
    URI that got tokens in it; returns how many were queued."""
    rows = db.session.execute(SESSION_CODES, {"sid": sid, "person_id": person_id}).all()
    for grant_id in {row.grant_id for row in rows}:
        revoke_grant(grant_id)
    participants = {_Participant(row.client_id, row.enterprise_id) for row in rows}
    now = int(time.time())
    queued = 0
    person = db.session.get(Person, person_id)  # a disabled person too: their RPs are told
    for participant in sorted(participants, key=lambda p: (p.client_id, p.enterprise_id or 0)):
        client = Client.query.filter_by(client_id=participant.client_id).one_or_none()
        if client is None or not client.backchannel_logout_uri or person is None:
            continue
        enterprise = (
            db.session.get(Enterprise, participant.enterprise_id)
            if participant.enterprise_id is not None
            else None
        )
        principal = Principal(person, enterprise)
        token = logout_token(svc, client, subject_of(svc, client, principal), sid, now)
        db.session.add(
            LogoutDelivery(
                client_id=client.client_id,
                uri=client.backchannel_logout_uri,
                token=token,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    db.session.commit()
    return queued


def logout_token(svc: Services, client: Client, sub: str, sid: str, now: int) -> str:
    """Section 2.4: iss, aud, iat, exp, jti, events, sub and sid; never a nonce."""
    alg = client.id_token_signed_response_alg
    kid, key = svc.keys.signing_key(alg)
    claims = {
        "iss": svc.settings.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_TTL,
        "jti": secrets.token_urlsafe(16),
        "sub": sub,
        "sid": sid,
        "events": {EVENT: {}},
    }
    # Section 2.4 (and RFC 8725 3.11): explicit typing keeps it from passing as an ID token.
    header = {"alg": alg, "kid": kid, "typ": "logout+jwt"}
    return str(jwt.encode(header, claims, key, [alg]))


def deliver_due(now: int | None = None, limit: int = 20) -> int:
    """Send the logout tokens whose time has come; returns how many were delivered."""
    now = int(time.time()) if now is None else now
    due = db.session.execute(
        select(LogoutDelivery.id, LogoutDelivery.next_attempt_at)
        .where(
            LogoutDelivery.delivered_at.is_(None),
            LogoutDelivery.given_up_at.is_(None),
            LogoutDelivery.next_attempt_at <= now,
        )
        .order_by(LogoutDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    db.session.commit()
    return sum(_deliver_one(row.id, row.next_attempt_at, now) for row in due)


def _deliver_one(delivery_id: int, seen_at: int, now: int) -> bool:
    won = claim(
        update(LogoutDelivery)
        .where(LogoutDelivery.id == delivery_id, LogoutDelivery.next_attempt_at == seen_at)
        .values(next_attempt_at=now + LEASE)
    )
    if not won:
        return False  # another worker has it
    delivery = db.session.get(LogoutDelivery, delivery_id)
    assert delivery is not None
    error = _post(delivery.uri, delivery.token)
    delivery.attempts += 1
    if error is None:
        delivery.delivered_at = int(time.time())
    else:
        delivery.last_error = error[:200]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.given_up_at = int(time.time())
            log.warning("gave up a back-channel logout to client %s", delivery.client_id)
        else:
            delivery.next_attempt_at = int(time.time()) + BACKOFF * 4 ** (delivery.attempts - 1)
    db.session.commit()
    return error is None


def _post(uri: str, token: str) -> str | None:
    """Section 2.5: a form POST of ``logout_token``; 200 (or 204) means done. None on success."""
    try:
        response = requests.post(
            uri,
            data={"logout_token": token},
            timeout=DELIVERY_TIMEOUT,
            allow_redirects=False,  # section 2.5: the RP answers; a redirect is not followed
        )
    except requests.RequestException as exc:
        return type(exc).__name__
    if response.status_code in (200, 204):
        return None
    return f"HTTP {response.status_code}"


class Deliverer(threading.Thread):
    """Polls the queue in one worker process until the process exits."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="backchannel-logout", daemon=True)
        self._app = app

    def run(self) -> None:
        while True:
            try:
                with self._app.app_context():
                    deliver_due()
                    db.session.remove()
            except Exception:  # a database hiccup must not end the thread for good
                log.exception("back-channel logout delivery failed; retrying")
            time.sleep(POLL_SECONDS)
