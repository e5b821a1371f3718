"""The admin API under ``/admin/api``: JSON over the task functions of ``idp.admin``.

Each route is declared once with ``operations.operation`` (method, path, the task it calls, its
schemas), which registers the Flask view and the OpenAPI 3.1 operation together, so the
description served at ``/admin/api/openapi.json`` cannot drift from the routes.
"""

from __future__ import annotations

from flask import Flask

from idp.web.admin_api import (
    audit,
    certificates,
    clients,
    exchange,
    imports,
    keys,
    openapi,
    operators,
    problems,
    subjects,
)
from idp.web.admin_api.operations import bp

#: The modules declaring operations, one per area; importing them declares their routes.
AREAS = (operators, clients, exchange, subjects, certificates, keys, imports, audit)
#: Imported for the routes and handlers they declare on ``bp``.
DECLARING = (openapi, problems, *AREAS)


def init_admin_api(app: Flask) -> None:
    """Register the API; callers authenticate with a bearer token or a CSRF-checked session
    (``auth.py``), so Flask-WTF's form check is not applied to the blueprint as a whole."""
    app.extensions["csrf"].exempt(bp)
    app.register_blueprint(bp)
