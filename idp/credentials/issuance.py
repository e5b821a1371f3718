"""Issuing a QR credential: one certificate, one purpose profile, bound to one holder key.

The credential holds only the profile's fields, lives at most ``credential_ttl`` and never beyond
what its data promises (the card's end of validity; an "under 18" answer ends on the 18th
birthday). Each issuance is a release of personal data and is recorded like one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from joserfc.jwk import ECKey
from yihao.wire.credential import (
    CredentialClaims,
    StatusRef,
    compress_public_key,
    sign_credential,
)
from yihao.wire.fields import CredentialType

from idp.credentials.certificates import Held
from idp.credentials.profiles import Profile
from idp.credentials.status import relative_uri
from idp.observability import metrics
from idp.services import Services
from idp.store.audit import record_release
from idp.store.db import db

ADULT_AGE = 18


class IssuanceError(ValueError):
    """The request cannot be served; ``code`` is the OAuth-style error a client branches on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Audience:
    """For whom and through which client the release happens, for the audit log."""

    person_id: int
    enterprise_id: int | None
    client_id: str


@dataclass(frozen=True)
class Issued:
    credential: bytes
    expires: int


def holder_point(key: ECKey) -> bytes:
    """The proven holder key (``idp.credentials.openid4vci``) -> the point ``cnf`` carries."""
    return compress_public_key(key.public_key)


def _eighteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + ADULT_AGE)
    except ValueError:  # born 29 February: adult on 1 March
        return date(birth.year + ADULT_AGE, 3, 1)


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def disclosed(profile: Profile, data: dict[str, Any], now: int) -> tuple[dict[str, Any], int]:
    """The profile's fields from the record, and the latest moment they stay true."""
    today = datetime.fromtimestamp(now, UTC).date()
    derived = dict(data)
    limit = 2**32
    if "over_18" in profile.fields:
        adult_on = _eighteenth_birthday(date.fromisoformat(data["birth_date"]))
        derived["over_18"] = today >= adult_on
        if not derived["over_18"]:
            limit = _midnight(adult_on)
    if data.get("valid_until"):
        limit = min(limit, _midnight(date.fromisoformat(data["valid_until"])) + 86400)
    missing = [f for f in profile.fields if f not in derived]
    if missing:
        raise IssuanceError("invalid_request", f"the record lacks {', '.join(missing)}")
    return {f: derived[f] for f in profile.fields}, limit


def issue(svc: Services, held: Held, profile: Profile, point: bytes, audience: Audience) -> Issued:
    certificate = held.certificate
    if profile.type != CredentialType(certificate.credential_type):
        raise IssuanceError("invalid_request", f"profile {profile.name} is for another type")
    now = int(time.time())
    if certificate.revoked_at is not None:
        raise IssuanceError("invalid_request", "this certificate is revoked")
    fields, limit = disclosed(profile, held.data, now)
    expires = min(now + svc.settings.credential_ttl, limit)
    if expires <= now:
        raise IssuanceError("invalid_request", "this certificate is no longer valid")
    claims = CredentialClaims(
        type=profile.type,
        profile=profile.id,
        serial=certificate.id,
        version=certificate.version,
        not_before=now,
        expires=expires,
        holder_key=point,
        status=StatusRef(certificate.status_index, relative_uri(certificate.status_list_id)),
        fields=fields,
    )
    signer = svc.issuer.signer()
    credential = sign_credential(claims, signer.kid, signer.private_key)
    record_release(
        audience.person_id,
        audience.enterprise_id,
        audience.client_id,
        profile.fields,
        "credential",
    )
    db.session.commit()
    metrics.credential_issued(profile.type.name.lower())
    return Issued(credential, expires)
