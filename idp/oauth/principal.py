"""Whom a grant is about: a person, or an enterprise with the person acting for it."""

from __future__ import annotations

from dataclasses import dataclass

from idp.store.db import db
from idp.store.models import Enterprise, Person, Token


@dataclass(frozen=True)
class Principal:
    person: Person
    enterprise: Enterprise | None = None
    auth_time: int | None = None
    session_id: str | None = None
    #: How the person signed in (RFC 8176 values, from the login session), for the code's acr/amr.
    amr: tuple[str, ...] = ()

    @property
    def enterprise_id(self) -> int | None:
        return self.enterprise.id if self.enterprise else None

    @classmethod
    def load(
        cls, person_id: int | None, enterprise_id: int | None, auth_time: int | None = None
    ) -> Principal | None:
        person = db.session.get(Person, person_id) if person_id is not None else None
        if person is None or person.disabled_at is not None:
            return None  # a disabled person's outstanding codes redeem nothing
        enterprise = (
            db.session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
        )
        return cls(person, enterprise, auth_time)

    @classmethod
    def of_token(cls, token: Token) -> Principal | None:
        """Whom a token is about, from its eagerly loaded rows; None for a client's own token."""
        return cls(token.person, token.enterprise) if token.person is not None else None


def still_represents(token: Token) -> bool:
    """A token acting for an enterprise stays good only while its person is still the legal
    representative: the right to act came from that role, not from the person."""
    return token.enterprise is None or token.enterprise.legal_representative_id == token.person_id
