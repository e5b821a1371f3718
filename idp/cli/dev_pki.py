"""The PKI a provider needs before it can issue: a root in ``IDP_CERTS_DIR`` (made on first use in
development) and an issuer key certified by it. `idp certs init` and the test set-up share this."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from idp.admin.keys import issuer_profile
from idp.keys.pki import RootFileError, generate_root, load_root, write_root
from idp.services import Services

ROOT_NAME = "Yihao e-certificate root CA (development)"

Root = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def create_root(directory: Path) -> Root:
    key, cert = generate_root(ROOT_NAME)
    write_root(directory, key, cert)
    return key, cert


def require_root(directory: Path) -> Root:
    root = load_root(directory)
    if root is None:
        raise RootFileError(f"no root CA in {directory}: run `idp certs init`")
    return root


def ensure_pki(svc: Services) -> tuple[Root, bool]:
    """The root (created when missing), and current issuer and trust-list keys under it; True
    if the root was created."""
    existing = load_root(svc.settings.certs_dir)
    root = existing or create_root(svc.settings.certs_dir)
    for keys in (svc.issuer, svc.trust_signer):
        keys.ensure(*root, **issuer_profile(svc.settings))
    return root, existing is None
