"""Loading a source-registry CSV export: whole-file checks first, then one transaction per row.

A registry export is large and made by another authority, so one bad row must not block the
thousands of good ones: each row is validated and committed on its own, and a rejected row is
reported by its line number (as an editor shows it, the header being line 1) so that the
registry can correct it. Problems with the file as a whole (wrong kind, not UTF-8, missing
columns) stop the import before anything is written, because every row would fail the same way.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from idp.credentials.registries import RegistryKind, RowError, UnknownKind, parse_row, registry_kind
from idp.store.crypto import FieldCipher
from idp.store.db import db
from idp.store.registry import Outcome, upsert_record


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        if outcome == "created":
            self.created += 1
        elif outcome == "updated":
            self.updated += 1
        else:
            self.unchanged += 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Line:
    number: int
    cells: list[str]


@dataclass(frozen=True)
class _Layout:
    """Where each registry column sits in this file's header, and how wide the header is."""

    positions: dict[str, int]
    width: int


def import_csv(cipher: FieldCipher, kind: str, path: Path) -> ImportReport:
    """Upsert every valid row of ``path`` into registry ``kind``; ImportFileError for the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_bytes(cipher, kind, data, str(path))


def import_bytes(cipher: FieldCipher, kind: str, data: bytes, source: str) -> ImportReport:
    """``import_csv`` of a file's contents (an upload); ``source`` names it in messages."""
    try:
        spec = registry_kind(kind)
    except UnknownKind as exc:
        raise ImportFileError(str(exc)) from None
    lines = _read_lines(data, source)
    if not lines:
        raise ImportFileError(f"{source} is empty; expected a header line")
    layout = _layout(spec, lines[0].cells)
    report = ImportReport()
    first_seen: dict[str, int] = {}
    for line in lines[1:]:
        if not any(cell.strip() for cell in line.cells):
            continue  # blank lines, typically at the end of an export
        reason = _import_line(cipher, spec, layout, line, first_seen, report)
        if reason is not None:
            report.rejected.append(Rejected(line.number, reason))
    return report


def _read_lines(data: bytes, source: str) -> list[_Line]:
    """Parse the whole file up front, so a file-level fault is found before any row is written."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ImportFileError(f"{source} is not UTF-8 text (line {line})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[_Line] = []
    try:
        while True:
            start = reader.line_num + 1  # a quoted cell may span lines; report where a row starts
            try:
                cells = next(reader)
            except StopIteration:
                return lines
            lines.append(_Line(start, cells))
    except csv.Error as exc:
        raise ImportFileError(f"line {reader.line_num}: not valid CSV ({exc})") from None


def _layout(spec: RegistryKind, header: list[str]) -> _Layout:
    """Extra columns are ignored (exports carry more than we need); missing ones are fatal,
    except optional ones (a registry that keeps no mobile numbers)."""
    names = [name.strip() for name in header]
    missing = [column for column in spec.columns if column not in names]
    if missing:
        raise ImportFileError(f"the header lacks column(s) {', '.join(missing)} for {spec.name}")
    known = spec.columns + spec.optional_columns
    repeated = sorted({column for column in known if names.count(column) > 1})
    if repeated:
        raise ImportFileError(f"the header repeats column(s) {', '.join(repeated)}")
    present = spec.columns + tuple(c for c in spec.optional_columns if c in names)
    return _Layout({column: names.index(column) for column in present}, len(names))


def _import_line(
    cipher: FieldCipher,
    spec: RegistryKind,
    layout: _Layout,
    line: _Line,
    first_seen: dict[str, int],
    report: ImportReport,
) -> str | None:
    """Write one row and count it; the reason it was rejected, or None."""
    if len(line.cells) > layout.width:
        return f"row: has {len(line.cells)} cells but the header has {layout.width}"
    cells = {column: _cell(line.cells, i) for column, i in layout.positions.items()}
    try:
        row = parse_row(spec.name, cells)
    except RowError as exc:
        return str(exc)
    if row.key in first_seen:
        return f"{', '.join(spec.key_columns)}: duplicate of line {first_seen[row.key]}"
    first_seen[row.key] = line.number
    try:
        outcome = upsert_record(cipher, row)
        db.session.commit()
    except IntegrityError:
        # Another import wrote the same key between our read and our write.
        db.session.rollback()
        return "row: changed by another import at the same time; import the file again"
    report.count(outcome)
    return None


def _cell(cells: list[str], position: int) -> str:
    """A short row (trailing cells left off) reads as empty cells, reported per column."""
    return cells[position] if position < len(cells) else ""
