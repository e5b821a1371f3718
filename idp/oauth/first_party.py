"""The provider's own clients. The wallet page is an OAuth client like any other: it signs the
citizen in through /authorize (login, consent) and calls the credential API with the access
token it gets, so the API has one door, with one set of rules, for the wallet and for apps."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from idp.config import Settings
from idp.oauth.registration import ClientSpec, register_client
from idp.store.db import db
from idp.store.models import Client

WALLET_CLIENT_ID = "yihao-wallet"
WALLET_SCOPE = "openid credentials"


def wallet_redirect_uri(settings: Settings) -> str:
    return f"{settings.issuer}/wallet/callback"


def ensure_wallet_client(settings: Settings) -> Client:
    """Register the wallet on first use; follow the issuer URL if the operator changes it."""
    redirect = wallet_redirect_uri(settings)
    client: Client | None = Client.query.filter_by(client_id=WALLET_CLIENT_ID).one_or_none()
    if client is None:
        return _register(redirect)
    if client.redirect_uris != [redirect]:
        client.redirect_uris = [redirect]
        db.session.commit()
    return client


def _register(redirect: str) -> Client:
    try:
        client, _ = register_client(
            ClientSpec(
                name="一号通行电子证照夹 Yihao wallet",
                redirect_uris=[redirect],
                scope=WALLET_SCOPE,
                grant_types=["authorization_code"],
                auth_method="none",
                purposes={"credentials": "在您的手机上出示电子证照 Show your certificates"},
                client_id=WALLET_CLIENT_ID,
                allowed_reserved=frozenset({"credentials"}),  # what the reservation is for
            )
        )
    except IntegrityError:  # registered by a concurrent first request
        db.session.rollback()
        client = Client.query.filter_by(client_id=WALLET_CLIENT_ID).one()
    return client
