"""The long-lived objects one provider instance shares between requests.

Built once by the application factory and kept in ``app.extensions``; protocol code asks for them
through ``services()`` instead of re-reading configuration or re-deriving keys per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from idp.auth.passwords import Passwords
from idp.caching import TimedCache
from idp.config import ConfigError, Settings
from idp.credentials.catalogue import read_catalogue
from idp.credentials.profiles import Catalogue, CatalogueError
from idp.keys.issuer import TRUST_LIST, IssuerKeys
from idp.keys.ring import KeyRing
from idp.store.crypto import FieldCipher
from idp.throttle.counters import Counters
from idp.throttle.policy import LoginThrottle, ThrottlePolicy
from idp.throttle.redis_counters import RedisCounters
from idp.throttle.table import TableCounters


@dataclass(frozen=True)
class Services:
    settings: Settings
    cipher: FieldCipher
    passwords: Passwords
    keys: KeyRing
    issuer: IssuerKeys
    trust_signer: IssuerKeys
    catalogue: Catalogue
    throttle: LoginThrottle
    pairwise_key: bytes
    #: Signed status lists by list id (``idp.credentials.status``), per provider instance.
    status_lists: TimedCache[int, bytes]

    @classmethod
    def build(cls, settings: Settings) -> Services:
        cipher = FieldCipher(settings.data_key, settings.index_key, settings.data_key_fallbacks)
        longest_signed = max(settings.id_token_ttl, settings.access_token_ttl)
        return cls(
            settings=settings,
            cipher=cipher,
            passwords=Passwords(settings.argon2),
            keys=KeyRing(
                cipher, timedelta(seconds=longest_signed + 3600), settings.key_cache_seconds
            ),
            issuer=IssuerKeys(cipher, settings.key_cache_seconds),
            trust_signer=IssuerKeys(cipher, settings.key_cache_seconds, TRUST_LIST),
            catalogue=_catalogue(settings),
            throttle=LoginThrottle(_counters(settings), _throttle_policy(settings)),
            pairwise_key=cipher.derive("oidc-pairwise-subject"),
            status_lists=TimedCache(settings.key_cache_seconds),
        )


def _counters(settings: Settings) -> Counters:
    if settings.redis_url:
        return RedisCounters(settings.redis_url, settings.session_key_prefix)
    return TableCounters()


def _throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        free_failures=settings.login_free_failures,
        account_free_failures=settings.login_account_free_failures,
        max_delay=settings.login_max_delay,
        address_limit=settings.login_address_limit,
        memory=settings.login_failure_memory,
    )


def _catalogue(settings: Settings) -> Catalogue:
    """The catalogue, read and checked once per process: a bad file is a start-up error."""
    try:
        return read_catalogue(settings.catalogue_file)
    except CatalogueError as exc:
        raise ConfigError(f"IDP_CATALOGUE_FILE: {exc}") from None


def services() -> Services:
    found: Services = current_app.extensions["yihao"]
    return found
