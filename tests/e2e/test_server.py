"""``idp serve`` as production runs it: a worker that dies is replaced, the node keeps serving."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from tests.e2e.conftest import DISCOVERY_PATH, HTTP_TIMEOUT, Provider, serving
from tests.support.processes import children, free_port

#: Granian waits ~3.5 s before respawning; this bounds the whole wait.
RESPAWN_TIMEOUT = 20.0


def test_a_killed_worker_is_replaced_and_the_node_keeps_serving(
    provider: Provider, tmp_path: Path
) -> None:
    with serving(provider.env, free_port(), tmp_path / "server.log", workers=2) as node:
        before = children(node.process.pid)
        assert len(before) == 2, before
        victim = min(before)
        os.kill(victim, signal.SIGKILL)

        deadline = time.monotonic() + RESPAWN_TIMEOUT
        after = children(node.process.pid)
        while (victim in after or len(after) < 2) and time.monotonic() < deadline:
            time.sleep(0.2)
            after = children(node.process.pid)
        assert node.process.poll() is None, "the server stopped when one worker died"
        assert victim not in after and len(after) == 2, after
        answer = requests.get(node.base_url + DISCOVERY_PATH, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200
