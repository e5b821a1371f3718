"""Offline verification of a presentation QR code at a service counter.

A counter is online now and then (to ``refresh`` the trust list and status lists, or to
``import_cache`` what another machine fetched) and verifies without any network: ``verify`` only
reads what was loaded. Every check after decoding runs even when an earlier one failed, so the
counter can tell the citizen everything that is wrong at once ("expired and revoked"), not one
thing per visit.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from yihao import qr
from yihao.trust import TrustAnchors, TrustedIssuer, key_id
from yihao.wire.cose import Sign1, p1363_verify, verify_sign1
from yihao.wire.credential import CredentialClaims, read_credential
from yihao.wire.errors import Failure, FormatError
from yihao.wire.fields import CredentialType
from yihao.wire.identifier import certificate_identifier
from yihao.wire.presentation import Presentation, decode_presentation, holder_message, time_step
from yihao.wire.qrtext import from_text
from yihao.wire.status_list import INVALID, StatusListToken, parse_token
from yihao.wire.trust_list import SignedTrustList, TrustListError, parse_trust_list

#: A holder signature may be this many 30-second steps away from the verifier's clock (+-60 s):
#: enough for a phone clock that drifts and a queue that moves slowly, short enough that a photo
#: of someone else's screen is useless a minute later.
STEP_WINDOW = 2
CACHE_FORMAT = 2
#: How many accepted presentations a cache file remembers: a busy counter serves far fewer in
#: the two minutes a presentation stays acceptable; a hostile file cannot make the import slow.
MAX_REPLAYS = 100_000
_DIGEST_BYTES = 32


@dataclass(frozen=True)
class Result:
    """What a counter shows and logs; ``details`` never holds a field value, so it can be logged.

    ``fields`` is empty unless ``valid``: a forged, revoked or replayed certificate's name and
    identity number are claims nobody vouches for, and must not be shown or stored as data.
    """

    valid: bool
    failures: tuple[Failure, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    type: CredentialType | None = None
    profile: int | None = None
    profile_name: str | None = None
    issuer: str | None = None
    serial: int | None = None
    version: int | None = None
    identifier: str | None = None
    step: int | None = None
    expires: int | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Profile:
    name: str
    type: int
    fields: frozenset[str]


@dataclass(frozen=True)
class _TrustState:
    """One loaded trust list, swapped in whole so a verifying thread never sees half of one."""

    signed: bytes  # the list as received, for export_cache
    sequence: int
    issuers: Mapping[bytes, TrustedIssuer]
    rejected: Mapping[bytes, str]  # kid -> why its certificate failed validation
    type_codes: Mapping[int, str]
    profiles: Mapping[int, _Profile]
    status_urls: tuple[str, ...]


_EMPTY = _TrustState(b"", 0, {}, {}, {}, {}, ())


@dataclass(frozen=True)
class _StatusEntry:
    data: bytes
    token: StatusListToken


@dataclass(frozen=True)
class _Decoded:
    presentation: Presentation
    message: Sign1
    claims: CredentialClaims
    digest: bytes
    known: bool  # decoded and issuer-verified before: taken from _VerifiedCredentials


@dataclass(frozen=True)
class _Known:
    message: Sign1
    claims: CredentialClaims
    holder_key: ec.EllipticCurvePublicKey


#: Failures after which a credential must not be remembered as issuer-verified.
_UNSIGNED = frozenset({Failure.UNKNOWN_KEY, Failure.ISSUER_SIGNATURE, Failure.CLAIMS})


class _Findings:
    """Failed checks with the first detail each, reported in the order ``Failure`` lists them."""

    def __init__(self) -> None:
        self._details: dict[Failure, str] = {}

    def add(self, failure: Failure, detail: str) -> None:
        self._details.setdefault(failure, detail)

    def __bool__(self) -> bool:
        return bool(self._details)

    def has(self, failures: frozenset[Failure]) -> bool:
        return not failures.isdisjoint(self._details)

    def failures(self) -> tuple[Failure, ...]:
        if not self._details:  # the common case, on the counter's hot path
            return ()
        return tuple(f for f in Failure if f in self._details)

    def details(self) -> tuple[str, ...]:
        return tuple(self._details[f] for f in self.failures())


class _VerifiedCredentials:
    """Credentials whose issuer signature already verified, least recently shown dropped first.

    A citizen's QR code changes every 30 seconds only in its time step and holder signature; the
    credential inside stays the same for months. Re-scanning (a misread, a second counter window,
    the same person tomorrow) would otherwise pay for the issuer's ECDSA check again, doubling
    the cost of the common case. The key is SHA-256 of the exact credential bytes, which include
    the ``kid`` that is itself a hash of the issuer certificate, so a hit can only mean "this
    certificate signed these bytes"; whether that certificate is still trusted is decided on
    every verification before this cache is asked.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, _Known] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> _Known | None:
        """The decoded credential and its holder key, so a hit skips decoding as well."""
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def add(self, digest: bytes, known: _Known) -> None:
        with self._lock:
            self._items[digest] = known
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class _ReplayCache:
    """Presentations already accepted, kept only while their time step could still be accepted.

    Outside the step window a replay fails as stale anyway, so pruning there keeps the cache as
    small as the number of citizens served in two minutes.
    """

    def __init__(self) -> None:
        self._seen: dict[int, set[bytes]] = {}
        self._lock = threading.Lock()

    def _prune(self, current: int) -> None:
        for old in [s for s in self._seen if abs(s - current) > STEP_WINDOW]:
            del self._seen[old]

    def seen_or_record(self, digest: bytes, step: int, current: int, record: bool) -> bool:
        """Whether (credential, step) was accepted before; records it if not and ``record``.

        Check and record happen under one lock, so two counters sharing a verifier cannot both
        accept the same presentation.
        """
        with self._lock:
            self._prune(current)
            seen = digest in self._seen.get(step, ())
            if record and not seen:
                self._seen.setdefault(step, set()).add(digest)
            return seen

    def export(self, current: int) -> list[list[Any]]:
        """``[step, hex digest]`` pairs still inside the window, at most ``MAX_REPLAYS``."""
        with self._lock:
            self._prune(current)
            pairs = [[step, d.hex()] for step, seen in self._seen.items() for d in seen]
        return pairs[:MAX_REPLAYS]

    def restore(self, pairs: list[tuple[int, bytes]], current: int) -> None:
        with self._lock:
            for step, digest in pairs[:MAX_REPLAYS]:
                self._seen.setdefault(step, set()).add(digest)
            self._prune(current)


def _replay_pairs(raw: Any) -> list[tuple[int, bytes]]:
    """The cache's replay memory; raises ValueError/TypeError on anything malformed."""
    pairs = []
    for step, digest in raw:
        value = bytes.fromhex(digest)
        if not isinstance(step, int) or isinstance(step, bool) or len(value) != _DIGEST_BYTES:
            raise ValueError("a replay entry is [step, SHA-256 hex]")
        pairs.append((step, value))
    return pairs


def _failed(failure: Failure, detail: str) -> Result:
    return Result(valid=False, failures=(failure,), details=(detail,))


def _decode(text: str, verified: _VerifiedCredentials) -> tuple[_Decoded, _Known | None]:
    presentation = decode_presentation(from_text(text))
    digest = hashlib.sha256(presentation.credential).digest()
    known = verified.get(digest)
    if known is not None:
        return _Decoded(presentation, known.message, known.claims, digest, True), known
    message, claims = read_credential(presentation.credential)
    return _Decoded(presentation, message, claims, digest, False), None


#: Re-presented credentials (a code re-rendered every 30 s) ask for the same identifier again.
_cached_identifier = functools.lru_cache(maxsize=4096)(certificate_identifier)


@functools.lru_cache(maxsize=1024)
def _resolve(issuer_url: str, reference: str) -> str | None:
    """A status list URI reference made absolute, or None for one no URL parser accepts."""
    try:
        return urljoin(issuer_url.rstrip("/") + "/", reference)
    except ValueError:  # e.g. "//[x": an unterminated IPv6 host
        return None


def _within(issuer: TrustedIssuer, now: float) -> bool:
    return issuer.not_before <= datetime.fromtimestamp(now, UTC) <= issuer.not_after


def _identifier(
    type_code: str | None, issuer: TrustedIssuer | None, claims: CredentialClaims
) -> str | None:
    """The GB/T 36904 identifier a counter logs; it needs the trust list's type code."""
    if type_code is None or issuer is None:
        return None
    try:
        return _cached_identifier(type_code, issuer.issuer_code, claims.serial, claims.version)
    except ValueError:  # a serial or version too long, or a code outside the ISO 7064 alphabet
        return None


def _profile(raw: Mapping[str, Any]) -> _Profile:
    return _Profile(str(raw["name"]), int(raw["type"]), frozenset(map(str, raw["fields"])))


def _trust_state(signed: bytes, anchors: TrustAnchors, at: datetime) -> _TrustState:
    trust_list = _verified_trust_list(signed, anchors, at)
    document = trust_list.document
    try:
        certificates = [base64.b64decode(c, validate=True) for c in document["issuer_certificates"]]
        type_codes = {int(k): str(v["type_code"]) for k, v in document.get("types", {}).items()}
        profiles = {int(k): _profile(v) for k, v in document.get("profiles", {}).items()}
        status_urls = tuple(str(u) for u in document.get("status_lists", []))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TrustListError(f"malformed trust list: {exc!r}") from None
    issuers: dict[bytes, TrustedIssuer] = {}
    rejected: dict[bytes, str] = {}
    for der in certificates:
        try:
            issuer = anchors.validate(der, at)
        except ValueError as exc:  # ChainError, or a certificate cryptography cannot parse
            rejected[key_id(der)] = str(exc)
        else:
            issuers[issuer.kid] = issuer
    return _TrustState(
        signed, trust_list.sequence, issuers, rejected, type_codes, profiles, status_urls
    )


def _verified_trust_list(signed: bytes, anchors: TrustAnchors, at: datetime) -> SignedTrustList:
    """The list, once its signer chains to a pinned root and its signature verifies."""
    trust_list = parse_trust_list(signed)
    try:
        key = anchors.validate_trust_list_signer(trust_list.signer_certificate, at)
    except ValueError as exc:  # ChainError, or a certificate cryptography cannot parse
        raise TrustListError(f"the trust list's signer is not trusted: {exc}") from None
    message = trust_list.message
    if message.kid != key_id(trust_list.signer_certificate) or not verify_sign1(message, key):
        raise TrustListError("the trust list's signature does not verify")
    return trust_list


class Verifier:
    """Checks presentations against pinned roots, a trust list and cached status lists.

    Thread-safe: one verifier can serve every camera of a counter, and must, for the replay
    check to see every presentation.
    """

    def __init__(
        self,
        trust: TrustAnchors,
        *,
        clock: Callable[[], float] = time.time,
        leeway: int = 60,
        cache_size: int = 4096,
    ) -> None:
        self._anchors = trust
        self._clock = clock
        self._leeway = leeway
        self._state = _EMPTY
        # Keyed by (issuer URL, list URI): one trusted issuer cannot stand in for another's list.
        self._lists: dict[tuple[str, str], _StatusEntry] = {}
        self._lists_lock = threading.Lock()
        self._verified = _VerifiedCredentials(cache_size)
        self._replays = _ReplayCache()

    # -- loading (the only part that may touch the network) --

    def load_trust_list(self, signed: bytes) -> None:
        """Replace the trusted issuers, types and profiles; raises TrustListError (a ValueError).

        The list must be signed by a trust-list certificate under a pinned root, and its sequence
        may not be lower than the one held: a replayed old list would otherwise bring back an
        issuer certificate the provider has withdrawn. Certificates that fail validation are
        remembered by kid, so that a credential they signed is reported as a chain failure (the
        issuer exists but is not trusted) and not as unknown.
        """
        if not isinstance(signed, bytes):
            raise TrustListError("a trust list is the signed bytes the provider serves")
        now = datetime.fromtimestamp(self._clock(), UTC)
        state = _trust_state(signed, self._anchors, now)
        with self._lists_lock:
            if state.sequence < self._state.sequence:
                raise TrustListError(
                    f"trust list sequence {state.sequence} is older than the {self._state.sequence}"
                    " already held"
                )
            self._state = state

    @property
    def trust_list_sequence(self) -> int:
        """The sequence of the trust list in use, 0 before one is loaded."""
        return self._state.sequence

    def load_status_list(self, token: bytes) -> None:
        """Cache a status list signed by a trusted issuer, or raise FormatError(STATUS_UNKNOWN).

        A list issued in the future (beyond the clock leeway) is refused: cached, it would look
        fresh for longer than its issuer meant, and would keep every genuine newer list out. A
        list older (by ``iat``) than the one already cached is ignored.
        """
        message, parsed = parse_token(token)
        now = self._clock()
        issuer = self._state.issuers.get(message.kid)
        trusted = issuer is not None and _within(issuer, now)
        if issuer is None or not trusted or not verify_sign1(message, issuer.public_key):
            raise FormatError(
                Failure.STATUS_UNKNOWN, "the status list is not signed by a trusted issuer"
            )
        if parsed.issued_at > now + self._leeway:
            raise FormatError(Failure.STATUS_UNKNOWN, "the status list is issued in the future")
        uri = _resolve(issuer.issuer_url, parsed.uri)
        if uri is None:
            raise FormatError(Failure.STATUS_UNKNOWN, "the status list URI is not a valid URI")
        key = (issuer.issuer_url, uri)
        with self._lists_lock:
            current = self._lists.get(key)
            if current is None or current.token.issued_at <= parsed.issued_at:
                self._lists[key] = _StatusEntry(token, parsed)

    def refresh(
        self, trust_url: str, session: requests.Session | None = None, timeout: float = 10
    ) -> None:
        """Fetch the trust list, then every status list it names; raises on any failure."""
        if session is None:
            with requests.Session() as own:
                self.refresh(trust_url, own, timeout)
            return
        response = session.get(trust_url, timeout=timeout)
        response.raise_for_status()
        self.load_trust_list(response.content)
        for url in self._state.status_urls:
            listed = session.get(urljoin(trust_url, url), timeout=timeout)
            listed.raise_for_status()
            self.load_status_list(listed.content)

    def export_cache(self) -> dict[str, Any]:
        """Everything ``verify`` relies on, as JSON, for a counter that goes offline."""
        with self._lists_lock:
            entries = list(self._lists.values())
        return {
            "format": CACHE_FORMAT,
            "trust_list": base64.b64encode(self._state.signed).decode("ascii"),
            "status_lists": [{"token": base64.b64encode(e.data).decode("ascii")} for e in entries],
            # What was accepted within the step window, so a verifier rebuilt from this file
            # per scan (``yihao-verify --cache``) still refuses the same code twice.
            "replays": self._replays.export(time_step(self._clock())),
        }

    def import_cache(self, document: Mapping[str, Any]) -> None:
        """Load an ``export_cache`` document, re-checking every certificate and signature.

        A status list whose signer is no longer trusted is left out rather than failing the
        import: its credentials then report STATUS_UNKNOWN, as they would with no list at all.
        """
        try:
            if document["format"] != CACHE_FORMAT:
                raise ValueError(f"cache format {document['format']!r} is not {CACHE_FORMAT}")
            trust_list = base64.b64decode(document["trust_list"], validate=True)
            lists = [base64.b64decode(e["token"], validate=True) for e in document["status_lists"]]
            replays = _replay_pairs(document.get("replays", []))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed verifier cache: {exc!r}") from None
        self.load_trust_list(trust_list)
        for token in lists:
            try:
                self.load_status_list(token)
            except FormatError:
                continue
        self._replays.restore(replays, time_step(self._clock()))

    # -- verifying (never raises, never touches the network) --

    def verify_image(self, image: bytes | str | os.PathLike[str] | Image.Image) -> Result:
        try:
            text = qr.read(image)
        except ValueError as exc:
            return _failed(Failure.NO_QR, str(exc))
        if text is None:
            return _failed(Failure.NO_QR, "no QR code was found in the image")
        return self.verify(text)

    def verify(self, text: str) -> Result:
        try:
            decoded, known = _decode(text, self._verified)
        except FormatError as exc:
            return _failed(exc.failure, exc.detail)
        now = self._clock()
        state = self._state
        findings = _Findings()
        issuer = self._check_issuer(state, decoded, now, findings)
        self._check_validity(decoded.claims, now, findings)
        holder_key = known.holder_key if known else _holder_key(decoded.claims, findings)
        if holder_key is not None:
            _check_holder(decoded.presentation, holder_key, now, findings)
            if issuer is not None and not decoded.known and not findings.has(_UNSIGNED):
                known = _Known(decoded.message, decoded.claims, holder_key)
                self._verified.add(decoded.digest, known)
        if issuer is not None:
            self._check_status(decoded.claims, issuer, now, findings)
        profile = state.profiles.get(decoded.claims.profile)
        _check_profile(decoded.claims, profile, findings)
        self._check_replay(decoded, now, findings)
        return _result(state, decoded, issuer, profile, findings)

    def _check_issuer(
        self, state: _TrustState, decoded: _Decoded, now: float, findings: _Findings
    ) -> TrustedIssuer | None:
        kid = decoded.message.kid
        issuer = state.issuers.get(kid)
        if issuer is None:
            reason = state.rejected.get(kid)
            if reason is None:
                findings.add(Failure.UNKNOWN_KEY, f"no trusted issuer has key id {kid.hex()}")
            else:
                findings.add(Failure.CHAIN, reason)
            return None
        if not _within(issuer, now):
            findings.add(Failure.CHAIN, "the issuer certificate is not valid at this time")
        if not decoded.known and not verify_sign1(decoded.message, issuer.public_key):
            findings.add(Failure.ISSUER_SIGNATURE, "the issuer signature does not verify")
        return issuer

    def _check_validity(self, claims: CredentialClaims, now: float, findings: _Findings) -> None:
        if now > claims.expires + self._leeway:
            findings.add(Failure.EXPIRED, "the credential has expired")
        if now < claims.not_before - self._leeway:
            findings.add(Failure.NOT_YET_VALID, "the credential is not valid yet")

    def _check_status(
        self, claims: CredentialClaims, issuer: TrustedIssuer, now: float, findings: _Findings
    ) -> None:
        uri = _resolve(issuer.issuer_url, claims.status.uri)
        entry = None if uri is None else self._lists.get((issuer.issuer_url, uri))
        if entry is None:
            findings.add(Failure.STATUS_UNKNOWN, "no status list is cached for this credential")
            return
        token = entry.token
        # Stricter than the draft's "cache for ttl after fetching": counted from the list's own
        # iat, a list fetched late (a proxy, a copied cache, a replay) is no fresher than signed.
        if token.ttl is not None and token.issued_at + token.ttl < now:
            findings.add(Failure.STATUS_UNKNOWN, "the status list is older than its ttl")
        elif token.expires is not None and now > token.expires:
            findings.add(Failure.STATUS_UNKNOWN, "the cached status list has expired")
        else:
            status = token.status(claims.status.index)
            if status is None:
                findings.add(Failure.STATUS_UNKNOWN, "the status index lies beyond the list")
            elif status == INVALID:
                findings.add(Failure.REVOKED, "the issuer has revoked the credential")

    def _check_replay(self, decoded: _Decoded, now: float, findings: _Findings) -> None:
        step = decoded.presentation.step
        seen = self._replays.seen_or_record(
            decoded.digest, step, time_step(now), record=not findings
        )
        if seen:
            findings.add(Failure.REPLAY, "this presentation was already accepted here")


def _holder_key(claims: CredentialClaims, findings: _Findings) -> ec.EllipticCurvePublicKey | None:
    try:
        return claims.holder_public_key()
    except ValueError:
        findings.add(Failure.CLAIMS, "the holder key is not a point on P-256")
        return None


def _check_holder(
    presentation: Presentation, key: ec.EllipticCurvePublicKey, now: float, findings: _Findings
) -> None:
    message = holder_message(presentation.credential, presentation.step)
    if not p1363_verify(key, presentation.holder_signature, message):
        findings.add(Failure.HOLDER_SIGNATURE, "the holder signature does not verify")
    elif abs(presentation.step - time_step(now)) > STEP_WINDOW:
        findings.add(Failure.STALE, "the presentation is more than 60 seconds from this clock")


def _check_profile(claims: CredentialClaims, profile: _Profile | None, findings: _Findings) -> None:
    if profile is None:
        return
    if profile.type != claims.type or profile.fields != frozenset(claims.fields):
        findings.add(Failure.CLAIMS, "the type or fields do not match the credential's profile")


def _result(
    state: _TrustState,
    decoded: _Decoded,
    issuer: TrustedIssuer | None,
    profile: _Profile | None,
    findings: _Findings,
) -> Result:
    claims = decoded.claims
    return Result(
        valid=not findings,
        failures=findings.failures(),
        fields={} if findings else dict(claims.fields),
        type=claims.type,
        profile=claims.profile,
        profile_name=None if profile is None else profile.name,
        issuer=None if issuer is None else issuer.name,
        serial=claims.serial,
        version=claims.version,
        identifier=_identifier(state.type_codes.get(int(claims.type)), issuer, claims),
        step=decoded.presentation.step,
        expires=claims.expires,
        details=findings.details(),
    )
