"""All of Yihao's configuration, read once from ``IDP_*`` environment variables.

One place so that an operator can see every knob in ``docs/operations.md`` and nothing hides in
module constants. Secrets missing in development are generated into ``instance/secrets.json`` so a
fresh clone runs with one command; in production a missing secret is a start-up error, because a
generated key would silently orphan every encrypted record on the next host.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Environment = Literal["development", "production", "testing"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

#: Secrets that production must be given; development generates them.
SECRET_VARS = ("IDP_SECRET_KEY", "IDP_DATA_KEY", "IDP_INDEX_KEY")


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Argon2Params:
    """OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1 (the first option)."""

    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


@dataclass(frozen=True)
class Settings:
    environment: Environment
    database_url: str
    issuer: str
    secret_key: str
    data_key: bytes
    index_key: bytes
    instance_dir: Path
    code_ttl: int = 300
    access_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    id_token_ttl: int = 600
    session_ttl: int = 8 * 3600
    key_cache_seconds: int = 30
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    proxy_hops: int = 0
    argon2: Argon2Params = field(default_factory=Argon2Params)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    environment = _environment(env.get("IDP_ENV", "development"))
    instance_dir = Path(env.get("IDP_INSTANCE_DIR", str(DEFAULT_INSTANCE)))
    secret_values = _secrets(env, environment, instance_dir)
    return Settings(
        environment=environment,
        database_url=env.get("IDP_DATABASE_URL", f"sqlite:///{instance_dir / 'yihao.db'}"),
        issuer=_issuer(env.get("IDP_ISSUER", "http://127.0.0.1:5000")),
        secret_key=secret_values["IDP_SECRET_KEY"],
        data_key=_key(secret_values, "IDP_DATA_KEY"),
        index_key=_key(secret_values, "IDP_INDEX_KEY"),
        instance_dir=instance_dir,
        code_ttl=_int(env, "IDP_CODE_TTL", 300),
        access_token_ttl=_int(env, "IDP_ACCESS_TOKEN_TTL", 600),
        refresh_token_ttl=_int(env, "IDP_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        id_token_ttl=_int(env, "IDP_ID_TOKEN_TTL", 600),
        session_ttl=_int(env, "IDP_SESSION_TTL", 8 * 3600),
        key_cache_seconds=_int(env, "IDP_KEY_CACHE_SECONDS", 30),
        login_max_failures=_int(env, "IDP_LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_int(env, "IDP_LOGIN_LOCKOUT_SECONDS", 300),
        proxy_hops=_int(env, "IDP_PROXY_HOPS", 0, minimum=0),
        argon2=Argon2Params(
            memory_kib=_int(env, "IDP_ARGON2_MEMORY_KIB", 19_456),
            time_cost=_int(env, "IDP_ARGON2_TIME_COST", 2),
            parallelism=_int(env, "IDP_ARGON2_PARALLELISM", 1),
        ),
    )


def _environment(value: str) -> Environment:
    if value not in ("development", "production", "testing"):
        raise ConfigError(f"IDP_ENV must be development, production or testing, not {value!r}")
    return value  # type: ignore[return-value]


def _issuer(value: str) -> str:
    # OIDC Discovery 3: the issuer is a URL with no query or fragment; no trailing slash keeps
    # "iss" byte-identical to what clients compare against.
    if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
        raise ConfigError("IDP_ISSUER must be an http(s) URL without query or fragment")
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _key(values: Mapping[str, str], name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(values[name] + "=" * (-len(values[name]) % 4))
    except (ValueError, TypeError):
        raise ConfigError(f"{name} must be 32 bytes in URL-safe base64") from None
    if len(key) != 32:
        raise ConfigError(f"{name} must be 32 bytes in URL-safe base64 (got {len(key)} bytes)")
    return key


def new_secret() -> str:
    """A fresh 256-bit secret in the form every ``IDP_*_KEY`` variable takes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _secrets(env: Mapping[str, str], environment: Environment, instance: Path) -> dict[str, str]:
    given = {name: env[name] for name in SECRET_VARS if env.get(name)}
    missing = [name for name in SECRET_VARS if name not in given]
    if not missing:
        return given
    if environment == "production":
        raise ConfigError(
            "production mode needs these secrets set: "
            + ", ".join(missing)
            + " (each 32 random bytes in URL-safe base64; `idp secret` prints one)"
        )
    return {**_generated_secrets(instance), **given}


def _generated_secrets(instance: Path) -> dict[str, str]:
    """Development secrets, created once and kept so encrypted rows survive a restart."""
    path = instance / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        if all(name in stored for name in SECRET_VARS):
            return stored
    instance.mkdir(parents=True, exist_ok=True)
    values = {name: new_secret() for name in SECRET_VARS}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return values
