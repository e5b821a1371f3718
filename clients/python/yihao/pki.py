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
#: The extended key usage of a trust-list signing certificate. An OID from a UUID (ITU-T X.667,
#: the 2.25 arc): ours without a registration, and never confused with any registered purpose.
TRUST_LIST_SIGNING = x509.ObjectIdentifier("2.25.44876231163196622246275758426285244327")


def generate_root(
    common_name: str, valid_days: int = 3650, not_before: datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh self-signed P-256 root; path length 0, because it signs issuer keys only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )
    not_before = (not_before or _default_start()).replace(microsecond=0)
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
    subject = _subject(name, issuer_code)
    return _end_entity(
        root_key, root_cert, public_key, subject, issuer_url, valid_days, not_before, ()
    )


def issue_trust_list_certificate(
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
    """The certificate of the key that signs the trust list (docs/formats.md "Trust list").

    The issuer profile plus one extended key usage, ``TRUST_LIST_SIGNING``: verifiers accept only
    this purpose on a trust list and refuse it on a credential, so neither key can stand in for
    the other, and the root can stay offline while the list is re-signed on every change.
    """
    subject = _subject(name, issuer_code)
    usage = x509.ExtendedKeyUsage([TRUST_LIST_SIGNING])
    return _end_entity(
        root_key, root_cert, public_key, subject, issuer_url, valid_days, not_before, (usage,)
    )


def certificate_request(
    private_key: ec.EllipticCurvePrivateKey,
    *,
    trust_list: bool,
    name: str,
    issuer_code: str,
    issuer_url: str,
) -> x509.CertificateSigningRequest:
    """A PKCS #10 request (RFC 2986) carrying what ``sign_request`` needs to issue the profile."""
    extensions: list[x509.ExtensionType] = [
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier(issuer_url)])
    ]
    if trust_list:
        extensions.append(x509.ExtendedKeyUsage([TRUST_LIST_SIGNING]))
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(name, issuer_code))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(private_key, hashes.SHA256())


def sign_request(
    root_key: ec.EllipticCurvePrivateKey,
    root_cert: x509.Certificate,
    request: x509.CertificateSigningRequest,
    valid_days: int,
) -> x509.Certificate:
    """What the offline root does with a request: the issuer or trust-list profile, as asked.

    Only the subject's common name and serialNumber, the SAN URI and whether the trust-list
    purpose is asked for are taken from the request; every other extension is the profile's own,
    so a request cannot smuggle in a CA flag or another key usage.
    """
    if not request.is_signature_valid:
        raise ValueError("the request's signature does not verify")
    key = request.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the requested key is not an EC P-256 key")
    trust_list = has_trust_list_purpose(request)
    profile = issue_trust_list_certificate if trust_list else issue_issuer_certificate
    return profile(
        root_key,
        root_cert,
        key,
        name=_required(subject_text(request, NameOID.COMMON_NAME), "common name"),
        issuer_code=_required(subject_text(request, NameOID.SERIAL_NUMBER), "serialNumber"),
        issuer_url=_required(san_uri(request), "issuer URL (SAN URI)"),
        valid_days=valid_days,
    )


Signed = x509.Certificate | x509.CertificateSigningRequest


def has_trust_list_purpose(item: Signed) -> bool:
    """Whether a certificate (or a request) carries the trust-list extended key usage."""
    try:
        usage = item.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return TRUST_LIST_SIGNING in usage


def san_uri(item: Signed) -> str | None:
    """The first SubjectAlternativeName URI (the issuer URL), or None."""
    try:
        san = item.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def subject_text(item: Signed, oid: x509.ObjectIdentifier) -> str | None:
    """The first subject attribute of this type, when it is non-empty text."""
    values = item.subject.get_attributes_for_oid(oid)
    if not values or not isinstance(values[0].value, str) or not values[0].value:
        return None
    return values[0].value


def _required(value: str | None, label: str) -> str:
    if value is None:
        raise ValueError(f"the request has no {label}")
    return value


def _subject(name: str, issuer_code: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, issuer_code),
        ]
    )


def _end_entity(
    root_key: ec.EllipticCurvePrivateKey,
    root_cert: x509.Certificate,
    public_key: ec.EllipticCurvePublicKey,
    subject: x509.Name,
    issuer_url: str,
    valid_days: int,
    not_before: datetime | None,
    extra: tuple[x509.ExtensionType, ...],
) -> x509.Certificate:
    start = (not_before or _default_start()).replace(microsecond=0)
    end = min(start + timedelta(days=valid_days), root_cert.not_valid_after_utc)
    builder = (
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
    )
    for extension in extra:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(root_key, hashes.SHA256())


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


#: New certificates start this long before they are made: a counter whose clock runs a little
#: behind would otherwise refuse a freshly rotated issuer key, and every list it signs, until its
#: clock caught up (certificate authorities backdate for the same reason).
CLOCK_SKEW = timedelta(minutes=5)


def _default_start() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - CLOCK_SKEW
