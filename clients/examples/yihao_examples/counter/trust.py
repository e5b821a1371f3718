"""The counter's trust: a pinned root, and lists refreshed while online and kept on disk.

Verification never touches the network. A refresh runs at start and then every few minutes in
the background; when the network is down it fails quietly and the cached lists keep serving
until their ttl runs out, after which verdicts say "status unknown" rather than "valid".
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import requests
from yihao.trust import TrustAnchors
from yihao.verifier import Verifier

log = logging.getLogger(__name__)


class CounterTrust:
    def __init__(self, root_pem: Path, trust_url: str, cache_file: Path) -> None:
        self.verifier = Verifier(TrustAnchors.from_pem(root_pem.read_bytes()))
        self.trust_url = trust_url
        self.cache_file = cache_file
        self.refreshed_at: float | None = None
        if cache_file.exists():
            self.verifier.import_cache(json.loads(cache_file.read_text()))
            self.refreshed_at = cache_file.stat().st_mtime

    def refresh(self) -> bool:
        """Fetch the trust list and status lists; False (and the old cache kept) when offline."""
        try:
            self.verifier.refresh(self.trust_url)
        except (requests.RequestException, ValueError) as exc:
            log.warning("trust refresh failed, staying on the cache: %s", exc)
            return False
        self.cache_file.write_text(json.dumps(self.verifier.export_cache()))
        self.refreshed_at = time.time()
        return True

    def refresh_every(self, seconds: float) -> threading.Thread:
        def loop() -> None:
            while True:
                time.sleep(seconds)
                self.refresh()

        thread = threading.Thread(target=loop, name="trust-refresh", daemon=True)
        thread.start()
        return thread
