"""Regenerate docs/formats.md's test vectors: ``python make_vectors.py`` prints the section.

Run once when the format changes, paste the output over the section from "Root certificate" to
the end, and review the diff; ``test_vectors.py`` then checks every block byte for byte. The
issuer and holder keys are the published test keys; the root is made fresh and its private key
thrown away, as a real root's would be kept away.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from test_vectors import CATALOGUE, TIME, documented_claims
from yihao.holder import Holder
from yihao.pki import generate_root, issue_issuer_certificate, issue_trust_list_certificate
from yihao.trust import key_id
from yihao.wire.credential import encode_claims, sign_credential
from yihao.wire.presentation import time_step
from yihao.wire.qrtext import to_text
from yihao.wire.status_list import StatusListToken, encode_token, pack
from yihao.wire.trust_list import encode_trust_list

ISSUER_D = "2772a2afa121b3df9ca058e8858a6d05e70eba456c30e4dc9ad9bc11ff407ae4"
HOLDER_D = "8502ce98ee6b060f9fafdfbf9d20082cdfaacdc935a2ad4ecd1bcb10e26d0abd"
TRUST_D = "5d1c0e4b7a2f69830c4e1f8a2b6d7390e5a4c3b2d1f0e9a8b7c6d5e4f3a2b1c0"
ISSUER_URL = "https://id.example.gov.cn"
ISSUER_CODE = "11440000MB2D00014P"


def _key(d: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(d, 16), ec.SECP256R1())


def _block(name: str, text: str, lang: str = "text") -> str:
    return f"<!-- vector:{name} -->\n```{lang}\n{text.strip()}\n```\n"


def _hex(data: bytes) -> str:
    h = data.hex()
    return "\n".join(h[i : i + 64] for i in range(0, len(h), 64))


def main() -> None:
    moment = datetime.fromtimestamp(TIME, UTC)
    root_key, root = generate_root("Yihao test-vector root", not_before=moment - timedelta(days=3))
    issuer_key, trust_key, holder = _key(ISSUER_D), _key(TRUST_D), Holder(_key(HOLDER_D))
    profile = {"issuer_code": ISSUER_CODE, "issuer_url": ISSUER_URL, "valid_days": 3000}
    start = moment - timedelta(days=1)
    issuer = issue_issuer_certificate(
        root_key,
        root,
        issuer_key.public_key(),
        name="Yihao test-vector issuer",
        not_before=start,
        **profile,
    )
    signer = issue_trust_list_certificate(
        root_key,
        root,
        trust_key.public_key(),
        name="Yihao test-vector trust list",
        not_before=start,
        **profile,
    )
    issuer_der, signer_der = issuer.public_bytes(Encoding.DER), signer.public_bytes(Encoding.DER)
    kid = key_id(issuer_der)
    claims = documented_claims(holder)
    credential = sign_credential(claims, kid, issuer_key)
    presentation = holder.presentation(credential, time_step(TIME))
    token = StatusListToken(ISSUER_URL + "/sl/1", TIME, TIME + 86400, 3600, pack([3, 4711], 8192))
    document = {
        "issuer": ISSUER_URL,
        "roots": [],
        "issuer_certificates": [base64.b64encode(issuer_der).decode()],
        "status_lists": [ISSUER_URL + "/sl/1"],
        **CATALOGUE,
        "issued_at": TIME,
        "sequence": 7,
    }
    pem = Encoding.PEM
    print(_block("root-certificate", root.public_bytes(pem).decode()))
    print(_block("issuer-certificate", issuer.public_bytes(pem).decode()))
    print(_block("trust-list-certificate", signer.public_bytes(pem).decode()))
    print(_block("kid", kid.hex()))
    print(_block("claims", _hex(encode_claims(claims))))
    print(_block("credential", _hex(credential)))
    print(_block("step", str(time_step(TIME))))
    print(_block("presentation", _hex(presentation)))
    print(_block("qr-text", to_text(presentation)))
    print(_block("status-list-token", _hex(encode_token(token, kid, issuer_key))))
    trust = encode_trust_list(document, key_id(signer_der), signer_der, trust_key)
    print(_block("trust-list", _hex(trust)))


if __name__ == "__main__":
    main()
