"""Agents (经办人) on the account page: the legal representative grants and withdraws mandates
for each enterprise they represent and sees the enterprise's "who used our data"; an agent sees
the mandates they hold. The rules are ``idp.oauth.delegation``'s; this module is forms and rows.

The agent's number is only ever posted; the answer is a redirect whose query names an outcome,
never the number (post/redirect/get).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response

from idp.auth.session import LoginSession, current_login
from idp.identifiers import mask_identifier
from idp.oauth.delegation import (
    CHINA_STANDARD_TIME,
    MANDATE_SCOPES,
    GrantRefusal,
    grant_mandate,
    live_mandates_held,
    mandate_clients,
    withdraw_mandate,
)
from idp.services import services
from idp.store.audit import releases_for_enterprise
from idp.store.db import db, utcnow
from idp.store.mandates import mandates_of
from idp.store.models import Client, Enterprise, Mandate, Person
from idp.store.subjects import enterprise_uscc, read_person
from idp.web.labels import channel_label, claim_label, scope_label

bp = Blueprint("mandates", __name__)

#: The longest name field accepted (as on the registration form).
MAX_NAME = 100

_NOTICES: dict[str, LazyString] = {
    "granted": _l("The mandate was granted. The agent can now act for the enterprise."),
    "withdrawn": _l("The mandate was withdrawn. Every sign-in made under it has ended."),
    GrantRefusal.NOT_REPRESENTATIVE: _l("Only the enterprise's legal representative can do this."),
    GrantRefusal.NO_MATCH: _l(
        "No registered person has this identity number and name. Check both; the agent must"
        " have registered first."
    ),
    GrantRefusal.SELF: _l("You already act for the enterprise as its legal representative."),
    GrantRefusal.BAD_SCOPES: _l("Choose data from the list."),
    GrantRefusal.BAD_CLIENTS: _l("Choose at least one service, or all services."),
    GrantRefusal.PAST: _l("The last day must be today or later."),
    GrantRefusal.BAD_DATE: _l("Enter the last day as a date."),
}
_OK = frozenset({"granted", "withdrawn"})


@dataclass(frozen=True)
class _Option:
    value: str
    label: str


@dataclass(frozen=True)
class _MandateRow:
    agent: str
    enterprise: str
    scopes: list[str]
    services: list[str] | None  # None: every service
    last_day: date
    expired: bool
    withdraw_action: str


@dataclass(frozen=True)
class _UseRow:
    client_name: str
    claims: list[str]
    channel_label: str
    released_at: datetime
    actor: str
    as_agent: bool


@dataclass(frozen=True)
class _Represented:
    id: int
    name: str
    uscc_masked: str
    mandates: list[_MandateRow]
    uses: list[_UseRow]
    grant_action: str


@dataclass(frozen=True)
class DelegationSection:
    """What ``_mandates.html`` shows on the account page."""

    represented: list[_Represented]
    held: list[_MandateRow]
    scope_options: list[_Option]
    client_options: list[_Option]
    today: str
    notice: str | None
    notice_is_error: bool


def delegation_section(login: LoginSession) -> DelegationSection:
    clients = mandate_clients()
    names = {c.client_id: c.name for c in clients}
    people = _People()
    notice = request.args.get("mandate", "")
    return DelegationSection(
        represented=[_represented(e, names, people) for e in login.person.enterprises],
        held=[_row(m, names, people) for m in live_mandates_held(login.person)],
        scope_options=[_Option(s, scope_label(s)) for s in MANDATE_SCOPES],
        client_options=[_Option(c.client_id, c.name) for c in clients],
        today=datetime.now(CHINA_STANDARD_TIME).date().isoformat(),
        notice=str(_NOTICES[notice]) if notice in _NOTICES else None,
        notice_is_error=notice not in _OK,
    )


class _People:
    """Masked number and name of each person shown, decrypted once per page."""

    def __init__(self) -> None:
        self._seen: dict[int, str] = {}

    def __call__(self, person_id: int) -> str:
        if person_id not in self._seen:
            person = db.session.get(Person, person_id)
            name = read_person(services().cipher, person).name if person else ""
            masked = person.number_masked if person else ""
            self._seen[person_id] = f"{name} {masked}".strip()
        return self._seen[person_id]


def _represented(enterprise: Enterprise, names: dict[str, str], people: _People) -> _Represented:
    return _Represented(
        id=enterprise.id,
        name=enterprise.name,
        uscc_masked=mask_identifier(enterprise_uscc(services().cipher, enterprise)),
        mandates=[_row(m, names, people) for m in mandates_of(enterprise.id)],
        uses=_uses(enterprise, people),
        grant_action=url_for("mandates.grant", enterprise_id=enterprise.id),
    )


def _row(mandate: Mandate, names: dict[str, str], people: _People) -> _MandateRow:
    clients = mandate.client_set
    return _MandateRow(
        agent=people(mandate.agent_id),
        enterprise=mandate.enterprise.name,
        scopes=[scope_label(s) for s in MANDATE_SCOPES if s in mandate.scope_set],
        services=None if clients is None else sorted(names.get(c, c) for c in clients),
        last_day=_last_day(mandate.valid_until),
        expired=mandate.valid_until <= utcnow(),
        withdraw_action=url_for("mandates.withdraw", mandate_id=mandate.id),
    )


def _last_day(valid_until: datetime) -> date:
    """The date a person typed: ``valid_until`` is the first moment after it (UTC+8)."""
    local = valid_until.replace(tzinfo=UTC).astimezone(CHINA_STANDARD_TIME)
    return local.date() - timedelta(days=1)


def _uses(enterprise: Enterprise, people: _People) -> list[_UseRow]:
    releases = releases_for_enterprise(enterprise.id)
    ids = {r.client_id for r in releases}
    rows = Client.query.filter(Client.client_id.in_(ids)).all() if ids else []
    client_names = {c.client_id: c.name for c in rows}
    return [
        _UseRow(
            client_names.get(r.client_id, r.client_id),
            [claim_label(c, enterprise=True) for c in r.claims.split()],
            channel_label(r.channel),
            r.released_at,
            people(r.person_id),
            r.mandate_id is not None,
        )
        for r in releases
    ]


def _to_account(notice: str) -> Response:
    return redirect(url_for("account.account", mandate=notice) + "#mandates-heading")


@bp.route("/account/enterprises/<int:enterprise_id>/mandates", methods=["POST"])
def grant(enterprise_id: int) -> Response:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        return _to_account(GrantRefusal.NOT_REPRESENTATIVE)
    try:
        last_day = date.fromisoformat(request.form.get("valid_until", ""))
    except ValueError:
        return _to_account(GrantRefusal.BAD_DATE)
    every = request.form.get("services") == "all"
    outcome = grant_mandate(
        services(),
        login.person,
        enterprise,
        request.form.get("number", "")[:32],
        request.form.get("name", "")[:MAX_NAME],
        request.form.getlist("scope"),
        None if every else request.form.getlist("client_id"),
        last_day,
    )
    return _to_account(outcome if isinstance(outcome, GrantRefusal) else "granted")


@bp.route("/account/mandates/<int:mandate_id>/withdraw", methods=["POST"])
def withdraw(mandate_id: int) -> Response:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    withdrawn = withdraw_mandate(login.person, mandate_id)
    return _to_account("withdrawn" if withdrawn else GrantRefusal.NOT_REPRESENTATIVE)
