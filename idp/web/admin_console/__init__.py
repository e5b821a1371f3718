"""The admin console under ``/admin``: server-rendered pages over the task functions of
``idp.admin``, the same ones the admin API calls, so the two cannot differ in what they allow.

One module per area; each page is a ``console_page`` (a fresh two-factor sign-in and an
operator role, ``access.py``) and every form posts, runs one task and redirects back.
"""

from __future__ import annotations

from flask import Flask

from idp.web.admin_console import (
    access,
    audit,
    certificates,
    clients,
    exchange,
    home,
    imports,
    keys,
    operators,
    people,
)
from idp.web.admin_console.blueprint import bp
from idp.web.labels import profile_label, revocation_reason_label, role_label, scope_label

#: Imported for the routes they declare on ``bp``.
PAGES = (access, home, clients, exchange, people, certificates, keys, imports, operators, audit)


def init_admin_console(app: Flask) -> None:
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(scope_label, "scope_label")
    app.add_template_filter(revocation_reason_label, "revocation_reason_label")
    app.add_template_filter(profile_label, "profile_label")
    app.register_blueprint(bp)
