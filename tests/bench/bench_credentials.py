"""E-certificate benchmark: QR size of every purpose profile, and offline verification speed.

Part of ``make bench`` (tests/bench/run.py; never of the test suite), or on its own with
``python -m tests.bench.bench_credentials``. Sizes are exact and machine-independent; rates
are measured on one core of this machine, next to the raw ES256 verify rate of the same core,
because a presentation costs two ECDSA verifications (issuer and holder) and the rest is ours.
Results go to stdout and to tests/bench/results/credentials.json.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import zxingcpp  # noqa: F401  (fail early if the image reader is missing)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from yihao import qr
from yihao.holder import Holder
from yihao.trust import TrustAnchors, key_id
from yihao.verifier import Verifier
from yihao.wire import base45
from yihao.wire.credential import CredentialClaims, StatusRef, sign_credential
from yihao.wire.qrtext import PREFIX, from_text
from yihao.wire.status_list import StatusListToken, encode_token, pack
from yihao.wire.trust_list import encode_trust_list

from idp.config import DEFAULT_ISSUER_CODE
from idp.credentials.catalogue import DEFAULT_CATALOGUE
from idp.credentials.profiles import load_catalogue
from idp.keys.pki import generate_root, issue_issuer_certificate, issue_trust_list_certificate

RESULTS = Path(__file__).parent / "results"
ISSUER_URL = "https://id.example.gov.cn"
LIST_SIZE = 1 << 17

#: One realistic record per certificate type (JSON forms of yihao.wire.fields).
SAMPLES: dict[str, dict[str, Any]] = {
    "id_card": {
        "name": "欧阳明月",
        "sex": 2,
        "ethnicity": "汉",
        "birth_date": "1991-01-01",
        "address": "广东省广州市天河区体育西路191号中石化大厦B塔2801房",
        "id_number": "11010519491231002X",
        "issuing_authority": "广州市公安局天河分局",
        "valid_from": "2016-03-15",
        "valid_until": "2036-03-15",
        "over_18": True,
    },
    "household": {
        "name": "陈小宇",
        "sex": 1,
        "ethnicity": "汉",
        "birth_date": "2014-10-05",
        "id_number": "44011320141005001X",
        "household_number": "440113012345",
        "relation": "子",
        "household_address": "广东省广州市番禺区市桥街道富华中路2号3栋1201",
    },
    "property": {
        "property_unit_number": "440113001002GB00123F00010012",
        "certificate_number": "粤(2024)广州市不动产权第0123456号",
        "location": "番禺区市桥街道富华中路2号3栋1201房",
        "area": "89.5",
        "usage": "住宅",
        "owners": ["李明", "王秀英"],
        "mortgaged": False,
    },
    "business_licence": {
        "uscc": "91110000600037341L",
        "enterprise_name": "北京一号通行科技有限公司",
        "enterprise_type": "有限责任公司(自然人投资或控股)",
        "legal_representative": "李明",
        "registered_capital": 10_000_000,
        "established": "2015-06-18",
        "address": "北京市海淀区中关村大街1号",
        "business_status": "存续(在营、开业、在册)",
    },
    "social_insurance": {
        "id_number": "360426199101010071",
        "name": "李明",
        "period": "2026-10",
        "employer_uscc": "91110000600037341L",
        "insurance_types": ["养老保险", "医疗保险", "失业保险", "工伤保险", "生育保险"],
        "contribution_base": "8500",
        "contribution_amount": "2992.5",
    },
    "social_insurance_unit": {
        "uscc": "91110000600037341L",
        "enterprise_name": "北京一号通行科技有限公司",
        "period": "2026-10",
        "insured_headcount": 12,
        "contribution_amount": "33176.5",
    },
}


class Pki:
    def __init__(self) -> None:
        root_key, self.root = generate_root("Bench root")
        self.key = ec.generate_private_key(ec.SECP256R1())
        cert = issue_issuer_certificate(
            root_key,
            self.root,
            self.key.public_key(),
            name="Bench issuer",
            issuer_code=DEFAULT_ISSUER_CODE,
            issuer_url=ISSUER_URL,
            valid_days=30,
            not_before=datetime.now(UTC) - timedelta(days=1),
        )
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.kid = key_id(self.der)
        self.trust_key = ec.generate_private_key(ec.SECP256R1())
        trust_cert = issue_trust_list_certificate(
            root_key,
            self.root,
            self.trust_key.public_key(),
            name="Bench trust list",
            issuer_code=DEFAULT_ISSUER_CODE,
            issuer_url=ISSUER_URL,
            valid_days=30,
            not_before=datetime.now(UTC) - timedelta(days=1),
        )
        self.trust_der = trust_cert.public_bytes(serialization.Encoding.DER)

    def credential(self, holder: Holder, profile: Any, serial: int, now: int) -> bytes:
        fields = {f: SAMPLES[profile.type.name.lower()][f] for f in profile.fields}
        claims = CredentialClaims(
            type=profile.type,
            profile=profile.id,
            serial=serial,
            version=1,
            not_before=now,
            expires=now + 7 * 86400,
            holder_key=holder.public_point,
            status=StatusRef(LIST_SIZE - 1 - serial % 1000, "sl/1"),
            fields=fields,
        )
        return sign_credential(claims, self.kid, self.key)

    def verifier(self, catalogue: Any, now: int) -> Verifier:
        verifier = Verifier(TrustAnchors([self.root]), cache_size=1 << 16, clock=lambda: float(now))
        document = {
            "issuer": ISSUER_URL,
            "roots": [],
            "issuer_certificates": [_b64(self.der)],
            "status_lists": [ISSUER_URL + "/sl/1"],
            **catalogue.published(),
            "issued_at": now,
            "sequence": 1,
        }
        trust_kid = key_id(self.trust_der)
        verifier.load_trust_list(
            encode_trust_list(document, trust_kid, self.trust_der, self.trust_key)
        )
        token = StatusListToken(ISSUER_URL + "/sl/1", now, now + 86400, 3600, pack([], LIST_SIZE))
        verifier.load_status_list(encode_token(token, self.kid, self.key))
        return verifier


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sizes(pki: Pki, catalogue: Any, now: int) -> list[dict[str, Any]]:
    rows = []
    holder = Holder()
    for profile in sorted(catalogue.profiles.values(), key=lambda p: p.id):
        credential = pki.credential(holder, profile, serial=123_456, now=now)
        text = holder.present(credential, now)
        body = from_text(text)
        rows.append(
            {
                "profile": profile.name,
                "credential_bytes": len(credential),
                "presentation_bytes": len(body),
                "qr_chars": len(text),
                "zlib": base45.decode(text[len(PREFIX) :])[:1] == b"\x78",
                "qr_version_m": qr.version_of(text),
            }
        )
    return rows


def per_second(items: list[Any], work: Callable[[Any], object]) -> float:
    """One pass over distinct inputs, one thread: no input is seen twice, no cache flatters it."""
    started = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - started)


def speeds(pki: Pki, catalogue: Any, now: int, count: int = 4000) -> dict[str, float]:
    profile = catalogue.profile_named("id_card.housing_fund")
    pairs = []
    for serial in range(count):
        holder = Holder()
        pairs.append((holder, pki.credential(holder, profile, serial, now)))
    first = [h.present(c, now) for h, c in pairs]
    later = [h.present(c, now + 30) for h, c in pairs]  # the same codes re-rendered a step later
    message = b"x" * 180
    signatures = [
        pki.key.sign(message + bytes([i % 256]), ec.ECDSA(hashes.SHA256())) for i in range(count)
    ]
    public = pki.key.public_key()
    raw = per_second(
        list(enumerate(signatures)),
        lambda p: public.verify(p[1], message + bytes([p[0] % 256]), ec.ECDSA(hashes.SHA256())),
    )
    verifier = pki.verifier(catalogue, now)
    fresh = per_second(first, lambda text: _require_valid(verifier.verify(text)))
    seen = per_second(later, lambda text: _require_valid(verifier.verify(text)))
    return {
        "raw_es256_verify_per_s": raw,
        "verify_new_credential_per_s": fresh,
        "verify_seen_credential_per_s": seen,
        "new_vs_raw": fresh / raw,
        "seen_vs_raw": seen / raw,
    }


def _require_valid(result: Any) -> None:
    if not result.valid:
        raise SystemExit(f"benchmark presentation did not verify: {result.details}")


def measure(count: int = 4000) -> dict[str, Any]:
    """Every profile's sizes and the verification rates, on the calling thread's core."""
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    pki, now = Pki(), int(time.time())
    return {"sizes": sizes(pki, catalogue, now), "speed": speeds(pki, catalogue, now, count)}


def print_sizes(rows: list[dict[str, Any]]) -> None:
    print(f"{'profile':30} {'cred B':>7} {'pres B':>7} {'chars':>6} {'zlib':>5} {'QR@M':>5}")
    for row in rows:
        print(
            f"{row['profile']:30} {row['credential_bytes']:7} {row['presentation_bytes']:7} "
            f"{row['qr_chars']:6} {row['zlib']!s:>5} {row['qr_version_m']:5}"
        )


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    report = measure()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "credentials.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_sizes(report["sizes"])
    for key, value in report["speed"].items():
        print(f"{key:32} {value:10.2f}")


if __name__ == "__main__":
    main()
