"""The PKI a provider needs before it can issue: a root in ``IDP_CERTS_DIR`` (made on first use in
development) and an issuer key certified by it. `idp certs init` and the test set-up share this."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from idp.admin.keys import issuer_profile
from idp.keys.pki import (
    DEVELOPMENT_ROOT_NAME,
    RootFileError,
    generate_root,
    load_root,
    refuse_development_root,
    write_root,
)
from idp.services import Services

Root = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def create_root(directory: Path) -> Root:
    key, cert = generate_root(DEVELOPMENT_ROOT_NAME)
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
    if svc.settings.production:
        if existing is None:
            raise RootFileError(
                "production makes no root CA: make it offline (`idp certs make-root`) and use "
                "`idp certs request` and `idp certs install`"
            )
        refuse_development_root(existing[1])
    root = existing or create_root(svc.settings.certs_dir)
    for keys in (svc.issuer, svc.trust_signer):
        keys.ensure(*root, **issuer_profile(svc.settings))
    return root, existing is None
