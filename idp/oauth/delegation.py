"""Agents (经办人): people other than the legal representative acting for an enterprise.

The legal representative grants a mandate on the account page: to one registered person, named
by number and name (both must match the person's record, which came from the population
registry), for some scopes, for some services or all, until a date. An agent then signs in with
their own number and chooses the enterprise as its representative does; the tokens name the
enterprise as ``sub``, the agent in ``act`` (RFC 8693 4.1) and the mandate
(``idp.oauth.claims.delegation_claims``). Withdrawing a mandate revokes every grant obtained
under it at once, through the same marker as any revoked grant (``idp.oauth.tokens``).

RFC 8693 defines only the ``act`` claim; mandates themselves are Yihao's own (docs/claims.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum

from idp.identifiers import InvalidIdentifier, parse_resident_id, same_name
from idp.oauth.tokens import revoke_grant
from idp.services import Services
from idp.store.db import db, utcnow
from idp.store.mandates import add_mandate, grant_ids_of, mandates_held, mark_withdrawn
from idp.store.models import Client, Enterprise, Mandate, Person, Token
from idp.store.subjects import find_person, read_person

#: Present in every enterprise login, so in every mandate without being offered as a choice.
IMPLIED_SCOPES = frozenset({"openid", "enterprise"})
#: What the grant form offers: the scopes an enterprise login can release beyond the enterprise's
#: identity (about the agent, in ``act``, or the enterprise's own records, ``SUBJECT_SCOPES``).
MANDATE_SCOPES = (
    "profile",
    "phone",
    "address",
    "id_number",
    "household",
    "property",
    "social_insurance",
    "business",
)
#: A mandate is valid through its last day in China Standard Time (UTC+8, no daylight saving).
CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


class GrantRefusal(StrEnum):
    NOT_REPRESENTATIVE = "not_representative"
    #: An unknown number or a name that does not match: one answer for both, as registration.
    NO_MATCH = "no_match"
    SELF = "self"
    BAD_SCOPES = "bad_scopes"
    BAD_CLIENTS = "bad_clients"
    PAST = "past"
    BAD_DATE = "bad_date"


@dataclass(frozen=True)
class Acting:
    """An enterprise a person may act for in one request, and the mandate that lets them (None:
    they are its legal representative)."""

    enterprise: Enterprise
    mandate: Mandate | None = None


def end_of_day(day: date) -> datetime:
    """The naive UTC moment ``day`` ends in China Standard Time: the stored ``valid_until``."""
    end = datetime.combine(day + timedelta(days=1), time(), CHINA_STANDARD_TIME)
    return end.astimezone(UTC).replace(tzinfo=None)


def mandate_clients() -> list[Client]:
    """The services a mandate can name: enabled, and registered for enterprise logins."""
    rows = Client.query.filter(Client.disabled_at.is_(None)).order_by(Client.name).all()
    return [c for c in rows if "enterprise" in c.scopes]


def grant_mandate(
    svc: Services,
    representative: Person,
    enterprise: Enterprise,
    number: str,
    name: str,
    scopes: Iterable[str],
    client_ids: Iterable[str] | None,
    last_day: date,
) -> Mandate | GrantRefusal:
    """A mandate from ``enterprise``'s legal representative to the person with this number and
    name; ``client_ids`` None for every service."""
    if enterprise.legal_representative_id != representative.id:
        return GrantRefusal.NOT_REPRESENTATIVE
    agent = _identified(svc, number, name)
    if agent is None:
        return GrantRefusal.NO_MATCH
    if agent.id == representative.id:
        return GrantRefusal.SELF
    chosen = set(scopes)
    if not chosen <= set(MANDATE_SCOPES):
        return GrantRefusal.BAD_SCOPES
    if client_ids is not None:
        client_ids = set(client_ids)
        if not client_ids or not client_ids <= {c.client_id for c in mandate_clients()}:
            return GrantRefusal.BAD_CLIENTS
    if last_day >= date.max:
        return GrantRefusal.BAD_DATE  # its end is past what a datetime can hold
    valid_until = end_of_day(last_day)
    if valid_until <= utcnow():
        return GrantRefusal.PAST
    return add_mandate(
        enterprise, agent, representative, chosen | IMPLIED_SCOPES, client_ids, valid_until
    )


def _identified(svc: Services, number: str, name: str) -> Person | None:
    """The registered person with this number, when ``name`` is theirs; the number is only
    looked up through the keyed index, never logged or echoed."""
    try:
        normalised = parse_resident_id(number).number
    except InvalidIdentifier:
        return None
    person = find_person(svc.cipher, normalised)
    if person is None or not same_name(read_person(svc.cipher, person).name, name):
        return None
    return person


def withdraw_mandate(representative: Person, mandate_id: int) -> bool:
    """Withdraw a mandate of an enterprise ``representative`` represents, and revoke at once
    every token obtained under it (codes not yet redeemed included: their grants are marked)."""
    mandate = db.session.get(Mandate, mandate_id)
    if (
        mandate is None
        or mandate.withdrawn_at is not None
        or mandate.enterprise.legal_representative_id != representative.id
    ):
        return False
    mark_withdrawn(mandate)
    for grant_id in sorted(grant_ids_of(mandate.id)):
        revoke_grant(grant_id)
    return True


def acting_for(
    person: Person, enterprise: Enterprise, client_id: str, scopes: frozenset[str]
) -> Acting | None:
    """How ``person`` may act for ``enterprise`` in a request of ``client_id`` for ``scopes``:
    as its representative, or under a live mandate covering that client and every scope."""
    if enterprise.legal_representative_id == person.id:
        return Acting(enterprise)
    now = utcnow()
    for mandate in mandates_held(person.id):
        if mandate.enterprise_id == enterprise.id and mandate.covers(client_id, scopes, now):
            return Acting(enterprise, mandate)
    return None


def choices_for(person: Person, client_id: str, scopes: frozenset[str]) -> list[Acting]:
    """The enterprises the enterprise page offers: those ``person`` represents, then those a live
    mandate lets them act for in this request. A mandate that does not cover the client or every
    requested scope offers nothing: the agent could not finish the request anyway."""
    represented = [Acting(e) for e in person.enterprises]
    seen = {a.enterprise.id for a in represented}
    now = utcnow()
    mandated: list[Acting] = []
    for mandate in mandates_held(person.id):
        if mandate.enterprise_id not in seen and mandate.covers(client_id, scopes, now):
            seen.add(mandate.enterprise_id)
            mandated.append(Acting(mandate.enterprise, mandate))
    return represented + mandated


def still_acts(token: Token) -> bool:
    """Whether a refresh token's person may still act for its enterprise: the right came from
    being the representative, or from the mandate, and ends with it."""
    if token.enterprise is None or token.person_id is None:
        return True
    if token.mandate_id is None:
        return token.enterprise.legal_representative_id == token.person_id
    mandate = token.mandate
    return (
        mandate is not None
        and mandate.agent_id == token.person_id
        and mandate.enterprise_id == token.enterprise_id
        and mandate.covers(token.client_id, frozenset(token.scope.split()), utcnow())
    )


def live_mandates_held(person: Person) -> list[Mandate]:
    """The mandates ``person`` may act under today, for their account page."""
    now = utcnow()
    return [m for m in mandates_held(person.id) if m.is_live(now)]
