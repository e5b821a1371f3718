"""Certificate profiles of the e-certificate PKI, and the root files that must never be replaced."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idp.config import DEFAULT_ISSUER_CODE, ConfigError, load_settings
from idp.identifiers import parse_uscc
from idp.keys.pki import (
    ROOT_CERT_FILE,
    ROOT_KEY_FILE,
    RootFileError,
    generate_root,
    issue_issuer_certificate,
    load_root,
    write_root,
)

URL = "https://id.example.gov.cn"


def _issue(
    root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], valid_days: int = 397
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    return issue_issuer_certificate(
        *root,
        key.public_key(),
        name="签发机构 Issuer",
        issuer_code=DEFAULT_ISSUER_CODE,
        issuer_url=URL,
        valid_days=valid_days,
    )


def test_root_is_a_self_signed_p256_ca_for_issuers_only() -> None:
    key, cert = generate_root("Test root", valid_days=10)
    cert.verify_directly_issued_by(cert)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test root"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=10)


def test_roots_get_random_serials() -> None:
    assert generate_root("a")[1].serial_number != generate_root("a")[1].serial_number


def test_issuer_certificate_profile() -> None:
    root = generate_root("Test root")
    cert = _issue(root)
    cert.verify_directly_issued_by(root[1])
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "签发机构 Issuer"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Yihao"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == DEFAULT_ISSUER_CODE
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [URL]
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not (usage.value.key_cert_sign or usage.value.crl_sign or usage.value.key_agreement)
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root[1].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_issuer_validity_starts_when_asked_and_never_outlasts_the_root() -> None:
    root = generate_root("Short root", valid_days=30)
    cert = _issue(root, valid_days=397)
    assert cert.not_valid_after_utc == root[1].not_valid_after_utc
    start = datetime(2030, 1, 1, 12, 0, 0, 123, tzinfo=UTC)
    later = issue_issuer_certificate(
        *generate_root("Long root", valid_days=36500),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        name="n",
        issuer_code=DEFAULT_ISSUER_CODE,
        issuer_url=URL,
        valid_days=5,
        not_before=start,
    )
    assert later.not_valid_before_utc == start.replace(microsecond=0)
    assert later.not_valid_after_utc - later.not_valid_before_utc == timedelta(days=5)


def test_write_root_keeps_the_key_private_and_loads_back(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "certs"
    key, cert = generate_root("Test root")
    write_root(directory, key, cert)
    assert stat.S_IMODE((directory / ROOT_KEY_FILE).stat().st_mode) == 0o600
    loaded = load_root(directory)
    assert loaded is not None
    assert loaded[1] == cert and loaded[0].private_numbers() == key.private_numbers()


def test_write_root_never_overwrites(tmp_path: Path) -> None:
    first = generate_root("First")
    write_root(tmp_path, *first)
    with pytest.raises(FileExistsError):
        write_root(tmp_path, *generate_root("Second"))
    loaded = load_root(tmp_path)
    assert loaded is not None and loaded[1] == first[1]


def test_write_root_refuses_even_half_a_root(tmp_path: Path) -> None:
    (tmp_path / ROOT_CERT_FILE).write_bytes(b"left over")
    with pytest.raises(FileExistsError):
        write_root(tmp_path, *generate_root("Test root"))
    assert not (tmp_path / ROOT_KEY_FILE).exists()


def test_no_root_files_means_no_root(tmp_path: Path) -> None:
    assert load_root(tmp_path) is None


def test_unreadable_or_mismatched_root_files_are_errors(tmp_path: Path) -> None:
    write_root(tmp_path, *generate_root("Test root"))
    (tmp_path / ROOT_KEY_FILE).write_bytes(b"not a key")
    with pytest.raises(RootFileError, match=ROOT_KEY_FILE):
        load_root(tmp_path)
    other = tmp_path / "other"
    write_root(other, *generate_root("Other"))
    (tmp_path / ROOT_KEY_FILE).write_bytes((other / ROOT_KEY_FILE).read_bytes())
    with pytest.raises(RootFileError, match="does not match"):
        load_root(tmp_path)
    (tmp_path / ROOT_KEY_FILE).unlink()
    with pytest.raises(RootFileError, match=ROOT_KEY_FILE):
        load_root(tmp_path)


def test_issuer_settings_default_to_a_valid_government_code(tmp_path: Path) -> None:
    settings = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)})
    code = parse_uscc(settings.issuer_code)
    assert (code.registration_authority, code.organisation_type) == ("1", "1")
    assert code.region_code == "440000" and settings.issuer_cert_days == 397
    assert settings.certs_dir == Path.cwd() / "certs"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDP_ISSUER_CODE", DEFAULT_ISSUER_CODE[:-1] + "0", "IDP_ISSUER_CODE"),
        ("IDP_ISSUER_NAME", " ", "IDP_ISSUER_NAME"),
        ("IDP_ISSUER_CERT_DAYS", "0", "from 1 to 3650"),
    ],
)
def test_bad_issuer_settings_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"IDP_INSTANCE_DIR": str(tmp_path), name: value})
