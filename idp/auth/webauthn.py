"""Passkeys (Web Authentication Level 3, with py_webauthn): registering one, signing in with one.

- The relying party is the provider itself (``RelyingParty``, made by the web layer from the
  issuer): RP ID = the issuer's host, expected origin = the issuer's origin.
- Every credential must be discoverable (``residentKey: required``) and verify the user
  (``userVerification: required``): a passkey is something held plus a PIN or biometric, two
  factors in one gesture (amr ``hwk`` + ``mfa``), and sign-in needs no identity number at all
  (``allowCredentials`` empty).
- No ``authenticatorAttachment``: a phone over the hybrid transport (the QR code the browser shows
  on a PC) is as welcome as the platform's own authenticator; that is "scan to sign in".
- The challenge waits in the server-side session, is taken out by the verification whatever the
  outcome (single use) and expires after ``CEREMONY_SECONDS``.
- The signature counter (6.1.1) is compared and moved in one conditional UPDATE, so two requests
  replaying one assertion cannot both pass; authenticators that keep no counter send 0 always.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import session
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.parse_registration_credential_json import (
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp.services import services
from idp.store.crypto import FieldCipher
from idp.store.db import claim, db, utcnow
from idp.store.models import Passkey, Person

#: How long the browser may take (WebAuthn L3 15.1 suggests 300 s when user verification is
#: required) and how long the challenge stays valid.
CEREMONY_SECONDS = 300
RP_NAME = "一号通行 Yihao"
#: The most passkeys one person may keep; each is a row and an entry in ``excludeCredentials``.
MAX_PASSKEYS = 20
#: The longest name a person may give a passkey (the column's width).
MAX_NAME = 64
_REGISTRATION = "webauthn_registration"
_AUTHENTICATION = "webauthn_authentication"
_USER_HANDLE_PURPOSE = "webauthn-user-handle"
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


class PasskeyFailure(StrEnum):
    EXPIRED = "expired"  # no challenge of this kind waiting, or too old
    INVALID = "invalid"  # the response does not verify (origin, RP ID, UV, signature, counter)
    UNKNOWN = "unknown"  # no such credential here (removed, or never registered)
    DUPLICATE = "duplicate"  # the credential is registered already
    TOO_MANY = "too_many"
    DISABLED = "disabled"


@dataclass(frozen=True)
class RelyingParty:
    """The provider as a WebAuthn relying party (5.1.2): the issuer's host and origin."""

    id: str
    origin: str


def user_handle(cipher: FieldCipher, person: Person) -> bytes:
    """The WebAuthn user handle (``user.id``, 5.4.3) of ``person``: 32 opaque bytes.

    Derived, not stored: a keyed HMAC of the random ``public_id`` under a sub-key of its own, so
    it says nothing about the person (14.6.1) and is neither the row id nor the identity number,
    yet needs no column; the same for every passkey of one person, so an authenticator keeps one
    credential per account.
    """
    return hmac.new(
        cipher.derive(_USER_HANDLE_PURPOSE), person.public_id.encode(), hashlib.sha256
    ).digest()


def _remember(kind: str, challenge: bytes) -> None:
    session[kind] = {
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + CEREMONY_SECONDS,
    }


def _take(kind: str) -> bytes | None:
    """The waiting challenge of ``kind``, removed from the session (single use), if still fresh."""
    waiting = session.pop(kind, None)
    if not isinstance(waiting, dict) or waiting.get("expires", 0) < time.time():
        return None
    return base64url_to_bytes(str(waiting["challenge"]))


def passkeys_of(person_id: int) -> list[Passkey]:
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.person_id == person_id).order_by(Passkey.id)
        )
    )


def registration_options(rp: RelyingParty, person: Person, display_name: str) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` for ``person``'s next passkey, as JSON."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        # Shown in the authenticator's account picker: the masked number tells accounts apart.
        user_name=person.number_masked,
        user_id=user_handle(services().cipher, person),
        user_display_name=display_name or person.number_masked,
        timeout=CEREMONY_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # 5.4.3: the authenticator refuses to make a second credential for the same account.
        exclude_credentials=[_descriptor(p) for p in passkeys_of(person.id)],
    )
    _remember(_REGISTRATION, options.challenge)
    return options_to_json_dict(options)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports.split() if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=passkey.credential_id, transports=transports or None)


def register(
    rp: RelyingParty, person: Person, credential: dict[str, Any], name: str
) -> Passkey | PasskeyFailure:
    """Verify a ``navigator.credentials.create()`` response (7.1) and keep the passkey."""
    challenge = _take(_REGISTRATION)
    if challenge is None:
        return PasskeyFailure.EXPIRED
    if len(passkeys_of(person.id)) >= MAX_PASSKEYS:
        return PasskeyFailure.TOO_MANY
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return PasskeyFailure.INVALID
    passkey = Passkey(
        person_id=person.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name[:MAX_NAME],
        # 5.2.1 getTransports(): hints for the browser when it is asked for this credential.
        transports=" ".join(t.value for t in parsed.response.transports or []),
        aaguid=verified.aaguid,
    )
    db.session.add(passkey)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return PasskeyFailure.DUPLICATE
    return passkey


def authentication_options(rp: RelyingParty) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` for a discoverable passkey, as JSON: no
    ``allowCredentials``, so the authenticator offers whichever accounts it holds for us."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(_AUTHENTICATION, options.challenge)
    return options_to_json_dict(options)


@dataclass(frozen=True)
class PasskeySignIn:
    person: Person
    passkey: Passkey


@dataclass(frozen=True)
class SignInRefused:
    failure: PasskeyFailure
    #: Whose passkey it was, once the credential is known (for the security event).
    person_id: int | None = None


def authenticate(rp: RelyingParty, credential: dict[str, Any]) -> PasskeySignIn | SignInRefused:
    """Verify a ``navigator.credentials.get()`` response (7.2) against the stored passkey."""
    challenge = _take(_AUTHENTICATION)
    if challenge is None:
        return SignInRefused(PasskeyFailure.EXPIRED)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return SignInRefused(PasskeyFailure.INVALID)
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == parsed.raw_id))
    if passkey is None:
        return SignInRefused(PasskeyFailure.UNKNOWN)
    refused = SignInRefused(PasskeyFailure.INVALID, passkey.person_id)
    person = db.session.get(Person, passkey.person_id)
    assert person is not None  # a foreign key
    # 7.2 step 6: with an empty allowCredentials the user handle names the account; it must be
    # the one the credential was registered to.
    handle = parsed.response.user_handle
    if handle is None or not hmac.compare_digest(handle, user_handle(services().cipher, person)):
        return refused
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return refused
    if not _record_use(passkey, verified.new_sign_count):
        return refused
    # Said only after a valid assertion, as the password check does.
    if person.disabled_at is not None:
        return SignInRefused(PasskeyFailure.DISABLED, person.id)
    return PasskeySignIn(person, passkey)


def _record_use(passkey: Passkey, new_count: int) -> bool:
    """Move the counter from the value the verification saw, or fail: of two requests racing with
    one assertion (or an assertion and its clone's), one moves it and the other finds it moved."""
    return claim(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=new_count, last_used_at=utcnow())
    )


def remove(person_id: int, passkey_id: int) -> Passkey | None:
    """Delete one of the person's own passkeys; None when it is not theirs (or gone)."""
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.person_id == person_id)
    )
    if passkey is None:
        return None
    return passkey if claim(delete(Passkey).where(Passkey.id == passkey.id)) else None


def remove_all(person_id: int) -> int:
    """Support's factor reset (a lost phone): every passkey of the person goes."""
    count = len(passkeys_of(person_id))
    db.session.execute(delete(Passkey).where(Passkey.person_id == person_id))
    db.session.commit()
    return count
