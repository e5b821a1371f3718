"""Subject identifiers (OIDC Core 8).

Pairwise by default (8.1): HMAC of the client's sector and the subject's random internal id, so two
services outside one sector cannot join their records on ``sub``, and no ``sub`` is derived from
an identity number. ``public`` subjects are the internal random id itself, for clients an operator
configured so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from idp.store.models import Client


def subject(key: bytes, client: Client, kind: str, public_id: str) -> str:
    if client.subject_type == "public":
        return f"{kind[0]}-{public_id}"
    message = f"{client.sector_identifier}\x00{kind}\x00{public_id}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
