"""Issuer certificates against pinned roots: each rule of ``TrustAnchors.validate`` on its own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from yihao.pki import generate_root, issue_issuer_certificate
from yihao.trust import ChainError, TrustAnchors, key_id

URL = "https://id.example.gov.cn"
#: The provider's default issuing authority (``idp.config.DEFAULT_ISSUER_CODE``), a valid USCC.
ISSUER_CODE = "11440000MB2D00014P"
Root = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
Edit = Callable[[x509.CertificateBuilder], x509.CertificateBuilder]


@pytest.fixture(scope="module")
def root() -> Root:
    return generate_root("Test root")


def _now() -> datetime:
    return datetime.now(UTC)


def _issue(
    root: Root,
    public_key: ec.EllipticCurvePublicKey | None = None,
    valid_days: int = 397,
    not_before: datetime | None = None,
) -> x509.Certificate:
    return issue_issuer_certificate(
        *root,
        public_key or ec.generate_private_key(ec.SECP256R1()).public_key(),
        name="签发机构 Issuer",
        issuer_code=ISSUER_CODE,
        issuer_url=URL,
        valid_days=valid_days,
        not_before=not_before,
    )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _rebuild(
    cert: x509.Certificate,
    signer: ec.EllipticCurvePrivateKey,
    *,
    drop: type[x509.ExtensionType] | None = None,
    subject: x509.Name | None = None,
    edit: Edit = lambda builder: builder,
) -> bytes:
    """The same certificate re-signed with one thing changed, to break exactly one rule."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for extension in cert.extensions:
        if drop is None or not isinstance(extension.value, drop):
            builder = builder.add_extension(extension.value, extension.critical)
    return _der(edit(builder).sign(signer, hashes.SHA256()))


def _reject(anchors: TrustAnchors, der: bytes, message: str, at: datetime | None = None) -> None:
    with pytest.raises(ChainError, match=message):
        anchors.validate(der, at or _now())


def test_good_issuer_is_trusted_with_its_identity(root: Root) -> None:
    cert = _issue(root)
    der = _der(cert)
    issuer = TrustAnchors([root[1]]).validate(der, _now())
    assert issuer.kid == hashlib.sha256(der).digest()[:8] == key_id(der)
    assert issuer.issuer_code == ISSUER_CODE and issuer.issuer_url == URL
    assert issuer.name == "签发机构 Issuer" and issuer.certificate == cert
    assert issuer.public_key == cert.public_key()
    assert issuer.not_before == cert.not_valid_before_utc
    assert issuer.not_after == cert.not_valid_after_utc


def test_any_pinned_root_may_be_the_issuer(root: Root) -> None:
    other = generate_root("Other root")
    anchors = TrustAnchors([other[1], root[1]])
    assert anchors.validate(_der(_issue(root)), _now()).issuer_url == URL


def test_from_pem_reads_a_bundle_and_refuses_nothing_or_garbage(root: Root) -> None:
    other = generate_root("Other root")[1]
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (root[1], other))
    anchors = TrustAnchors.from_pem(pem)
    assert anchors.fingerprints == [hashlib.sha256(_der(c)).hexdigest() for c in (root[1], other)]
    for bad in (b"", b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"):
        with pytest.raises(ValueError, match="no PEM certificate"):
            TrustAnchors.from_pem(bad)
    with pytest.raises(ValueError, match="at least one"):
        TrustAnchors([])


def test_not_der(root: Root) -> None:
    _reject(TrustAnchors([root[1]]), b"\x30\x03garbage", "not a DER X.509 certificate")


def test_foreign_root_with_the_same_name(root: Root) -> None:
    impostor = generate_root("Test root")
    assert impostor[1].subject == root[1].subject
    _reject(TrustAnchors([root[1]]), _der(_issue(impostor)), "not signed by a pinned root")


def test_foreign_root_with_another_name(root: Root) -> None:
    _reject(TrustAnchors([root[1]]), _der(_issue(generate_root("Else"))), "pinned root")


def test_tampered_signature(root: Root) -> None:
    der = bytearray(_der(_issue(root)))
    der[-1] ^= 0x01  # the last byte of the ECDSA signature value
    _reject(TrustAnchors([root[1]]), bytes(der), "not signed by a pinned root")


def test_tampered_content(root: Root) -> None:
    der = _der(_issue(root))
    tampered = der.replace(b"id.example.gov.cn", b"id.exampIe.gov.cn")
    assert tampered != der
    _reject(TrustAnchors([root[1]]), tampered, "not signed by a pinned root")


def test_root_that_is_not_a_ca(root: Root) -> None:
    not_ca = x509.load_der_x509_certificate(
        _rebuild(
            root[1],
            root[0],
            drop=x509.BasicConstraints,
            edit=lambda b: b.add_extension(x509.BasicConstraints(ca=False, path_length=None), True),
        )
    )
    _reject(TrustAnchors([not_ca]), _der(_issue((root[0], not_ca))), "root certificate is not a CA")


def test_root_outside_its_validity(root: Root) -> None:
    short = generate_root("Short root", valid_days=1)
    der = _der(_issue(short))
    _reject(TrustAnchors([short[1]]), der, "root certificate has expired", _now() + timedelta(2))
    _reject(
        TrustAnchors([short[1]]), der, "root certificate is not yet valid", _now() - timedelta(1)
    )


def test_expired_issuer(root: Root) -> None:
    cert = _issue(root, valid_days=1, not_before=_now() - timedelta(days=2))
    _reject(TrustAnchors([root[1]]), _der(cert), "issuer certificate has expired")


def test_issuer_not_yet_valid(root: Root) -> None:
    cert = _issue(root, not_before=_now() + timedelta(days=1))
    _reject(TrustAnchors([root[1]]), _der(cert), "issuer certificate is not yet valid")


def test_ca_issuer_certificate(root: Root) -> None:
    der = _rebuild(
        _issue(root),
        root[0],
        drop=x509.BasicConstraints,
        edit=lambda b: b.add_extension(x509.BasicConstraints(ca=True, path_length=0), True),
    )
    _reject(TrustAnchors([root[1]]), der, "is a CA certificate")


def test_key_usage_without_digital_signature(root: Root) -> None:
    usage = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
    der = _rebuild(
        _issue(root), root[0], drop=x509.KeyUsage, edit=lambda b: b.add_extension(usage, True)
    )
    _reject(TrustAnchors([root[1]]), der, "lacks digitalSignature")


def test_missing_key_usage(root: Root) -> None:
    _reject(
        TrustAnchors([root[1]]),
        _rebuild(_issue(root), root[0], drop=x509.KeyUsage),
        "has no key usage",
    )


def test_p384_issuer_key(root: Root) -> None:
    cert = _issue(root, public_key=ec.generate_private_key(ec.SECP384R1()).public_key())
    _reject(TrustAnchors([root[1]]), _der(cert), "not an EC P-256 key")


def test_missing_san(root: Root) -> None:
    der = _rebuild(_issue(root), root[0], drop=x509.SubjectAlternativeName)
    _reject(TrustAnchors([root[1]]), der, "no subject alternative name")


def test_san_without_uri(root: Root) -> None:
    dns_only = x509.SubjectAlternativeName([x509.DNSName("id.example.gov.cn")])
    der = _rebuild(
        _issue(root),
        root[0],
        drop=x509.SubjectAlternativeName,
        edit=lambda b: b.add_extension(dns_only, False),
    )
    _reject(TrustAnchors([root[1]]), der, "no subject alternative name URI")


@pytest.mark.parametrize(
    ("oid", "label"),
    [(NameOID.SERIAL_NUMBER, "serialNumber"), (NameOID.COMMON_NAME, "common name")],
)
def test_missing_subject_attribute(root: Root, oid: x509.ObjectIdentifier, label: str) -> None:
    cert = _issue(root)
    subject = x509.Name([a for a in cert.subject if a.oid != oid])
    _reject(TrustAnchors([root[1]]), _rebuild(cert, root[0], subject=subject), f"no {label}")
