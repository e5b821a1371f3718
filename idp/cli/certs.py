"""The e-certificate PKI: the root CA in ``IDP_CERTS_DIR``, the issuer and trust-list keys.

Development: ``init`` makes everything on this machine. Production, root offline
(docs/operations.md "E-certificates"): ``make-root`` and ``sign`` run on the offline machine,
``request`` and ``install`` on the server, which never holds the root's private key.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from yihao.pki import sign_request

from idp.admin import keys
from idp.admin.roles import CLI
from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.cli.dev_pki import ensure_pki, require_root
from idp.config import SETTINGS
from idp.keys.issuer import ISSUER, TRUST_LIST
from idp.keys.pki import (
    DEVELOPMENT_ROOT_NAME,
    RootFileError,
    generate_root,
    load_root_certificate,
    write_root,
)
from idp.keys.requests import InstallError, install, request
from idp.services import services

_PURPOSES = {"issuer": ISSUER, "trust-list": TRUST_LIST}


@main.group("certs")
def certs_group() -> None:
    """The root CA and the key that signs e-certificates."""


@certs_group.command("init")
@json_option
@operator_command
def certs_init(as_json: bool) -> None:
    """Create the root CA if missing, then an issuer key under it if none is current."""
    with app_context():
        settings = services().settings
        root, created = ensure_pki(services())
        kid = services().issuer.signer().kid.hex()
        trust_kid = services().trust_signer.signer().kid.hex()
    emit(
        {
            "status": "created root" if created else "root exists",
            "root_sha256": _fingerprint(root[1]),
            "certs_dir": str(settings.certs_dir),
            "issuer_kid": kid,
            "trust_list_kid": trust_kid,
        },
        as_json,
    )


@certs_group.command("rotate-issuer")
@json_option
@operator_command
def certs_rotate_issuer(as_json: bool) -> None:
    """Retire the issuer key and create a successor; the old certificate stays published."""
    with app_context():
        kid = keys.rotate_issuer_key(CLI)["issuer_kid"]
        root = load_root_certificate(services().settings.certs_dir)
    emit({"root_sha256": _fingerprint(root) if root else None, "issuer_kid": kid}, as_json)


@certs_group.command("request")
@click.option(
    "--purpose",
    type=click.Choice(sorted(_PURPOSES)),
    default="issuer",
    show_default=True,
    help="The issuer key (credentials, status lists) or the trust-list key.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@json_option
@operator_command
def certs_request(purpose: str, out: Path, as_json: bool) -> None:
    """Make a pending key and write its certificate signing request for the offline root."""
    with app_context():
        csr = request(services(), _PURPOSES[purpose])
    _write(out, csr.public_bytes(Encoding.PEM))
    emit({"purpose": _PURPOSES[purpose], "request": str(out)}, as_json)


@certs_group.command("install")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@operator_command
def certs_install(certificate: Path, as_json: bool) -> None:
    """Activate the pending key with the certificate the offline root signed for it."""
    cert = _read_certificate(certificate)
    with app_context():
        try:
            purpose, kid = install(services(), cert)
        except InstallError as exc:
            raise click.BadParameter(str(exc), param_hint="CERTIFICATE") from None
    emit(
        {"purpose": purpose, "kid": kid, "not_after": cert.not_valid_after_utc.isoformat()}, as_json
    )


@certs_group.command("make-root")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--name",
    required=True,
    help="The root's common name, which counters show: the authority's own (某省电子证照根证书).",
)
@click.option("--days", type=click.IntRange(1, 36500), default=3650, show_default=True)
@json_option
@operator_command
def certs_make_root(directory: Path, name: str, days: int, as_json: bool) -> None:
    """On the offline machine: a new root in DIR (never overwriting one). Needs no database."""
    if name.strip() in ("", DEVELOPMENT_ROOT_NAME):
        raise click.BadParameter("give the root the authority's own name", param_hint="--name")
    try:
        key, cert = generate_root(name.strip(), valid_days=days)
        write_root(directory, key, cert)
    except (OSError, FileExistsError) as exc:
        raise RootFileError(str(exc)) from None
    emit({"root_sha256": _fingerprint(cert), "dir": str(directory)}, as_json)


@certs_group.command("sign")
@click.argument("csr", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--root-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--days",
    type=click.IntRange(
        SETTINGS["IDP_ISSUER_CERT_DAYS"].low, SETTINGS["IDP_ISSUER_CERT_DAYS"].high
    ),
    default=SETTINGS["IDP_ISSUER_CERT_DAYS"].default,
    show_default=True,
)
@json_option
@operator_command
def certs_sign(csr: Path, root_dir: Path, out: Path, days: int, as_json: bool) -> None:
    """On the offline machine: sign a request with the root in ROOT_DIR. Needs no database."""
    root = require_root(root_dir)
    try:
        request_ = x509.load_pem_x509_csr(csr.read_bytes())
        cert = sign_request(*root, request_, days)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot sign {csr}: {exc}", param_hint="CSR") from None
    _write(out, cert.public_bytes(Encoding.PEM))
    emit({"certificate": str(out), "subject": cert.subject.rfc4514_string()}, as_json)


@certs_group.command("show")
@json_option
@operator_command
def certs_show(as_json: bool) -> None:
    """The root's fingerprint and every issuer and trust-list key with its expiry and state."""
    with app_context():
        root = load_root_certificate(services().settings.certs_dir)
        keys, trust_keys = (
            [_describe(row.kid, row.certificate_der, row.retired_at is None) for row in k.listing()]
            for k in (services().issuer, services().trust_signer)
        )
    fingerprint = _fingerprint(root) if root else None
    if as_json:
        shown = {"root_sha256": fingerprint, "issuer_keys": keys, "trust_list_keys": trust_keys}
        click.echo(json.dumps(shown))
        return
    click.echo(f"root_sha256: {fingerprint or 'none (run `idp certs init`)'}")
    for label, rows in (("issuer", keys), ("trust-list", trust_keys)):
        for key in rows:
            click.echo(f"{key['kid']}  not after {key['not_after']}  {key['state']} {label} key")


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise click.BadParameter(
            f"not a PEM certificate: {exc}", param_hint="CERTIFICATE"
        ) from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc}", param_hint="--out") from None


def _describe(kid: str, certificate_der: bytes, active: bool) -> dict[str, str]:
    not_after = x509.load_der_x509_certificate(certificate_der).not_valid_after_utc
    return {
        "kid": kid,
        "not_after": not_after.isoformat(),
        "state": "active" if active else "retired",
    }


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()
