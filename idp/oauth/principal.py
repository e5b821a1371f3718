"""Whom a grant is about: a person, or an enterprise with the person acting for it (its legal
representative, or an agent under a mandate)."""

from __future__ import annotations

from dataclasses import dataclass

from idp.store.db import db, utcnow
from idp.store.models import Enterprise, Mandate, Person, Token


@dataclass(frozen=True)
class Principal:
    person: Person
    enterprise: Enterprise | None = None
    auth_time: int | None = None
    session_id: str | None = None
    #: How the person signed in (RFC 8176 values, from the login session), for the code's acr/amr.
    amr: tuple[str, ...] = ()
    #: The mandate an agent acts under (``idp.oauth.delegation``); None for the representative.
    mandate: Mandate | None = None

    @property
    def enterprise_id(self) -> int | None:
        return self.enterprise.id if self.enterprise else None

    @property
    def mandate_id(self) -> int | None:
        return self.mandate.id if self.mandate else None

    @classmethod
    def load(
        cls,
        person_id: int | None,
        enterprise_id: int | None,
        auth_time: int | None = None,
        mandate_id: int | None = None,
    ) -> Principal | None:
        person = db.session.get(Person, person_id) if person_id is not None else None
        if person is None or person.disabled_at is not None:
            return None  # a disabled person's outstanding codes redeem nothing
        enterprise = (
            db.session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
        )
        mandate = db.session.get(Mandate, mandate_id) if mandate_id is not None else None
        if mandate_id is not None and (mandate is None or not mandate.is_live(utcnow())):
            return None  # the code of a mandate withdrawn or expired since redeems nothing
        return cls(person, enterprise, auth_time, mandate=mandate)

    @classmethod
    def of_token(cls, token: Token) -> Principal | None:
        """Whom a token is about, from its eagerly loaded rows; None for a client's own token."""
        if token.person is None:
            return None
        return cls(token.person, token.enterprise, mandate=token.mandate)
