"""Operators, their roles, and which role may do what: the one table of admin permissions.

Separation of duties: the ``admin`` approves personal scopes and changes keys, but only an
``auditor`` reads the record of what admins did; ``support`` answers citizens' calls; a
``client-manager`` onboards relying services and cannot give them personal data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Concatenate, Literal, ParamSpec, TypeVar

from idp.admin.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    CLIENT_MANAGER = "client-manager"
    SUPPORT = "support"
    AUDITOR = "auditor"


class Permission(StrEnum):
    CLIENTS_READ = "clients.read"
    CLIENTS_WRITE = "clients.write"  # register, edit, rotate the secret, disable
    CLIENTS_APPROVE = "clients.approve"  # give a client a personal scope
    INITIAL_ACCESS_TOKENS = (
        "clients.initial_access_tokens"  # RFC 7591 3: open the self-service door
    )
    EXCHANGE_POLICIES = "clients.exchange"  # RFC 8693: let a client act onward for people
    SUBJECTS_READ = "subjects.read"
    SUBJECTS_WRITE = "subjects.write"  # disable, re-enable, reset factors
    REPRESENTATIVE = "subjects.representative"  # change an enterprise's legal representative
    CERTIFICATES_READ = "certificates.read"
    CERTIFICATES_REVOKE = "certificates.revoke"
    KEYS = "keys"  # read and rotate token and issuer keys
    IMPORTS = "imports"  # registry CSV uploads
    OPERATORS = "operators"  # grant and withdraw roles
    AUDIT_READ = "audit.read"


_CLIENT_MANAGER = frozenset(
    {Permission.CLIENTS_READ, Permission.CLIENTS_WRITE, Permission.INITIAL_ACCESS_TOKENS}
)
_SUPPORT = frozenset(
    {
        Permission.SUBJECTS_READ,
        Permission.SUBJECTS_WRITE,
        Permission.CERTIFICATES_READ,
        Permission.CERTIFICATES_REVOKE,
    }
)

#: Who may do what. Nobody but an auditor reads the audit, an admin included.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission) - {Permission.AUDIT_READ},
    Role.CLIENT_MANAGER: _CLIENT_MANAGER,
    Role.SUPPORT: _SUPPORT,
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
}

#: The scope a client-credentials token needs to act in a role ("admin:support", ...).
SCOPE_PREFIX = "admin:"
ROLE_SCOPES: dict[str, Role] = {SCOPE_PREFIX + role.value: role for role in Role}

ActorKind = Literal["person", "client", "cli"]


@dataclass(frozen=True)
class Operator:
    """Who is acting: an operator signed in (``id`` their public id, ``label`` their masked
    number), a client with an admin-scoped token (both its client id), or the shell."""

    kind: ActorKind
    id: str
    label: str
    roles: frozenset[Role]

    def may(self, permission: Permission) -> bool:
        return any(permission in PERMISSIONS[role] for role in self.roles)


#: The operator command line: whoever can run ``idp`` on a server holds every key already.
CLI = Operator("cli", "cli", "cli", frozenset(Role))

P = ParamSpec("P")
R = TypeVar("R")


def needs(
    permission: Permission,
) -> Callable[[Callable[Concatenate[Operator, P], R]], Callable[Concatenate[Operator, P], R]]:
    """Mark an admin function with the permission it needs, and check it on every call; the
    admin API reads the mark (``permission``) to document and check it before the body."""

    def mark(
        function: Callable[Concatenate[Operator, P], R],
    ) -> Callable[Concatenate[Operator, P], R]:
        @functools.wraps(function)
        def checked(operator: Operator, /, *args: P.args, **kwargs: P.kwargs) -> R:
            require(operator, permission)
            return function(operator, *args, **kwargs)

        checked.permission = permission  # type: ignore[attr-defined]
        return checked

    return mark


def require(operator: Operator, permission: Permission) -> None:
    if not operator.may(permission):
        roles = ", ".join(sorted(r.value for r, p in PERMISSIONS.items() if permission in p))
        raise Forbidden(f"this needs the {permission.value} permission (roles: {roles})")


def permission_of(function: Callable[..., object]) -> Permission:
    """The permission an admin function was marked with (``needs``)."""
    permission: Permission = function.permission  # type: ignore[attr-defined]
    return permission
