"""The e-certificate PKI's root CA files: where the root verifiers pin is kept.

The certificate profiles themselves (``generate_root``, ``issue_issuer_certificate``) live in the
SDK, ``yihao.pki``, next to ``yihao.trust`` which checks them; they are re-exported here so the CLI,
the key store and the tests keep one import. The root's private key is only ever a file: in
development it sits in ``certs/``; in production the root stays offline and only the issuer
certificates it signed are installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from yihao.pki import generate_root, issue_issuer_certificate, issue_trust_list_certificate

__all__ = [
    "DEVELOPMENT_ROOT_NAME",
    "ROOT_CERT_FILE",
    "ROOT_KEY_FILE",
    "RootFileError",
    "generate_root",
    "issue_issuer_certificate",
    "issue_trust_list_certificate",
    "load_root",
    "load_root_certificate",
    "refuse_development_root",
    "write_root",
]

T = TypeVar("T")

ROOT_CERT_FILE = "root-ca.pem"
ROOT_KEY_FILE = "root-ca.key"


#: The name of the root `idp certs init` makes in development. Counters show a root's name and
#: pin its fingerprint, so production refuses a root by this name (a copied ``certs/``).
DEVELOPMENT_ROOT_NAME = "Yihao e-certificate root CA (development)"


class RootFileError(ValueError):
    """The root CA files are missing, incomplete or unreadable; the message names the file."""


def refuse_development_root(cert: x509.Certificate) -> None:
    """Production's root is made on the offline machine under the authority's own name."""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if any(name.value == DEVELOPMENT_ROOT_NAME for name in names):
        raise RootFileError(
            f"production refuses the development root CA ({DEVELOPMENT_ROOT_NAME!r}): make the "
            "root on the offline machine with `idp certs make-root --name NAME` and install its "
            "root-ca.pem in IDP_CERTS_DIR"
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
