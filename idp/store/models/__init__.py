"""The tables, a file per idea; importing this package registers them all on ``db.metadata``."""

from idp.store.models.admin import AdminAction, OperatorRole, SecurityEventRow
from idp.store.models.audit import Release
from idp.store.models.clients import Client, InitialAccessToken
from idp.store.models.consent import Consent
from idp.store.models.credentials import (
    Certificate,
    IssuerKey,
    KeyRequest,
    StatusList,
    TrustListVersion,
)
from idp.store.models.exchange import ExchangePolicy
from idp.store.models.factors import RecoveryCode, TotpFactor
from idp.store.models.grants import AuthorizationCode, RevokedGrant, Token
from idp.store.models.keys import SigningKey
from idp.store.models.mandates import Mandate
from idp.store.models.one_time_codes import OneTimeCode, SmsOutboxMessage
from idp.store.models.passkeys import Passkey
from idp.store.models.pushed import PushedRequest
from idp.store.models.registry import RegistryHolder, RegistryRecord
from idp.store.models.replay import SeenValue
from idp.store.models.sessions import LogoutDelivery, SessionRow
from idp.store.models.subjects import Enterprise, Person
from idp.store.models.throttle import SignInEntry, ThrottleCounter

__all__ = [
    "AdminAction",
    "AuthorizationCode",
    "Certificate",
    "Client",
    "Consent",
    "Enterprise",
    "ExchangePolicy",
    "InitialAccessToken",
    "IssuerKey",
    "KeyRequest",
    "LogoutDelivery",
    "Mandate",
    "OneTimeCode",
    "OperatorRole",
    "Passkey",
    "Person",
    "PushedRequest",
    "RecoveryCode",
    "RegistryHolder",
    "RegistryRecord",
    "Release",
    "RevokedGrant",
    "SecurityEventRow",
    "SeenValue",
    "SessionRow",
    "SignInEntry",
    "SigningKey",
    "SmsOutboxMessage",
    "StatusList",
    "ThrottleCounter",
    "Token",
    "TotpFactor",
    "TrustListVersion",
]
