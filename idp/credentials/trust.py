"""The trust list verifiers download while online (docs/formats.md "Trust list").

It is not signed: every issuer certificate in it is checked against the root the verifier pins,
so a tampered list can only withhold certificates, never add a trusted one. The roots are listed
for convenience; a verifier must not take its pin from here.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from idp.credentials.status import list_uri
from idp.keys.pki import load_root_certificate
from idp.services import Services
from idp.store.db import db
from idp.store.models import StatusList


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def trust_document(svc: Services) -> dict[str, Any]:
    root = load_root_certificate(svc.settings.certs_dir)
    lists = db.session.scalars(select(StatusList.id).order_by(StatusList.id))
    return {
        "issuer": svc.settings.issuer,
        "roots": [_b64(root.public_bytes(Encoding.DER))] if root else [],
        "issuer_certificates": [_b64(der) for der in svc.issuer.published()],
        "status_lists": [list_uri(svc, n) for n in lists],
        **svc.catalogue.published(),
        "issued_at": int(time.time()),
    }
