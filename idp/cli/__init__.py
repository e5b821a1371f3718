"""The ``idp`` operator command: one module per group of subcommands, registered on import."""

from idp.cli import clients, keys, operations, subjects
from idp.cli.base import main

__all__ = ["clients", "keys", "main", "operations", "subjects"]
