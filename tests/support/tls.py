"""The production shape for end-to-end tests: Debian's nginx terminating TLS in front of
``idp serve``, with a throwaway CA and server certificate made here with ``cryptography``.

nginx runs in the foreground as whoever runs the tests (``master_process off``: no workers to
switch to another user, so no privilege is needed or used), with the shipped site file
``deploy/nginx/yihao.conf`` (its ports, certificate and log paths changed) inside a main
configuration written into a temporary directory with its own pid, log and temp paths.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.processes import free_port

#: Debian's nginx (``make nginx``).
NGINX = Path("/usr/sbin/nginx")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class Certificates:
    """A CA that clients trust (``ca``) and the server certificate it signed for the proxy."""

    ca: Path
    certificate: Path
    key: Path
    #: base64 of SHA-256 over the server key's SubjectPublicKeyInfo: what Chromium pins.
    spki_sha256: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(directory: Path) -> Certificates:
    """A CA and a certificate for ``127.0.0.1`` and ``localhost`` under it, valid for two days."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Yihao e2e test CA"))
        .issuer_name(_name("Yihao e2e test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(
        ca=directory / "ca.pem",
        certificate=directory / "server.pem",
        key=directory / "server.key",
        spki_sha256=_spki_sha256(key.public_key()),
    )
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(_pem_key(key))
    paths.key.chmod(0o600)
    return paths


def _spki_sha256(public_key: ec.EllipticCurvePublicKey) -> str:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


#: The site file operators install; the tests run it, with only the lines marked "edit" changed.
SITE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "yihao.conf"
ACCESS_LOG = "access.log"


def site_config(directory: Path, port: int, backend: str, certificates: Certificates) -> str:
    """``deploy/nginx/yihao.conf`` with this run's ports, certificate, backend and log paths.

    Each substituted line must be in the file exactly once, so an edit to the shipped file that
    the tests would no longer see fails here instead of going untested."""
    backend_address = urlsplit(backend).netloc
    edits = {
        "server 127.0.0.1:5000;": f"server {backend_address};",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "/etc/ssl/yihao/fullchain.pem": str(certificates.certificate),
        "/etc/ssl/yihao/key.pem": str(certificates.key),
        "/var/log/nginx/yihao.access.log": str(directory / ACCESS_LOG),
        "/var/log/nginx/yihao.error.log": str(directory / "error.log"),
    }
    site = SITE_FILE.read_text(encoding="utf-8")
    for shipped, here in edits.items():
        assert site.count(shipped) == 1, f"{SITE_FILE} should hold {shipped!r} once"
        site = site.replace(shipped, here)
    return site


def nginx_config(directory: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf does around the site file, for one unprivileged run."""
    temp = {
        kind: directory / f"{kind}_temp" for kind in ("client_body", "proxy", "fastcgi", "uwsgi")
    }
    temp["scgi"] = directory / "scgi_temp"
    temp_lines = "\n".join(f"  {kind}_temp_path {path};" for kind, path in temp.items())
    return f"""daemon off;
master_process off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} notice;
events {{ worker_connections 128; }}
http {{
  access_log off;
{temp_lines}
  include {site};
}}
"""


@contextmanager
def nginx(directory: Path, port: int, backend: str, certificates: Certificates) -> Iterator[str]:
    """Run nginx in front of ``backend`` until the block ends; yields its https base URL."""
    if not os.access(NGINX, os.X_OK):
        raise RuntimeError(
            f"{NGINX} is missing: the TLS tests need Debian's nginx package. "
            "Run `make nginx` (as root), or `make test`, which installs it first."
        )
    directory.mkdir(parents=True, exist_ok=True)
    site = directory / "yihao.conf"
    site.write_text(site_config(directory, port, backend, certificates), encoding="utf-8")
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, site))
    log = directory / "error.log"
    process = subprocess.Popen(
        [str(NGINX), "-p", str(directory), "-c", str(config), "-e", str(log)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"https://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url, certificates, log)
        yield base_url
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], base_url: str, certificates: Certificates, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited {process.returncode}:\n{_tail(log)}")
        try:
            requests.get(base_url + "/", timeout=1, verify=str(certificates.ca))
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not answer in {START_TIMEOUT} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-4000:] if log.exists() else "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGQUIT)  # nginx: graceful shutdown
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
