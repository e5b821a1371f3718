"""A relying party's signing key as files, the way an operator hands them to `idp client add
--jwks-file` (the public JWK set) and to the service (the private JWK)."""

from __future__ import annotations

import json
from pathlib import Path

from joserfc.jwk import ECKey


def write_client_key(folder: Path, kid: str) -> Path:
    """A new P-256 key: ``folder/jwks.json`` (public) beside the private key file returned."""
    key = ECKey.generate_key("P-256", parameters={"kid": kid})
    (folder / "jwks.json").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    path = folder / "rp-private.jwk"
    path.write_text(json.dumps(key.as_dict(private=True)))
    return path
