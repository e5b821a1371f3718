"""The ``idp`` operator command: one module per group of subcommands, registered on import."""

from idp.cli import (
    certs,
    clients,
    credentials,
    exchange,
    keys,
    operations,
    operators,
    registry,
    subjects,
)
from idp.cli.base import main

__all__ = [
    "certs",
    "clients",
    "credentials",
    "exchange",
    "keys",
    "main",
    "operations",
    "operators",
    "registry",
    "subjects",
]
