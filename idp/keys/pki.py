"""The e-certificate PKI: a root CA that verifiers pin, and the issuer certificates it signs.

Pure functions over ``cryptography`` (no Flask, no database), so the CLI, the key store and the
tests build exactly the same certificate profiles that ``yihao.trust`` checks. The root's private
key is only ever a file: in development it sits in ``certs/``; in production the root stays
offline and only the issuer certificates it signed are installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

T = TypeVar("T")

ROOT_CERT_FILE = "root-ca.pem"
ROOT_KEY_FILE = "root-ca.key"
ORGANISATION = "Yihao"


class RootFileError(ValueError):
    """The root CA files are missing, incomplete or unreadable; the message names the file."""


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


def write_root(directory: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    """Save a new root; refuses to replace one, because that would orphan every issuer key."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = [n for n in (ROOT_CERT_FILE, ROOT_KEY_FILE) if (directory / n).exists()]
    if existing:
        raise FileExistsError(f"{directory / existing[0]} exists; a root is never overwritten")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(directory / ROOT_KEY_FILE, key_pem, 0o600)
    _write_new(directory / ROOT_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def load_root(
    directory: Path,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
    """The root in ``directory``, or None when there is none yet.

    Half a root (one file only) or a key that does not match the certificate is an error rather
    than "none": silently generating a new root would invalidate what verifiers pinned.
    """
    cert_path, key_path = directory / ROOT_CERT_FILE, directory / ROOT_KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        return None
    cert = _read(cert_path, x509.load_pem_x509_certificate)
    key = _read(key_path, lambda data: serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RootFileError(f"{key_path} does not hold an EC private key")
    if key.public_key() != cert.public_key():
        raise RootFileError(f"{key_path} does not match {cert_path}")
    return key, cert


def load_root_certificate(directory: Path) -> x509.Certificate | None:
    """Only the root's certificate: what the server publishes, never needing the private key."""
    path = directory / ROOT_CERT_FILE
    return _read(path, x509.load_pem_x509_certificate) if path.exists() else None


def _read(path: Path, parse: Callable[[bytes], T]) -> T:
    try:
        return parse(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise RootFileError(f"cannot read {path}: {exc}") from None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


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
