"""Revocation through Token Status Lists (draft-ietf-oauth-status-list).

Each certificate owns one bit in one list, at a random index: a verifier that fetches a list learns
nothing about which citizen sits next to which (§12.5, herd privacy), and indexes do not reveal
how many certificates were issued before. The list itself is not stored: it is the set of revoked
certificates of that list, read from the database and signed on request, then cached briefly.
"""

from __future__ import annotations

import getpass
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from yihao.wire.status_list import StatusListToken, encode_token, pack

from idp.observability import metrics
from idp.services import Services, services
from idp.store.db import claim, db, utcnow
from idp.store.models import Certificate, StatusList

#: A list is closed once this share of its entries is used, so random allocation stays cheap.
_FILL_LIMIT = 0.5
_ATTEMPTS = 16
#: Why a certificate was revoked; recorded, not published (the list says only "invalid").
REASONS = ("unspecified", "key_compromise", "superseded", "withdrawn", "data_error")
#: What a holder may give as their reason: a lost or stolen phone, or none in particular.
HOLDER_REASONS = ("key_compromise", "unspecified")


#: Who may revoke: an operator (CLI), a client (the revoke API), the holder themself (account or
#: wallet page), the system (superseding a certificate whose record changed).
BY_OPERATOR, BY_CLIENT, BY_HOLDER, BY_SYSTEM = "operator", "client", "holder", "system"


@dataclass(frozen=True)
class Revoker:
    """Who revoked: the kind, and which one (the operator's login, the client_id, the person's
    public id); recorded with the revocation."""

    kind: str
    id: str | None = None

    @classmethod
    def operator(cls) -> Revoker:
        try:
            login = getpass.getuser()
        except (OSError, KeyError):  # no login name in this environment
            login = None
        return cls(BY_OPERATOR, login)


SYSTEM = Revoker(BY_SYSTEM)


def list_uri(svc: Services, list_id: int) -> str:
    return f"{svc.settings.issuer}/sl/{list_id}"


def relative_uri(list_id: int) -> str:
    """What a credential carries: resolved against the issuer URL + "/" (docs/formats.md)."""
    return f"sl/{list_id}"


def open_list(svc: Services) -> StatusList:
    """The list new certificates go into, opening a fresh one when the current is half full."""
    current: StatusList | None = db.session.scalar(
        select(StatusList).order_by(StatusList.id.desc()).limit(1)
    )
    if current is not None:
        used = db.session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(Certificate.status_list_id == current.id)
        )
        if (used or 0) < current.size * _FILL_LIMIT:
            return current
    fresh = StatusList(size=svc.settings.status_list_size)
    db.session.add(fresh)
    db.session.flush()
    return fresh


def random_indexes(size: int) -> list[int]:
    """Candidates for a new entry; the unique constraint on (list, index) picks the winner."""
    return [secrets.randbelow(size) for _ in range(_ATTEMPTS)]


def revoke(certificate: Certificate, reason: str, by: Revoker, commit: bool = True) -> bool:
    """Flip the certificate's bit; False when it was already revoked (the first record stands).
    ``commit=False``: the caller commits, with its own record of the act (``idp.admin``)."""
    changed = claim(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason, revoked_by=by.kind, revoked_by_id=by.id),
        commit=commit,
    )
    if changed:
        metrics.certificate_revoked(reason, by.kind)
    return changed


def status_token(svc: Services, list_id: int) -> bytes | None:
    """The signed list, rebuilt at most every ``key_cache_seconds`` per process.

    The cache belongs to the provider instance (``Services.status_lists``): one process may host
    several apps (tests do), each with its own issuer key, and must never serve one's list as
    another's.
    """
    return svc.status_lists.get(list_id, lambda: _signed(svc, list_id))


def _signed(svc: Services, list_id: int) -> bytes | None:
    status_list = db.session.get(StatusList, list_id)
    return None if status_list is None else _sign(svc, status_list)


def _sign(svc: Services, status_list: StatusList) -> bytes:
    revoked = db.session.scalars(
        select(Certificate.status_index).where(
            Certificate.status_list_id == status_list.id, Certificate.revoked_at.is_not(None)
        )
    )
    now = int(time.time())
    settings = svc.settings
    body = StatusListToken(
        uri=list_uri(svc, status_list.id),
        issued_at=now,
        expires=now + settings.status_list_validity,
        ttl=settings.status_list_ttl,
        bits=pack(revoked, status_list.size),
    )
    signer = svc.issuer.signer()
    token = encode_token(body, signer.kid, signer.private_key)
    metrics.status_list_signed(now)
    return token


def forget_cached() -> None:
    """Drop this app's signed lists (after a revocation here, so it shows at once)."""
    services().status_lists.clear()
