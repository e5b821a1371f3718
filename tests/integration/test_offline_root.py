"""The production PKI: the root stays on an offline machine, the server only requests and installs.

Each test runs the real `idp` commands against a SQLite database of its own: `make-root` and
`sign` in an "offline" directory the server never sees, `request` and `install` on the server,
whose certificate directory holds only the root's certificate.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from yihao.pki import generate_root, issue_issuer_certificate, issue_trust_list_certificate
from yihao.trust import TrustAnchors
from yihao.verifier import Verifier
from yihao.wire.trust_list import parse_trust_list

from idp.app import create_app
from idp.cli import main
from idp.config import DEFAULT_ISSUER_CODE, load_settings, new_secret
from idp.keys.pki import DEVELOPMENT_ROOT_NAME, ROOT_CERT_FILE, ROOT_KEY_FILE, load_root
from tests.support.identities import new_uscc

ISSUER = "https://id.example.gov.cn"
ROOT_NAME = "某省电子证照根证书"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
        "IDP_CERTS_DIR": str(tmp_path / "server-certs"),
        "IDP_ISSUER": ISSUER,
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
    }


@pytest.fixture()
def offline(tmp_path: Path) -> Path:
    return tmp_path / "offline-root"


@pytest.fixture()
def server(env: dict[str, str], offline: Path, tmp_path: Path) -> CliRunner:
    """A migrated server holding only the certificate of a root made on the offline machine."""
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    made = runner.invoke(
        main, ["certs", "make-root", "--dir", str(offline), "--name", ROOT_NAME, "--json"]
    )
    assert made.exit_code == 0, made.output
    certs = Path(env["IDP_CERTS_DIR"])
    certs.mkdir()
    shutil.copy(offline / ROOT_CERT_FILE, certs / ROOT_CERT_FILE)
    return runner


def certs(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(main, ["certs", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def refused(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["certs", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") and result.output.count("\n") == 1
    return result.output


def request(runner: CliRunner, tmp_path: Path, purpose: str) -> x509.CertificateSigningRequest:
    out = tmp_path / f"{purpose}.csr"
    certs(runner, "request", "--purpose", purpose, "--out", str(out))
    return x509.load_pem_x509_csr(out.read_bytes())


def signed_offline(runner: CliRunner, tmp_path: Path, offline: Path, purpose: str) -> Path:
    out = tmp_path / f"{purpose}.pem"
    csr = str(tmp_path / f"{purpose}.csr")
    certs(runner, "sign", csr, "--root-dir", str(offline), "--out", str(out))
    return out


def write_pem(path: Path, cert: x509.Certificate) -> str:
    path.write_bytes(cert.public_bytes(Encoding.PEM))
    return str(path)


def test_the_whole_offline_flow(
    server: CliRunner,
    env: dict[str, str],
    offline: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for purpose in ("issuer", "trust-list"):
        request(server, tmp_path, purpose)
        installed = certs(
            server, "install", str(signed_offline(server, tmp_path, offline, purpose))
        )
        assert installed["purpose"] == purpose.replace("-", "_")

    assert not (Path(env["IDP_CERTS_DIR"]) / ROOT_KEY_FILE).exists()  # never needed
    shown = certs(server, "show")
    assert [k["state"] for k in shown["issuer_keys"]] == ["active"]
    assert [k["state"] for k in shown["trust_list_keys"]] == ["active"]
    # The server now serves a trust list a counter pinning the offline root accepts.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(load_settings())
    signed = app.test_client().get("/credentials/trust").data
    root = load_root(offline)
    assert root is not None
    verifier = Verifier(TrustAnchors([root[1]]))
    verifier.load_trust_list(signed)
    assert verifier.trust_list_sequence == 1
    document = parse_trust_list(signed).document
    assert len(document["issuer_certificates"]) == 1


def test_installing_twice_is_refused(server: CliRunner, offline: Path, tmp_path: Path) -> None:
    request(server, tmp_path, "issuer")
    pem = signed_offline(server, tmp_path, offline, "issuer")
    certs(server, "install", str(pem))

    assert "matches no pending key" in refused(server, "install", str(pem))


def test_a_certificate_from_another_root_is_refused(server: CliRunner, tmp_path: Path) -> None:
    csr = request(server, tmp_path, "issuer")
    key, root = generate_root("Not the pinned root")
    foreign = issue_issuer_certificate(
        key,
        root,
        csr.public_key(),  # type: ignore[arg-type]
        name="x",
        issuer_code=DEFAULT_ISSUER_CODE,
        issuer_url=ISSUER,
        valid_days=30,
    )

    output = refused(server, "install", write_pem(tmp_path / "foreign.pem", foreign))
    assert "not signed by a pinned root" in output


def test_the_issuer_key_needs_the_issuer_profile(
    server: CliRunner, offline: Path, tmp_path: Path
) -> None:
    csr = request(server, tmp_path, "issuer")
    root = load_root(offline)
    assert root is not None
    options: dict[str, Any] = {"name": "x", "issuer_code": DEFAULT_ISSUER_CODE, "valid_days": 30}
    public_key: Any = csr.public_key()
    as_trust_list = issue_trust_list_certificate(*root, public_key, issuer_url=ISSUER, **options)
    other_provider = issue_issuer_certificate(
        *root, public_key, issuer_url="https://elsewhere.example", **options
    )

    output = refused(server, "install", write_pem(tmp_path / "a.pem", as_trust_list))
    assert "trust-list signing certificate" in output
    assert "this provider is" in refused(
        server, "install", write_pem(tmp_path / "b.pem", other_provider)
    )
    shown = certs(server, "show")
    assert shown["issuer_keys"] == []  # nothing half-installed


def test_the_trust_list_key_needs_the_trust_list_purpose(
    server: CliRunner, offline: Path, tmp_path: Path
) -> None:
    csr = request(server, tmp_path, "trust-list")
    root = load_root(offline)
    assert root is not None
    plain = issue_issuer_certificate(
        *root,
        csr.public_key(),  # type: ignore[arg-type]
        name="x",
        issuer_code=DEFAULT_ISSUER_CODE,
        issuer_url=ISSUER,
        valid_days=30,
    )

    assert "not for signing trust lists" in refused(
        server, "install", write_pem(tmp_path / "plain.pem", plain)
    )


def test_install_without_the_root_certificate_is_refused(
    server: CliRunner, env: dict[str, str], offline: Path, tmp_path: Path
) -> None:
    request(server, tmp_path, "issuer")
    pem = signed_offline(server, tmp_path, offline, "issuer")
    (Path(env["IDP_CERTS_DIR"]) / ROOT_CERT_FILE).unlink()

    assert "root-ca.pem" in refused(server, "install", str(pem))


def test_sign_refuses_garbage_and_make_root_never_overwrites(
    server: CliRunner, offline: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.csr"
    junk.write_text("not a request")

    assert "cannot sign" in refused(
        server, "sign", str(junk), "--root-dir", str(offline), "--out", "x"
    )
    assert "never overwritten" in refused(
        server, "make-root", "--dir", str(offline), "--name", ROOT_NAME
    )


def test_a_signed_certificate_is_valid_now(
    server: CliRunner, offline: Path, tmp_path: Path
) -> None:
    request(server, tmp_path, "issuer")
    cert = x509.load_pem_x509_certificate(
        signed_offline(server, tmp_path, offline, "issuer").read_bytes()
    )
    assert cert.not_valid_before_utc <= datetime.now(UTC) < cert.not_valid_after_utc


def test_make_root_wants_the_authoritys_own_name(server: CliRunner, tmp_path: Path) -> None:
    elsewhere = str(tmp_path / "another-root")
    assert "authority's own name" in refused(server, "make-root", "--dir", elsewhere, "--name", " ")
    assert "own name" in refused(
        server, "make-root", "--dir", elsewhere, "--name", DEVELOPMENT_ROOT_NAME
    )
    made = certs(server, "make-root", "--dir", elsewhere, "--name", ROOT_NAME)
    root = load_root(Path(elsewhere))
    assert root is not None and ROOT_NAME in root[1].subject.rfc4514_string()
    assert made["root_sha256"]


def test_production_uses_no_development_root(
    env: dict[str, str], tmp_path: Path, offline: Path
) -> None:
    production = CliRunner(
        env={
            **env,
            "IDP_ENV": "production",
            "IDP_ALLOW_SQLITE": "1",
            "IDP_ISSUER_CODE": new_uscc(),
            "IDP_SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
        }
    )
    assert production.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert "production makes no root CA" in refused(production, "init")
    # An operator copies the development certs/ (root key and all) to the server.
    development = CliRunner(env={**env, "IDP_CERTS_DIR": str(offline)})
    assert development.invoke(main, ["certs", "init"]).exit_code == 0
    shutil.copytree(offline, env["IDP_CERTS_DIR"])
    assert "development root CA" in refused(production, "init")
    request(production, tmp_path, "issuer")
    signed = signed_offline(production, tmp_path, offline, "issuer")
    assert "development root CA" in refused(production, "install", str(signed))
