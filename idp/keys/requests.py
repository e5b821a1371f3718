"""Keys certified by an offline root: a certificate request goes out, the certificate comes back.

In production the root's private key never touches the server. ``request`` makes a key, keeps it
(encrypted, like every signing key) as pending for its purpose, and returns a PKCS #10 request
for the root's operator; ``install`` takes the certificate the root signed and makes the pending
key active, after checking everything a verifier will check and that it names this provider.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, select
from yihao.pki import certificate_request
from yihao.trust import TrustAnchors

from idp.keys.issuer import TRUST_LIST, IssuerKeys, seal, unseal
from idp.keys.pki import load_root_certificate, refuse_development_root
from idp.services import Services
from idp.store.db import db
from idp.store.models import KeyRequest


class InstallError(ValueError):
    """The certificate cannot be installed; the message says why, in one line."""


def _keys(svc: Services, purpose: str) -> IssuerKeys:
    return svc.trust_signer if purpose == TRUST_LIST else svc.issuer


def request(svc: Services, purpose: str) -> x509.CertificateSigningRequest:
    """A new pending key for ``purpose`` (replacing any pending one) and its signing request."""
    settings = svc.settings
    private_key = ec.generate_private_key(ec.SECP256R1())
    db.session.execute(delete(KeyRequest).where(KeyRequest.purpose == purpose))
    db.session.add(KeyRequest(purpose=purpose, private_cipher=seal(svc.cipher, private_key)))
    db.session.commit()
    return certificate_request(
        private_key,
        trust_list=purpose == TRUST_LIST,
        name=settings.issuer_name,
        issuer_code=settings.issuer_code,
        issuer_url=settings.issuer,
    )


def install(svc: Services, certificate: x509.Certificate) -> tuple[str, str]:
    """Activate the pending key this certificate is for; returns (purpose, kid hex)."""
    root = load_root_certificate(svc.settings.certs_dir)
    if root is None:
        raise InstallError(
            f"no {svc.settings.certs_dir}/root-ca.pem: install the offline root's certificate first"
        )
    if svc.settings.production:
        refuse_development_root(root)
    pending, private_key = _pending_for(svc, certificate.public_key())
    _check(svc, TrustAnchors([root]), certificate, pending.purpose)
    kid = _keys(svc, pending.purpose).install(private_key, certificate)
    db.session.execute(delete(KeyRequest).where(KeyRequest.id == pending.id))
    db.session.commit()
    return pending.purpose, kid


def _pending_for(
    svc: Services, public_key: object
) -> tuple[KeyRequest, ec.EllipticCurvePrivateKey]:
    for pending in db.session.scalars(select(KeyRequest)):
        private_key = unseal(svc.cipher, pending.private_cipher)
        if private_key.public_key() == public_key:
            return pending, private_key
    raise InstallError("the certificate matches no pending key: run `idp certs request` first")


def _check(
    svc: Services, anchors: TrustAnchors, certificate: x509.Certificate, purpose: str
) -> None:
    """What a verifier checks, plus that the certificate names this provider."""
    der = certificate.public_bytes(Encoding.DER)
    now = datetime.now(UTC)
    try:
        if purpose == TRUST_LIST:
            anchors.validate_trust_list_signer(der, now)
            return
        issuer = anchors.validate(der, now)
    except ValueError as exc:  # ChainError: the message names the failed check
        raise InstallError(f"the certificate is not acceptable: {exc}") from None
    named = (issuer.issuer_url, issuer.issuer_code)
    expected = (svc.settings.issuer, svc.settings.issuer_code)
    if named != expected:
        raise InstallError(f"the certificate names {named}, this provider is {expected}")
