"""`make demo`: the provider with demo data and the reference services, on loopback.

Operator steps only, through the `idp` command, as a real deployment would do them: migrate,
make the dev PKI, seed, register each service's client once (kept in instance/demo-clients.json),
then serve everything until Ctrl-C. The financing platform is a FAPI 2.0 client: its signing and
DPoP keys are made once under instance/financing-keys/ (never committed), the public half of the
signing key registered with `--jwks-file`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from yihao_examples.financing import SCOPE as FINANCING_SCOPE
from yihao_examples.financing.keys import KeyFiles, ensure_keys

ISSUER = "http://127.0.0.1:5000"
CLIENTS_FILE = Path("instance") / "demo-clients.json"
BIN = Path(sys.executable).parent
SERVICES: dict[str, dict[str, Any]] = {
    "housing_fund": {
        "port": 8001,
        "name": "住房公积金管理中心 Housing Provident Fund",
        "scope": "openid profile id_number",
        "purposes": ["profile=核对申请人姓名", "id_number=按身份证号码查询公积金账户"],
    },
    "enrolment": {
        "port": 8002,
        "name": "义务教育入学报名 School enrolment",
        "scope": "openid profile household property",
        "purposes": ["household=核对户籍是否在学区内", "property=核对学区内房产"],
    },
}
COUNTER_PORT = 8003
#: The demo enterprise's legal representative (idp.demo.ENTERPRISE).
ENTERPRISE_REPRESENTATIVE = "360426199101010071"
FINANCING_PORT = 8004
FINANCING_KEYS = Path("instance") / "financing-keys"
FINANCING: dict[str, Any] = {
    "port": FINANCING_PORT,
    "name": "智慧产融 Financing platform",
    "scope": FINANCING_SCOPE,
    "purposes": [
        "business=核实企业登记信息，评估经营年限与注册资本",
        "property=核实企业不动产及抵押状态，评估可抵押资产",
        "social_insurance=根据参保人数变化评估经营稳定性",
    ],
}


def idp(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(BIN / "idp"), *args, "--json"], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def register(name: str, spec: dict[str, Any], *extra: str) -> dict[str, str]:
    base = f"http://127.0.0.1:{spec['port']}"
    args = ["client", "add", "--name", spec["name"], "--scope", spec["scope"]]
    args += ["--redirect-uri", f"{base}/callback", "--post-logout-redirect-uri", f"{base}/"]
    for purpose in spec["purposes"]:
        args += ["--purpose", purpose]
    client = idp(*args, *extra)
    return {"client_id": client["client_id"], "client_secret": client.get("client_secret") or ""}


def register_financing(keys: KeyFiles) -> dict[str, str]:
    """The platform under the fapi2 profile: private_key_jwt with its key, PAR and DPoP."""
    return register(
        "financing",
        FINANCING,
        *("--profile", "fapi2", "--auth-method", "private_key_jwt"),
        *("--jwks-file", str(keys.jwks)),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
    )


def clients() -> dict[str, dict[str, str]]:
    known: dict[str, dict[str, str]] = (
        json.loads(CLIENTS_FILE.read_text()) if CLIENTS_FILE.exists() else {}
    )
    for name, spec in SERVICES.items():
        if name not in known:
            known[name] = register(name, spec)
    if "financing" not in known:
        known["financing"] = register_financing(ensure_keys(FINANCING_KEYS))
    CLIENTS_FILE.write_text(json.dumps(known, indent=2))
    return known


def serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    target = f"yihao_examples.{app}:create_app()"
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4", target],
        env=env,
    )


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def main() -> None:
    idp("db", "upgrade")
    pki = idp("certs", "init")
    seeded = idp("demo", "seed")
    known = clients()
    provider = subprocess.Popen([str(BIN / "idp"), "serve", "--port", "5000"])
    wait_for(ISSUER + "/.well-known/openid-configuration")
    base = {k: v for k, v in os.environ.items() if not k.startswith("YIHAO_")}
    processes = [provider]
    for name, spec in SERVICES.items():
        env = {
            **base,
            "YIHAO_ISSUER": ISSUER,
            "YIHAO_CLIENT_ID": known[name]["client_id"],
            "YIHAO_CLIENT_SECRET": known[name]["client_secret"],
        }
        processes.append(serve(name, int(spec["port"]), env))
    counter_env = {
        **base,
        "YIHAO_ISSUER": ISSUER,
        "YIHAO_ROOT_PEM": str(Path(pki["certs_dir"]) / "root-ca.pem"),
        "EXAMPLE_COUNTER_CACHE": str(Path("instance") / "counter-trust.json"),
    }
    processes.append(serve("counter", COUNTER_PORT, counter_env))
    keys = ensure_keys(FINANCING_KEYS)
    financing_env = {
        **counter_env,
        "YIHAO_CLIENT_ID": known["financing"]["client_id"],
        "YIHAO_CLIENT_PRIVATE_KEY_FILE": str(keys.client_key),
        "YIHAO_DPOP_KEY_FILE": str(keys.dpop_key),
        "YIHAO_PUSHED_AUTHORIZATION_REQUESTS": "1",
        "EXAMPLE_FINANCING_CACHE": str(Path("instance") / "financing-trust.json"),
    }
    processes.append(serve("financing", FINANCING_PORT, financing_env))
    print(f"provider   {ISSUER}   (wallet: {ISSUER}/wallet)")
    print(f"citizens   {', '.join(seeded['citizens'])}   password {seeded['password']}")
    for name, spec in SERVICES.items():
        print(f"{name:<10} http://127.0.0.1:{spec['port']}/")
    print(f"counter    http://127.0.0.1:{COUNTER_PORT}/   (verifies offline)")
    print(
        f"financing  http://127.0.0.1:{FINANCING_PORT}/   (FAPI 2.0; enterprise"
        f" {seeded['enterprise']}, sign in as its representative {ENTERPRISE_REPRESENTATIVE})"
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
