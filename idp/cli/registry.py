"""Source registries: loading the exports that certificates draw their data from."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from idp.admin.imports import import_registry
from idp.admin.roles import CLI
from idp.cli.base import app_context, json_option, main, operator_command
from idp.credentials.registries import KINDS

#: Exit status when some rows were rejected and the rest loaded (2 is kept for file-level errors).
SOME_REJECTED = 1


@main.group("registry")
def registry_group() -> None:
    """Source registries (population, real estate, market regulation)."""


@registry_group.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)), metavar="KIND")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@operator_command
def registry_import(kind: str, file: Path, as_json: bool) -> None:
    """Load a CSV export of registry KIND; each row is written or rejected on its own.

    Exit status 0: every row loaded; 1: some rows were rejected (listed by line), the rest loaded;
    2: the file could not be imported at all and nothing was written.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {file}: {exc.strerror or exc}") from None
    with app_context():
        report = import_registry(CLI, kind, data, str(file))
    _print(report, as_json)
    if report["rejected"]:
        sys.exit(SOME_REJECTED)


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for name in ("kind", "created", "updated", "unchanged"):
        click.echo(f"{name}: {report[name]}")
    click.echo(f"rejected: {len(report['rejected'])}")
    for rejected in report["rejected"]:
        click.echo(f"line {rejected['line']}: {rejected['reason']}")
