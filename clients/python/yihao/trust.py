"""Which issuer keys a verifier trusts: issuer certificates checked against pinned roots.

A counter works offline, so it cannot ask anyone whether an issuer key is genuine. It pins one or
more root certificates instead, and accepts a credential's signing key only when that key's
certificate was signed by a pinned root and fits the issuer profile (an end-entity P-256 signing
key naming its authority). The trust list is signed by a key of the same profile plus the
trust-list purpose (``yihao.pki.TRUST_LIST_SIGNING``), which a credential key must not carry.
Only direct issuance is accepted: the root signs every certificate itself, so there is no path
to build and no intermediate to trust.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from yihao.pki import has_trust_list_purpose, san_uri, subject_text

KEY_ID_LENGTH = 8


def key_id(certificate_der: bytes) -> bytes:
    """The COSE ``kid`` of an issuer key: short enough for a QR code, bound to the certificate."""
    return hashlib.sha256(certificate_der).digest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer certificate that passed every check, with what a counter displays or logs."""

    kid: bytes
    public_key: ec.EllipticCurvePublicKey
    certificate: x509.Certificate
    issuer_code: str  # the issuing authority's unified social credit code
    issuer_url: str
    name: str
    not_before: datetime
    not_after: datetime


class ChainError(ValueError):
    """An issuer certificate is not acceptable; the message names the check that failed."""


class TrustAnchors:
    """The pinned roots, and the one place that decides whether an issuer certificate is trusted."""

    def __init__(self, roots: Sequence[x509.Certificate]) -> None:
        if not roots:
            raise ValueError("at least one root certificate must be pinned")
        self._roots = tuple(roots)

    @classmethod
    def from_pem(cls, data: bytes) -> TrustAnchors:
        """Roots from a PEM bundle such as ``root-ca.pem``."""
        try:
            roots = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise ValueError(
                "no PEM certificate could be read from the trust anchor data"
            ) from None
        return cls(roots)

    @property
    def fingerprints(self) -> list[str]:
        """Hex SHA-256 of each root, for an operator to compare against a published value."""
        return [root.fingerprint(hashes.SHA256()).hex() for root in self._roots]

    def validate(self, issuer_der: bytes, at: datetime) -> TrustedIssuer:
        """Check an issuer certificate as of ``at`` (an aware datetime), or raise ChainError."""
        cert = self._signing_certificate(issuer_der, at)
        if has_trust_list_purpose(cert):
            raise ChainError("issuer certificate is a trust-list signing certificate")
        return TrustedIssuer(
            kid=key_id(issuer_der),
            public_key=_p256_key(cert),
            certificate=cert,
            issuer_code=_subject_attribute(cert, NameOID.SERIAL_NUMBER, "serialNumber"),
            issuer_url=_san_uri(cert),
            name=_subject_attribute(cert, NameOID.COMMON_NAME, "common name"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )

    def validate_trust_list_signer(self, der: bytes, at: datetime) -> ec.EllipticCurvePublicKey:
        """The key of a trust-list signing certificate valid as of ``at``, or raise ChainError."""
        cert = self._signing_certificate(der, at)
        if not has_trust_list_purpose(cert):
            raise ChainError("certificate is not for signing trust lists")
        return _p256_key(cert)

    def _signing_certificate(self, der: bytes, at: datetime) -> x509.Certificate:
        """The checks both profiles share: a pinned root's direct, valid end-entity signer."""
        cert = _parse(der)
        root = self._issuing_root(cert)
        _require_ca(root)
        _require_valid(root, at, "root certificate")
        _require_valid(cert, at, "issuer certificate")
        _require_signing_end_entity(cert)
        return cert

    def _issuing_root(self, cert: x509.Certificate) -> x509.Certificate:
        for root in self._roots:
            if root.subject == cert.issuer and _signed_by(cert, root):
                return root
        raise ChainError("issuer certificate is not signed by a pinned root")


def _parse(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise ChainError("issuer certificate is not a DER X.509 certificate") from None


def _signed_by(cert: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _require_ca(root: x509.Certificate) -> None:
    if not _basic_constraints(root).ca:
        raise ChainError("root certificate is not a CA")


def _require_valid(cert: x509.Certificate, at: datetime, label: str) -> None:
    if at < cert.not_valid_before_utc:
        raise ChainError(f"{label} is not yet valid")
    if at > cert.not_valid_after_utc:
        raise ChainError(f"{label} has expired")


def _require_signing_end_entity(cert: x509.Certificate) -> None:
    # A CA certificate used as a signing key would let its holder mint further issuers.
    if _basic_constraints(cert).ca:
        raise ChainError("issuer certificate is a CA certificate")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise ChainError("issuer certificate has no key usage") from None
    if not usage.digital_signature:
        raise ChainError("issuer certificate key usage lacks digitalSignature")


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return x509.BasicConstraints(ca=False, path_length=None)


def _p256_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    # The wire format signs with ES256 only; any other key could never verify a credential.
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ChainError("issuer certificate key is not an EC P-256 key")
    return key


def _subject_attribute(cert: x509.Certificate, oid: x509.ObjectIdentifier, label: str) -> str:
    value = subject_text(cert, oid)
    if value is None:
        raise ChainError(f"issuer certificate subject has no {label}")
    return value


def _san_uri(cert: x509.Certificate) -> str:
    uri = san_uri(cert)
    if uri is None:
        raise ChainError("issuer certificate has no subject alternative name URI")
    return uri
