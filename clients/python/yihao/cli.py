"""``yihao-verify``: check one presentation QR code from a terminal or a counter script.

Exit status 0 means valid, 1 not valid and 2 that nothing was verified (bad arguments, an
unreadable root or cache, a trust list that could not be fetched or older than the cached one),
so a script can tell "the citizen's code is bad" from "this counter is misconfigured".

A counter script runs the command once per scan, so the verifier's memory lives in ``--cache``:
the trust list and status lists, and the presentations accepted in the last two minutes, so a
code shown twice is refused the second time. Runs on one file are serialised by a lock beside it,
and the file is replaced whole (write a temporary file, then rename), so a crash or a second
counter window never leaves half a cache or loses an accepted presentation.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import requests

from yihao.trust import TrustAnchors
from yihao.verifier import Result, Verifier
from yihao.wire.errors import FormatError
from yihao.wire.fields import BY_NAME

PROG = "yihao-verify"
#: A forged credential can carry an integer too long for Python to print (over 4,300 digits);
#: no real field value comes near this many bits.
_MAX_SHOWN_BITS = 256


class _UsageError(Exception):
    """Nothing was verified; the message is the one line shown on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; a counter script logs one line.
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Verify a Yihao e-certificate QR code offline.")
    parser.add_argument("--root", required=True, type=Path, help="pinned root CA (PEM)")
    parser.add_argument("--trust", metavar="URL", help="fetch the trust list from this URL first")
    parser.add_argument("--cache", type=Path, metavar="FILE", help="verifier cache (JSON)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("input", metavar="INPUT", help="an image file, or else the QR text")
    return parser


def _anchors(path: Path) -> TrustAnchors:
    try:
        return TrustAnchors.from_pem(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise _UsageError(f"cannot read root {path}: {exc}") from None


@contextlib.contextmanager
def _locked(cache: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on ``FILE.lock`` while a run reads and rewrites the cache."""
    if cache is None:
        yield
        return
    try:
        handle = open(cache.with_name(cache.name + ".lock"), "a")  # noqa: SIM115
    except OSError as exc:
        raise _UsageError(f"cannot lock cache {cache}: {exc}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _load(verifier: Verifier, trust: str | None, cache: Path | None) -> None:
    if trust is None and cache is None:
        raise _UsageError("give --trust URL or --cache FILE")
    if cache is not None and (trust is None or cache.exists()):
        # Read even when refreshing: the held sequence refuses an older list, and the replay
        # memory carries over.
        try:
            verifier.import_cache(json.loads(cache.read_text(encoding="utf-8")))
        except (OSError, ValueError, FormatError) as exc:
            raise _UsageError(f"cannot load cache {cache}: {exc}") from None
    if trust is not None:
        try:
            verifier.refresh(trust)
        except (requests.RequestException, ValueError) as exc:
            raise _UsageError(f"cannot fetch the trust list from {trust}: {exc}") from None


def _save(verifier: Verifier, cache: Path) -> None:
    """Replace the cache atomically: readers see the old file or the new one, never a mix."""
    data = json.dumps(verifier.export_cache())
    try:
        fd, temporary = tempfile.mkstemp(dir=cache.parent, prefix=cache.name + ".")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, cache)
    except OSError as exc:
        raise _UsageError(f"cannot write cache {cache}: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > _MAX_SHOWN_BITS:
        return None
    return value


def _shown(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "-" if value is None else str(value)


def as_json(result: Result) -> dict[str, Any]:
    """The result with enums as their names, in a form ``json.dumps`` always accepts."""
    return {
        "valid": result.valid,
        "failures": [f.value for f in result.failures],
        "details": list(result.details),
        "fields": {name: _plain(value) for name, value in result.fields.items()}
        if result.valid
        else {},
        "type": None if result.type is None else result.type.name.lower(),
        "profile": result.profile,
        "profile_name": result.profile_name,
        "issuer": result.issuer,
        "serial": _plain(result.serial),
        "version": _plain(result.version),
        "identifier": result.identifier,
        "step": _plain(result.step),
        "expires": _plain(result.expires),
    }


def _text(result: Result) -> str:
    lines = ["VALID" if result.valid else "NOT VALID"]
    lines += [f"{f.value}: {d}" for f, d in zip(result.failures, result.details, strict=True)]
    if result.valid:  # an invalid certificate's name and number are nobody's word: never shown
        lines += [f"{BY_NAME[n].label_en}: {_shown(v)}" for n, v in result.fields.items()]
    return "\n".join(lines)


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    verifier = Verifier(_anchors(args.root))
    with _locked(args.cache):
        _load(verifier, args.trust, args.cache)
        # os.path.isfile, unlike Path.is_file, is False (not an error) for text too long for a name.
        is_image = os.path.isfile(args.input)
        result = verifier.verify_image(args.input) if is_image else verifier.verify(args.input)
        if args.cache is not None:
            _save(verifier, args.cache)
    print(json.dumps(as_json(result), ensure_ascii=False) if args.json else _text(result))
    return 0 if result.valid else 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except _UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
