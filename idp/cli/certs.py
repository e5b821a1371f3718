"""The e-certificate PKI: the root CA in ``IDP_CERTS_DIR`` and the credential issuer key."""

from __future__ import annotations

import json

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.keys.dev_pki import ensure_pki, issuer_profile, require_root
from idp.keys.pki import load_root
from idp.services import services


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
    emit(
        {
            "status": "created root" if created else "root exists",
            "root_sha256": _fingerprint(root[1]),
            "certs_dir": str(settings.certs_dir),
            "issuer_kid": kid,
        },
        as_json,
    )


@certs_group.command("rotate-issuer")
@json_option
@operator_command
def certs_rotate_issuer(as_json: bool) -> None:
    """Retire the issuer key and create a successor; the old certificate stays published."""
    with app_context():
        settings = services().settings
        root = require_root(settings.certs_dir)
        kid = services().issuer.rotate(*root, **issuer_profile(settings))
    emit({"root_sha256": _fingerprint(root[1]), "issuer_kid": kid}, as_json)


@certs_group.command("show")
@json_option
@operator_command
def certs_show(as_json: bool) -> None:
    """The root's fingerprint and every issuer key with its expiry and state."""
    with app_context():
        root = load_root(services().settings.certs_dir)
        keys = [
            _describe(row.kid, row.certificate_der, row.retired_at is None)
            for row in services().issuer.listing()
        ]
    fingerprint = _fingerprint(root[1]) if root else None
    if as_json:
        click.echo(json.dumps({"root_sha256": fingerprint, "issuer_keys": keys}))
        return
    click.echo(f"root_sha256: {fingerprint or 'none (run `idp certs init`)'}")
    for key in keys:
        click.echo(f"{key['kid']}  not after {key['not_after']}  {key['state']}")


def _describe(kid: str, certificate_der: bytes, active: bool) -> dict[str, str]:
    not_after = x509.load_der_x509_certificate(certificate_der).not_valid_after_utc
    return {
        "kid": kid,
        "not_after": not_after.isoformat(),
        "state": "active" if active else "retired",
    }


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()
