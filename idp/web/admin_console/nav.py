"""The console's areas, each shown to an operator whose roles allow its first permission."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from idp.admin.roles import PERMISSIONS, Operator, Permission


@dataclass(frozen=True)
class Area:
    endpoint: str
    label: LazyString
    permission: Permission


#: In the order the navigation shows them; a page module adds its area here when it exists.
AREAS: list[Area] = [
    Area("admin_console.clients_page", _l("Services"), Permission.CLIENTS_READ),
    Area("admin_console.people_page", _l("People and enterprises"), Permission.SUBJECTS_READ),
    Area("admin_console.certificates_page", _l("E-certificates"), Permission.CERTIFICATES_READ),
    Area("admin_console.keys_page", _l("Keys"), Permission.KEYS),
    Area("admin_console.imports_page", _l("Registry imports"), Permission.IMPORTS),
    Area("admin_console.operators_page", _l("Operators"), Permission.OPERATORS),
    Area("admin_console.audit_page", _l("Audit"), Permission.AUDIT_READ),
]


@dataclass(frozen=True)
class Link:
    url: str
    label: str


def allowed(operator: Operator, permission: Permission) -> bool:
    return any(permission in PERMISSIONS[role] for role in operator.roles)


def areas_for(operator: Operator) -> list[Link]:
    return [
        Link(url_for(a.endpoint), str(a.label)) for a in AREAS if allowed(operator, a.permission)
    ]
