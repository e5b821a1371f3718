"""The long-lived objects one provider instance shares between requests.

Built once by the application factory and kept in ``app.extensions``; protocol code asks for them
through ``services()`` instead of re-reading configuration or re-deriving keys per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from idp.auth.login import LoginPolicy
from idp.auth.passwords import Passwords
from idp.config import ConfigError, Settings
from idp.credentials.profiles import Catalogue, CatalogueError, load_catalogue
from idp.keys.issuer import TRUST_LIST, IssuerKeys
from idp.keys.ring import KeyRing
from idp.store.crypto import FieldCipher


@dataclass(frozen=True)
class Services:
    settings: Settings
    cipher: FieldCipher
    passwords: Passwords
    keys: KeyRing
    issuer: IssuerKeys
    trust_signer: IssuerKeys
    catalogue: Catalogue
    login_policy: LoginPolicy
    pairwise_key: bytes

    @classmethod
    def build(cls, settings: Settings) -> Services:
        cipher = FieldCipher(settings.data_key, settings.index_key)
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
            login_policy=LoginPolicy(
                settings.login_max_failures, timedelta(seconds=settings.login_lockout_seconds)
            ),
            pairwise_key=cipher.derive("oidc-pairwise-subject"),
        )


def _catalogue(settings: Settings) -> Catalogue:
    try:
        return load_catalogue(settings.catalogue)
    except CatalogueError as exc:
        raise ConfigError(f"certificate catalogue: {exc}") from None


def services() -> Services:
    found: Services = current_app.extensions["yihao"]
    return found
