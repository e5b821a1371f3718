"""The citizen's own page: who used my data, which services I allowed, where I am signed in,
my certificates (to revoke one, ``idp.web.my_certificates``), and signing out (here, on another
device, or everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from idp.auth.session import LoginSession, current_login, end_sessions, sessions_of, sign_out
from idp.services import services
from idp.sessions.store import is_sid
from idp.store.audit import releases_of
from idp.store.consents import consents_of, withdraw_consent
from idp.store.models import Client
from idp.store.subjects import read_person
from idp.web.labels import channel_label, claim_label, scope_label
from idp.web.my_certificates import certificate_rows
from idp.web.passkeys import passkey_rows
from idp.web.second_factor import second_factor_section
from idp.web.sign_in_history import sign_in_rows

bp = Blueprint("account", __name__)


@dataclass(frozen=True)
class _ReleaseRow:
    client_name: str
    claims: list[str]
    channel_label: str
    released_at: datetime


@dataclass(frozen=True)
class _ConsentRow:
    id: int
    client_name: str
    labels: list[str]
    granted_at: datetime
    revoke_action: str


@dataclass(frozen=True)
class _SessionRow:
    signed_in_at: datetime
    last_seen: datetime
    device: str
    address: str
    current: bool
    end_action: str


def _session_rows(login: LoginSession) -> list[_SessionRow]:
    return [
        _SessionRow(
            _utc(r.auth_time or r.created_at),
            _utc(r.last_seen),
            r.device,
            r.address,
            r.sid == login.sid,
            url_for("account.end_session", sid=r.sid),
        )
        for r in sessions_of(login.person.id)
    ]


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _client_names(client_ids: set[str]) -> dict[str, str]:
    rows = Client.query.filter(Client.client_id.in_(client_ids)).all() if client_ids else []
    return {c.client_id: c.name for c in rows}


@bp.route("/account")
def account() -> str | Response:
    login = current_login()
    if login is None:
        return redirect(url_for("account.signed_out"))
    record = read_person(services().cipher, login.person)
    releases = releases_of(login.person.id)
    consents = consents_of(login.person.id)
    names = _client_names({r.client_id for r in releases} | {c.client_id for c in consents})
    return render_template(
        "account.html",
        name=record.name,
        masked_number=login.person.number_masked,
        releases=[
            _ReleaseRow(
                names.get(r.client_id, r.client_id),
                # An enterprise login's top-level claims describe the enterprise.
                [claim_label(c, enterprise=r.enterprise_id is not None) for c in r.claims.split()],
                channel_label(r.channel),
                r.released_at,
            )
            for r in releases
        ],
        consents=[
            _ConsentRow(
                c.id,
                names.get(c.client_id, c.client_id),
                [scope_label(s) for s in sorted(c.scope_set)],
                c.granted_at,
                url_for("account.withdraw", consent_id=c.id),
            )
            for c in consents
        ],
        sessions=_session_rows(login),
        end_all_action=url_for("account.end_all_sessions"),
        logout_action=url_for("account.logout"),
        certificates=certificate_rows(login, "account"),
        passkeys=passkey_rows(login),
        sign_ins=sign_in_rows(login),
        second_factor=second_factor_section(login),
    )


@bp.route("/account/consents/<int:consent_id>/withdraw", methods=["POST"])
def withdraw(consent_id: int) -> Response:
    login = current_login()
    if login is not None:
        withdraw_consent(login.person.id, consent_id)
    return redirect(url_for("account.account"))


@bp.route("/account/sessions/<sid>/end", methods=["POST"])
def end_session(sid: str) -> Response:
    login = current_login()
    if login is not None and is_sid(sid):
        end_sessions(login.person.id, sid)
    return redirect(url_for("account.account"))


@bp.route("/account/sessions/end-all", methods=["POST"])
def end_all_sessions() -> Response:
    """Sign out everywhere: every session of this person, this one included."""
    login = current_login()
    if login is not None:
        end_sessions(login.person.id, None)
    return redirect(url_for("account.signed_out"))


@bp.route("/account/logout", methods=["POST"])
def logout() -> Response:
    sign_out()
    return redirect(url_for("account.signed_out"))


@bp.route("/signed-out")
def signed_out() -> str:
    return render_template("logged_out.html")
