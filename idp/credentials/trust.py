"""The trust list verifiers download while online (docs/formats.md "Trust").

Signed by the trust-list key (a certificate under the root with the trust-list purpose), so the
root itself can stay offline, and numbered by a sequence that only grows: a verifier refuses a
list older than the one it holds, so replaying an old list cannot bring back a withdrawn issuer
certificate. The sequence lives in the database and moves only when the content (everything but
``issued_at``) changes, so every node signs the same number for the same content. The roots are
listed for convenience; a verifier must not take its pin from here.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from yihao.wire.trust_list import canonical_json, encode_trust_list

from idp.credentials.status import list_uri
from idp.keys.pki import load_root_certificate
from idp.services import Services
from idp.store.db import db
from idp.store.models import StatusList, TrustListVersion

#: Two nodes racing for the next number: the loser re-reads; more rounds mean more changes at
#: once than any operator makes.
_ATTEMPTS = 5


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _content(svc: Services) -> dict[str, Any]:
    root = load_root_certificate(svc.settings.certs_dir)
    lists = db.session.scalars(select(StatusList.id).order_by(StatusList.id))
    return {
        "issuer": svc.settings.issuer,
        "roots": [_b64(root.public_bytes(Encoding.DER))] if root else [],
        "issuer_certificates": [_b64(der) for der in svc.issuer.published()],
        "status_lists": [list_uri(svc, n) for n in lists],
        **svc.catalogue.published(),
    }


def sequence_for(content: dict[str, Any]) -> int:
    """The content's sequence number: the latest one if unchanged, else the next one."""
    digest = hashlib.sha256(canonical_json(content)).hexdigest()
    for _ in range(_ATTEMPTS):
        latest = db.session.scalar(
            select(TrustListVersion).order_by(TrustListVersion.sequence.desc()).limit(1)
        )
        if latest is not None and latest.digest == digest:
            return int(latest.sequence)
        following = 1 if latest is None else int(latest.sequence) + 1
        db.session.add(TrustListVersion(sequence=following, digest=digest))
        try:
            db.session.commit()
        except IntegrityError:  # another node took the number first: read what it wrote
            db.session.rollback()
            continue
        return following
    raise RuntimeError("the trust list sequence is changing faster than it can be read")


def trust_document(svc: Services) -> dict[str, Any]:
    content = _content(svc)
    return {**content, "sequence": sequence_for(content), "issued_at": int(time.time())}


def signed_trust_list(svc: Services) -> bytes:
    """The trust list as served: the document signed by the trust-list key."""
    signer = svc.trust_signer.signer()
    der = signer.certificate.public_bytes(Encoding.DER)
    return encode_trust_list(trust_document(svc), signer.kid, der, signer.private_key)
