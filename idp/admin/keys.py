"""The token signing keys and the e-certificate issuer keys: list, rotate, withdraw.

Rotation is routine: the old key stays published until what it signed expires. Withdrawal is
for a compromised token signing key: it leaves the JWKS, never signs or verifies again, and
tokens it signed are refused; this node forgets its cached ring at once, the others within
``IDP_KEY_CACHE_SECONDS`` (``idp.keys.ring``). The record of each change is added before the
key ring commits, so the change and its record are written together.
"""

from __future__ import annotations

from typing import Any, TypedDict

from cryptography import x509

from idp.admin import actions
from idp.admin.errors import Conflict, NotFound
from idp.admin.roles import Operator, Permission, needs
from idp.admin.times import iso
from idp.config import Settings
from idp.keys.issuer import IssuerKeys
from idp.keys.pki import RootFileError, load_root
from idp.services import services
from idp.store.db import db
from idp.store.models import IssuerKey, SigningKey


class IssuerProfile(TypedDict):
    """What the root certifies about this provider in an issuer or trust-list certificate."""

    name: str
    issuer_code: str
    issuer_url: str
    valid_days: int


def issuer_profile(settings: Settings) -> IssuerProfile:
    return {
        "name": settings.issuer_name,
        "issuer_code": settings.issuer_code,
        "issuer_url": settings.issuer,
        "valid_days": settings.issuer_cert_days,
    }


def _signing_state(key: SigningKey) -> str:
    if key.withdrawn_at is not None:
        return "withdrawn"
    return "retired" if key.retired_at is not None else "active"


def _signing(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": _signing_state(key),
        "created_at": iso(key.created_at),
        "retired_at": iso(key.retired_at),
        "withdrawn_at": iso(key.withdrawn_at),
    }


def _issuer(key: IssuerKey) -> dict[str, Any]:
    not_after = x509.load_der_x509_certificate(key.certificate_der).not_valid_after_utc
    return {
        "kid": key.kid,
        "purpose": key.purpose,
        "alg": "ES256",  # P-256 keys only (idp.keys.issuer)
        "state": "retired" if key.retired_at is not None else "active",
        "created_at": iso(key.created_at),
        "retired_at": iso(key.retired_at),
        "not_after": iso(not_after.replace(tzinfo=None)),
    }


def _active_kids(ring: list[SigningKey] | list[IssuerKey]) -> list[str]:
    return [key.kid for key in ring if key.retired_at is None]


@needs(Permission.KEYS)
def list_keys(operator: Operator) -> dict[str, Any]:
    svc = services()
    return {
        "signing_keys": [_signing(key) for key in svc.keys.listing()],
        "issuer_keys": [_issuer(key) for key in svc.issuer.listing()],
        "trust_list_keys": [_issuer(key) for key in svc.trust_signer.listing()],
    }


@needs(Permission.KEYS)
def rotate_signing_keys(operator: Operator) -> dict[str, Any]:
    """Retire the active token signing keys and create successors (``idp keys rotate``)."""
    ring = services().keys
    record = actions.record(
        operator,
        "key.rotate",
        "signing_key",
        "all",
        before={"active": _active_kids(ring.listing())},
    )
    created = ring.rotate()
    record.after = {"active": created}
    db.session.commit()
    return {"new_keys": created}


@needs(Permission.KEYS)
def rotate_issuer_key(operator: Operator) -> dict[str, Any]:
    """Retire the issuer key and certify a successor with the root on this machine (``idp certs
    rotate-issuer``); with the root offline, ``idp certs request`` and ``install`` do this."""
    svc = services()
    try:
        root = load_root(svc.settings.certs_dir)
    except RootFileError as exc:
        raise Conflict(str(exc)) from None
    if root is None:
        raise Conflict(
            f"no root CA in {svc.settings.certs_dir}: run `idp certs init` (development), or with "
            "the root offline `idp certs request` and `idp certs install`"
        )
    keys: IssuerKeys = svc.issuer
    record = actions.record(
        operator,
        "key.rotate_issuer",
        "issuer_key",
        keys.purpose,
        before={"active": _active_kids(keys.listing())},
    )
    kid = keys.rotate(*root, **issuer_profile(svc.settings))
    record.after = {"active": [kid]}
    db.session.commit()
    return {"issuer_kid": kid}


@needs(Permission.KEYS)
def withdraw_signing_key(operator: Operator, kid: str) -> dict[str, Any]:
    """Withdraw a compromised token signing key at once; an active one is replaced first."""
    ring = services().keys
    key = ring.find(kid)
    if key is None:
        raise NotFound("no signing key with that kid")
    if key.withdrawn_at is not None:
        raise Conflict("the key is already withdrawn")
    record = actions.record(
        operator, "key.withdraw", "signing_key", key.kid, before={"state": _signing_state(key)}
    )
    created = ring.withdraw(key)
    record.after = {"state": "withdrawn", "replaced_by": created}
    db.session.commit()
    return {"key": _signing(key), "new_keys": created}
