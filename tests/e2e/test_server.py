"""``idp serve`` as production runs it: a worker that dies is replaced, the node keeps serving."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from tests.e2e.conftest import DISCOVERY_PATH, HTTP_TIMEOUT, Provider, serving
from tests.support.processes import free_port

#: Granian waits ~3.5 s before respawning; this bounds the whole wait.
RESPAWN_TIMEOUT = 20.0


def _workers(parent: int) -> set[int]:
    """The live child processes of ``parent``, from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            children.add(int(entry.name))
    return children


def test_a_killed_worker_is_replaced_and_the_node_keeps_serving(
    provider: Provider, tmp_path: Path
) -> None:
    with serving(provider.env, free_port(), tmp_path / "server.log", workers=2) as node:
        before = _workers(node.process.pid)
        assert len(before) == 2, before
        victim = min(before)
        os.kill(victim, signal.SIGKILL)

        deadline = time.monotonic() + RESPAWN_TIMEOUT
        after = _workers(node.process.pid)
        while (victim in after or len(after) < 2) and time.monotonic() < deadline:
            time.sleep(0.2)
            after = _workers(node.process.pid)
        assert node.process.poll() is None, "the server stopped when one worker died"
        assert victim not in after and len(after) == 2, after
        answer = requests.get(node.base_url + DISCOVERY_PATH, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200
