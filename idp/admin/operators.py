"""Who holds which operator role: granted and withdrawn by an admin (the first, by the shell)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from idp.admin import actions
from idp.admin.errors import Conflict, Invalid
from idp.admin.roles import Operator, Permission, Role, needs
from idp.admin.subjects import person_by_id, person_by_number
from idp.store.db import db
from idp.store.models import OperatorRole, Person


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Invalid(f"role must be one of {', '.join(r.value for r in Role)}") from None


def _shown(person: Person, roles: list[str]) -> dict[str, Any]:
    return {"person": person.public_id, "id_number": person.number_masked, "roles": sorted(roles)}


@needs(Permission.OPERATORS)
def grant(operator: Operator, number: str, role: str) -> dict[str, Any]:
    """Give the person with ``number`` a role; granting one already held is a conflict."""
    chosen, person = _role(role), person_by_number(number)
    held = _roles(person.id)
    if chosen.value in held:
        raise Conflict(f"the person already holds the role {chosen.value}")
    db.session.add(OperatorRole(person_id=person.id, role=chosen.value, granted_by=operator.label))
    actions.record(
        operator,
        "operator.grant",
        "person",
        person.number_masked,
        before={"roles": sorted(held)},
        after={"roles": sorted([*held, chosen.value])},
    )
    db.session.commit()
    return _shown(person, [*held, chosen.value])


@needs(Permission.OPERATORS)
def withdraw(operator: Operator, person_id: str, role: str) -> dict[str, Any]:
    """Take a role back from the operator with public id ``person_id``."""
    chosen = _role(role)
    person = person_by_id(person_id)
    held = _roles(person.id)
    if chosen.value not in held:
        raise Conflict(f"the person does not hold the role {chosen.value}")
    db.session.execute(
        OperatorRole.__table__.delete().where(
            OperatorRole.person_id == person.id, OperatorRole.role == chosen.value
        )
    )
    remaining = sorted(set(held) - {chosen.value})
    actions.record(
        operator,
        "operator.withdraw",
        "person",
        person.number_masked,
        before={"roles": sorted(held)},
        after={"roles": remaining},
    )
    db.session.commit()
    return _shown(person, remaining)


@needs(Permission.OPERATORS)
def list_operators(operator: Operator) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Person, OperatorRole.role)
        .join(OperatorRole, OperatorRole.person_id == Person.id)
        .order_by(Person.number_masked, OperatorRole.role)
    )
    grouped: dict[int, tuple[Person, list[str]]] = {}
    for person, role in rows:
        grouped.setdefault(person.id, (person, []))[1].append(role)
    return [_shown(person, roles) for person, roles in grouped.values()]


def _roles(person_id: int) -> list[str]:
    return list(db.session.scalars(select(OperatorRole.role).filter_by(person_id=person_id)))


def roles_of(person_id: int) -> frozenset[Role]:
    """The roles a person holds (none: not an operator)."""
    return frozenset(Role(r) for r in _roles(person_id) if r in set(Role))
