"""The provider's own clients, OAuth clients like any other: they sign a person in through
/authorize (login, second factor, consent), so there is one door with one set of rules.

- the wallet page gets an access token for the credential API;
- the admin console asks for a second factor (its client minimum) and a recent sign-in
  (``max_age``), and needs no token: its pages call the admin tasks in-process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from idp.config import Settings
from idp.oauth.assurance import TWO_FACTOR
from idp.oauth.registration import ClientSpec, register_client
from idp.store.db import db
from idp.store.models import Client


@dataclass(frozen=True)
class FirstParty:
    client_id: str
    name: str
    scope: str
    #: Path of the redirect URI under the issuer, also the path of the pending-sign-in cookie.
    callback: str
    purposes: dict[str, str] = field(default_factory=dict)
    reserved: frozenset[str] = frozenset()
    minimum_acr: str | None = None

    def redirect_uri(self, settings: Settings) -> str:
        return f"{settings.issuer}{self.callback}"


WALLET = FirstParty(
    client_id="yihao-wallet",
    name="一号通行电子证照夹 Yihao wallet",
    scope="openid credentials",
    callback="/wallet/callback",
    purposes={"credentials": "在您的手机上出示电子证照 Show your certificates"},
    reserved=frozenset({"credentials"}),  # what the reservation is for
)

CONSOLE = FirstParty(
    client_id="yihao-admin-console",
    name="一号通行管理控制台 Yihao admin console",
    scope="openid",
    callback="/admin/callback",
    minimum_acr=TWO_FACTOR.acr,
)


def ensure_client(settings: Settings, party: FirstParty) -> Client:
    """Register the client on first use; follow the issuer URL if the operator changes it."""
    redirect = party.redirect_uri(settings)
    client: Client | None = Client.query.filter_by(client_id=party.client_id).one_or_none()
    if client is None:
        return _register(party, redirect)
    if client.redirect_uris != [redirect]:
        client.redirect_uris = [redirect]
        db.session.commit()
    return client


def _register(party: FirstParty, redirect: str) -> Client:
    try:
        client, _ = register_client(
            ClientSpec(
                name=party.name,
                redirect_uris=[redirect],
                scope=party.scope,
                grant_types=["authorization_code"],
                auth_method="none",
                purposes=dict(party.purposes),
                client_id=party.client_id,
                allowed_reserved=party.reserved,
                minimum_acr=party.minimum_acr,
            )
        )
    except IntegrityError:  # registered by a concurrent first request
        db.session.rollback()
        client = Client.query.filter_by(client_id=party.client_id).one()
    return client
