"""The keys certified by the e-certificate root: the issuer key and the trust-list key.

The issuer key signs e-certificates and status lists; the trust-list key signs the trust list
(its certificate carries the trust-list purpose, which verifiers demand there and refuse on a
credential). Counters verify offline against a pinned root, so a key is useless without a
certificate from that root; both live together in the database, shared by every node. The private
key is encrypted like the token signing keys. Nodes read through a short in-process cache, so a
rotation reaches them within ``cache_seconds`` without a restart. The certificate comes either
from a root on this machine (development: ``rotate``) or from an offline root (``install``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from yihao.trust import key_id

from idp.caching import TimedValue
from idp.keys.pki import issue_issuer_certificate, issue_trust_list_certificate
from idp.store.crypto import FieldCipher
from idp.store.db import db, utcnow
from idp.store.models import IssuerKey

_CONTEXT = "credential_issuer_keys.private"
ISSUER, TRUST_LIST = "issuer", "trust_list"
#: Each purpose and the certificate profile the root gives it (yihao.pki).
PROFILES = {ISSUER: issue_issuer_certificate, TRUST_LIST: issue_trust_list_certificate}
#: Renew this long before expiry, so no credential is signed by a key about to lapse; closer than
#: this, loading the key logs a warning (the expiry is also a metric, ``seconds_left``).
RENEW_BEFORE = timedelta(days=30)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuerSigner:
    """What signing a credential needs: the key, its COSE ``kid`` and the certificate."""

    kid: bytes
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class _Snapshot:
    signer: IssuerSigner | None
    published: tuple[bytes, ...]


class IssuerKeys:
    def __init__(self, cipher: FieldCipher, cache_seconds: int, purpose: str = ISSUER) -> None:
        self._cipher = cipher
        self._cache_seconds = cache_seconds
        self.purpose = purpose
        self._snapshot = TimedValue(cache_seconds, self._load)
        #: The kid last warned about: once per key and process, not at every reload.
        self._warned: bytes | None = None

    def ensure(
        self,
        root_key: ec.EllipticCurvePrivateKey,
        root_cert: x509.Certificate,
        *,
        name: str,
        issuer_code: str,
        issuer_url: str,
        valid_days: int,
    ) -> str | None:
        """Create a key unless the active one is from this root and far from expiry.

        Returns the new kid (hex), or None when the active key stays. A key from another root (a
        regenerated development root) would fail at every verifier that pins the new one.
        """
        active = self._active()
        if active and _still_good(active[-1], root_cert):
            return None
        return self.rotate(
            root_key,
            root_cert,
            name=name,
            issuer_code=issuer_code,
            issuer_url=issuer_url,
            valid_days=valid_days,
        )

    def rotate(
        self,
        root_key: ec.EllipticCurvePrivateKey,
        root_cert: x509.Certificate,
        *,
        name: str,
        issuer_code: str,
        issuer_url: str,
        valid_days: int,
    ) -> str:
        """Retire the active key and create a successor; return the new kid (hex)."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        certificate = PROFILES[self.purpose](
            root_key,
            root_cert,
            private_key.public_key(),
            name=name,
            issuer_code=issuer_code,
            issuer_url=issuer_url,
            valid_days=valid_days,
        )
        return self.install(private_key, certificate)

    def install(
        self, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
    ) -> str:
        """Make a certified key the active one, retiring its predecessor; the new kid (hex).

        The caller has checked the certificate (``rotate`` made it; ``idp.keys.requests`` checks
        what an offline root signed).
        """
        now = utcnow()
        for row in self._active():
            row.retired_at = now
        der = certificate.public_bytes(serialization.Encoding.DER)
        kid = key_id(der).hex()
        db.session.add(
            IssuerKey(
                purpose=self.purpose,
                kid=kid,
                certificate_der=der,
                private_cipher=seal(self._cipher, private_key),
            )
        )
        db.session.commit()
        self._snapshot.clear()
        return kid

    def signer(self) -> IssuerSigner:
        """The active key, for signing credentials."""
        found = self._current().signer
        if found is None:
            raise RuntimeError(
                f"no {self.purpose} key: run `idp certs init` or `idp certs install`"
            )
        return found

    def published(self) -> list[bytes]:
        """Certificates (DER) verifiers need: the active one and retired ones not yet expired.

        A retired key's credentials stay in people's wallets, so its certificate stays published
        until it expires and nothing it signed can verify any more.
        """
        return list(self._current().published)

    def seconds_left(self) -> float | None:
        """Seconds until the active certificate's not-after (negative once past); None when
        there is no active key."""
        found = self._current().signer
        if found is None:
            return None
        return (found.certificate.not_valid_after_utc - datetime.now(UTC)).total_seconds()

    def listing(self) -> list[IssuerKey]:
        query = select(IssuerKey).where(IssuerKey.purpose == self.purpose).order_by(IssuerKey.id)
        return list(db.session.scalars(query))

    def _active(self) -> list[IssuerKey]:
        """Active rows, oldest first; normally one, but two nodes racing may leave two."""
        return [row for row in self.listing() if row.retired_at is None]

    def _current(self) -> _Snapshot:
        return self._snapshot.get()

    def _load(self) -> _Snapshot:
        now = datetime.now(UTC)
        rows = self.listing()
        active = [row for row in rows if row.retired_at is None]
        published = tuple(
            row.certificate_der
            for row in rows
            if x509.load_der_x509_certificate(row.certificate_der).not_valid_after_utc > now
        )
        signer = self._signer(active[-1]) if active else None
        if signer is not None:
            self._warn_if_expiring(signer, now)
        return _Snapshot(signer=signer, published=published)

    def _warn_if_expiring(self, signer: IssuerSigner, now: datetime) -> None:
        left = signer.certificate.not_valid_after_utc - now
        if left >= RENEW_BEFORE or self._warned == signer.kid:
            return
        self._warned = signer.kid
        log.warning(
            "the %s certificate %s expires in %d days (%s): renew it (idp certs init, or "
            "idp certs request and install)",
            self.purpose,
            signer.kid.hex(),
            left.days,
            signer.certificate.not_valid_after_utc.isoformat(),
        )

    def _signer(self, row: IssuerKey) -> IssuerSigner:
        return IssuerSigner(
            kid=bytes.fromhex(row.kid),
            private_key=unseal(self._cipher, row.private_cipher),
            certificate=x509.load_der_x509_certificate(row.certificate_der),
        )


def _still_good(row: IssuerKey, root_cert: x509.Certificate) -> bool:
    certificate = x509.load_der_x509_certificate(row.certificate_der)
    if certificate.issuer != root_cert.subject:
        return False
    try:
        certificate.verify_directly_issued_by(root_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return certificate.not_valid_after_utc - datetime.now(UTC) > RENEW_BEFORE


def seal(cipher: FieldCipher, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A private key as stored: PKCS #8 PEM, encrypted under the data key."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cipher.encrypt(pem, _CONTEXT)


def unseal(cipher: FieldCipher, sealed: bytes) -> ec.EllipticCurvePrivateKey:
    private_key = serialization.load_pem_private_key(
        cipher.decrypt(sealed, _CONTEXT).encode(), password=None
    )
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise RuntimeError("a stored signing key is not an EC key")
    return private_key
