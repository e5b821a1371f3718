"""The e-certificate PKI's X.509 profiles: the root verifiers pin, the issuer certificates it signs.

The SDK owns this code because ``yihao.trust`` checks exactly this profile: building a certificate
and checking it live side by side, so the two cannot drift apart. The provider imports these
functions (its CLI and key store issue its real certificates with them), and integrators get a
throwaway PKI for their own tests: a root to pin and issuer certificates to sign credentials with,
with no provider running. Pure functions over ``cryptography``: no files, no network. Storing a
root is the provider's business (``idp.keys.pki``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ORGANISATION = "Yihao"


def generate_root(
    common_name: str, valid_days: int = 3650
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh self-signed P-256 root; path length 0, because it signs issuer keys only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )
    not_before = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_issuer_certificate(
    root_key: ec.EllipticCurvePrivateKey,
    root_cert: x509.Certificate,
    public_key: ec.EllipticCurvePublicKey,
    *,
    name: str,
    issuer_code: str,
    issuer_url: str,
    valid_days: int,
    not_before: datetime | None = None,
) -> x509.Certificate:
    """An end-entity certificate for a credential-signing key.

    The subject's serialNumber carries the issuing authority's unified social credit code and the
    SAN URI the provider's issuer URL, so a counter can show who vouches for a credential. The
    validity never outlasts the root, since a verifier would reject the chain past that date.
    """
    start = (not_before or _now()).replace(microsecond=0)
    end = min(start + timedelta(days=valid_days), root_cert.not_valid_after_utc)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, issuer_code),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(issuer_url)]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(_authority_key_id(root_key, root_cert), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def _authority_key_id(
    root_key: ec.EllipticCurvePrivateKey, root_cert: x509.Certificate
) -> x509.AuthorityKeyIdentifier:
    # Copy the root's own SKI when it has one, so path builders match it byte for byte.
    try:
        ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
