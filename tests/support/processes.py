"""What the end-to-end tests and the benchmark both need to run the provider as a process."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path


def idp_executable() -> str:
    """The `idp` console script of this environment (beside the running Python first)."""
    beside = Path(sys.executable).parent / "idp"
    found = str(beside) if beside.exists() else shutil.which("idp")
    if found is None:
        raise RuntimeError(
            "the idp console script is not installed: run `make test` or `make bench`"
        )
    return found


def free_port() -> int:
    """A port the kernel just handed out; free again once the socket is closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def children(parent: int) -> set[int]:
    """The live (not zombie) child processes of ``parent``, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(entry.name))
    return found
