"""The ``idp`` command group and what every subcommand shares.

Every command takes ``--json`` for scripts. Bad input ends with one line on stderr and exit status
2, before anything is written: each command validates fully, then commits once. The configuration
is checked before any command runs, so production refuses unsafe settings the same way everywhere.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click

from idp.admin.errors import AdminError
from idp.app import create_app
from idp.config import ConfigError, load_settings
from idp.credentials.importer import ImportFileError
from idp.identifiers import InvalidIdentifier
from idp.keys.pki import RootFileError
from idp.oauth.registration import RegistrationError
from idp.store.crypto import DecryptionError
from idp.store.subjects import AlreadyRegistered

P = ParamSpec("P")
R = TypeVar("R")

#: Errors that mean "the operator's input is wrong", reported in one line with exit status 2.
USER_ERRORS = (
    AdminError,
    InvalidIdentifier,
    AlreadyRegistered,
    RegistrationError,
    ConfigError,
    ImportFileError,
    RootFileError,
    DecryptionError,  # a data key missing from IDP_DATA_KEY_FALLBACKS
    click.BadParameter,
)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def operator_command(func: Callable[P, R]) -> Callable[P, R | None]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            _fail(str(exc))
        return None

    return wrapper


def emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@contextmanager
def app_context() -> Iterator[None]:
    app = create_app()
    with app.app_context():
        yield


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


#: Commands that read no configuration: an operator fixing a refused secret needs a new one.
WITHOUT_SETTINGS = frozenset({"secret"})


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Operate the Yihao identity provider."""
    if ctx.invoked_subcommand in WITHOUT_SETTINGS:
        return
    try:
        load_settings()
    except ConfigError as exc:
        _fail(str(exc))
