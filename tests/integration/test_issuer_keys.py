"""The credential issuer key in the database, and ``idp certs``.

The app and its database are shared by the whole session, so every test makes its own root and
asserts only about keys under it; other tests may have created issuer keys before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import select, update
from yihao.trust import TrustAnchors, key_id

from idp.cli import main
from idp.config import DEFAULT_ISSUER_CODE, new_secret
from idp.keys.issuer import IssuerKeys
from idp.keys.pki import ROOT_CERT_FILE, ROOT_KEY_FILE, generate_root, issue_issuer_certificate
from idp.services import services
from idp.store.db import db, utcnow
from idp.store.models import IssuerKey

Root = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
NAME = "一号通行电子证照签发"
URL = "http://localhost"


def _ensure(root: Root, valid_days: int = 397) -> str | None:
    return services().issuer.ensure(
        *root, name=NAME, issuer_code=DEFAULT_ISSUER_CODE, issuer_url=URL, valid_days=valid_days
    )


def _rotate(root: Root) -> str:
    return services().issuer.rotate(
        *root, name=NAME, issuer_code=DEFAULT_ISSUER_CODE, issuer_url=URL, valid_days=397
    )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_ensure_creates_once_then_keeps_the_key(ctx: Flask) -> None:
    root = generate_root("Test root")
    kid = _ensure(root)
    assert kid is not None
    assert _ensure(root) is None
    signer = services().issuer.signer()
    assert signer.kid.hex() == kid
    TrustAnchors([root[1]]).validate(_der(signer.certificate), datetime.now(UTC))


def test_a_new_root_makes_ensure_reissue(ctx: Flask) -> None:
    first = _ensure(generate_root("First root"))
    second_root = generate_root("Second root")
    second = _ensure(second_root)
    assert second is not None and second != first
    signer = services().issuer.signer()
    assert signer.kid.hex() == second
    signer.certificate.verify_directly_issued_by(second_root[1])


def test_ensure_renews_a_key_close_to_expiry(ctx: Flask) -> None:
    root = generate_root("Test root")
    short = _ensure(root, valid_days=20)
    assert short is not None
    renewed = _ensure(root)
    assert renewed is not None and renewed != short
    assert _ensure(root) is None


def test_rotate_keeps_the_retired_certificate_published(ctx: Flask) -> None:
    root = generate_root("Test root")
    _ensure(root)
    old = services().issuer.signer()
    new_kid = _rotate(root)
    assert new_kid != old.kid.hex() and services().issuer.signer().kid.hex() == new_kid
    published = services().issuer.published()
    assert _der(old.certificate) in published
    assert key_id(published[-1]).hex() == new_kid
    retired = db.session.scalar(select(IssuerKey).where(IssuerKey.kid == old.kid.hex()))
    assert retired is not None and retired.retired_at is not None


def test_expired_retired_certificates_are_not_published(ctx: Flask) -> None:
    root = generate_root("Test root")
    expired = issue_issuer_certificate(
        *root,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        name="old",
        issuer_code=DEFAULT_ISSUER_CODE,
        issuer_url=URL,
        valid_days=1,
        not_before=datetime.now(UTC) - timedelta(days=3),
    )
    der = _der(expired)
    db.session.add(
        IssuerKey(
            kid=key_id(der).hex(),
            certificate_der=der,
            private_cipher=b"unused",
            retired_at=utcnow() - timedelta(days=2),
        )
    )
    db.session.commit()
    _rotate(root)
    assert der not in services().issuer.published()


def test_private_key_is_encrypted_at_rest(ctx: Flask) -> None:
    kid = _rotate(generate_root("Test root"))
    row = db.session.scalar(select(IssuerKey).where(IssuerKey.kid == kid))
    assert row is not None
    assert b"PRIVATE KEY" not in row.private_cipher and b"-----" not in row.private_cipher
    signer = services().issuer.signer()
    assert signer.private_key.public_key() == signer.certificate.public_key()


def test_signer_kid_is_the_sdk_key_id(ctx: Flask) -> None:
    _rotate(generate_root("Test root"))
    signer = services().issuer.signer()
    assert signer.kid == key_id(_der(signer.certificate))
    assert len(signer.kid) == 8


def test_no_active_key_is_a_clear_error(ctx: Flask) -> None:
    db.session.execute(update(IssuerKey).values(retired_at=utcnow()))
    try:
        with pytest.raises(RuntimeError, match="idp certs init"):
            IssuerKeys(services().cipher, cache_seconds=0).signer()
    finally:
        db.session.rollback()


@pytest.fixture()
def run(tmp_path: Path) -> CliRunner:
    env = {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "IDP_CERTS_DIR": str(tmp_path / "certs"),
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
    }
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["db", "upgrade", "--json"]).exit_code == 0
    return runner


def call(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, ["certs", *args])


def test_certs_init_twice(run: CliRunner, tmp_path: Path) -> None:
    first = call(run, "init", "--json")
    assert first.exit_code == 0, first.output
    made = json.loads(first.output)
    assert made["status"] == "created root"
    assert made["certs_dir"] == str(tmp_path / "certs")
    pinned = TrustAnchors.from_pem((tmp_path / "certs" / ROOT_CERT_FILE).read_bytes())
    assert made["root_sha256"] == pinned.fingerprints[0]
    again = json.loads(call(run, "init", "--json").output)
    assert again["status"] == "root exists"
    assert again["root_sha256"] == made["root_sha256"]
    assert again["issuer_kid"] == made["issuer_kid"]
    assert "root exists" in call(run, "init").output


def test_certs_rotate_issuer_and_show(run: CliRunner) -> None:
    made = json.loads(call(run, "init", "--json").output)
    rotated = json.loads(call(run, "rotate-issuer", "--json").output)
    assert rotated["issuer_kid"] != made["issuer_kid"]
    shown = json.loads(call(run, "show", "--json").output)
    assert shown["root_sha256"] == made["root_sha256"]
    states = {key["kid"]: key["state"] for key in shown["issuer_keys"]}
    assert states == {made["issuer_kid"]: "retired", rotated["issuer_kid"]: "active"}
    text = call(run, "show").output
    assert f"{rotated['issuer_kid']}  not after " in text and "active" in text


def test_rotate_without_a_root_is_one_line_exit_2(run: CliRunner) -> None:
    result = call(run, "rotate-issuer")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "idp certs init" in result.output


def test_unreadable_root_key_is_one_line_exit_2(run: CliRunner, tmp_path: Path) -> None:
    assert call(run, "init").exit_code == 0
    (tmp_path / "certs" / ROOT_KEY_FILE).write_bytes(b"garbage")
    for command in ("init", "rotate-issuer"):
        result = call(run, command)
        assert result.exit_code == 2 and result.output.startswith("error:")
        assert result.output.count("\n") == 1 and ROOT_KEY_FILE in result.output
