"""The platform's key files: a signing key for ``private_key_jwt`` (its public half registered
with ``idp client add --jwks-file``) and a separate DPoP key its tokens are bound to.

Two keys, not one: the client key proves who the platform is to the token endpoint, the DPoP
key who may use a token; rotating one must not invalidate the other. The private files are
written readable by the owner only and belong under ``instance/``, never in version control.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import ECKey


@dataclass(frozen=True)
class KeyFiles:
    client_key: Path
    jwks: Path
    dpop_key: Path


def ensure_keys(folder: Path, kid: str = "financing-1") -> KeyFiles:
    """The key files in ``folder``, made on first use and kept afterwards (a new client key
    would need a new registration, a new DPoP key would strand the stored tokens)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = KeyFiles(folder / "client-key.jwk", folder / "jwks.json", folder / "dpop-key.jwk")
    if not files.client_key.exists():
        key = ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)
        _write_private(files.client_key, json.dumps(key.as_dict(private=True)))
        files.jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    if not files.dpop_key.exists():
        dpop = ECKey.generate_key("P-256", private=True)
        _write_private(files.dpop_key, json.dumps(dpop.as_dict(private=True)))
    return files


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
