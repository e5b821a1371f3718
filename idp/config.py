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
from typing import Any, Literal

from yihao.wire.fields import TYPE_FIELDS, CredentialType

from idp.identifiers import InvalidIdentifier, parse_uscc

Environment = Literal["development", "production", "testing"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

#: Secrets that production must be given; development generates them.
SECRET_VARS = ("IDP_SECRET_KEY", "IDP_DATA_KEY", "IDP_INDEX_KEY")

DEFAULT_ISSUER_NAME = "一号通行电子证照签发 Yihao e-certificate issuer"
#: A valid code of the form a government body (机关) in region 440000 holds; replace it in
#: production with the issuing authority's own.
DEFAULT_ISSUER_CODE = "11440000MB2D00014P"


def _all_fields(type_: CredentialType) -> list[str]:
    """A "full" profile: every field of the type except answers derived at issuance."""
    return [name for name in TYPE_FIELDS[type_] if name != "over_18"]


#: Certificate types with their GB/T 36904 type codes, and the purpose profiles counters use.
#: Profile ids travel in QR codes: never reuse one for a different field set.
DEFAULT_CATALOGUE: dict[str, Any] = {
    "types": [
        {
            "type": "id_card",
            "type_code": "11100000000013338W011",
            "label_zh": "居民身份证",
            "label_en": "Resident identity card",
        },
        {
            "type": "household",
            "type_code": "11100000000013338W012",
            "label_zh": "户口登记",
            "label_en": "Household register entry",
        },
        {
            "type": "property",
            "type_code": "11100000000013338W021",
            "label_zh": "不动产权证书",
            "label_en": "Property certificate",
        },
        {
            "type": "business_licence",
            "type_code": "11100000000013338W031",
            "label_zh": "营业执照",
            "label_en": "Business licence",
        },
    ],
    "profiles": [
        {
            "id": 1,
            "name": "id_card.housing_fund",
            "fields": ["name", "id_number"],
            "label_zh": "住房公积金提取",
            "label_en": "Housing-fund withdrawal",
        },
        {
            "id": 2,
            "name": "id_card.age_check",
            "fields": ["over_18"],
            "label_zh": "年龄核验（是否年满18周岁）",
            "label_en": "Age check (18 or over)",
        },
        {
            "id": 3,
            "name": "id_card.full",
            "fields": _all_fields(CredentialType.ID_CARD),
            "label_zh": "身份证全部信息",
            "label_en": "Whole identity card",
        },
        {
            "id": 4,
            "name": "household.enrolment",
            "fields": ["name", "birth_date", "household_address"],
            "label_zh": "入学报名",
            "label_en": "School enrolment",
        },
        {
            "id": 5,
            "name": "household.full",
            "fields": _all_fields(CredentialType.HOUSEHOLD),
            "label_zh": "户口登记全部信息",
            "label_en": "Whole household entry",
        },
        {
            "id": 6,
            "name": "property.transaction",
            "fields": ["property_unit_number", "location", "area", "owners", "mortgaged"],
            "label_zh": "不动产交易与抵押核验",
            "label_en": "Property sale and mortgage check",
        },
        {
            "id": 7,
            "name": "property.full",
            "fields": _all_fields(CredentialType.PROPERTY),
            "label_zh": "不动产权证书全部信息",
            "label_en": "Whole property certificate",
        },
        {
            "id": 8,
            "name": "business_licence.financing",
            "fields": [
                "uscc",
                "enterprise_name",
                "legal_representative",
                "registered_capital",
                "established",
                "business_status",
            ],
            "label_zh": "企业融资",
            "label_en": "Enterprise financing",
        },
        {
            "id": 9,
            "name": "business_licence.full",
            "fields": _all_fields(CredentialType.BUSINESS_LICENCE),
            "label_zh": "营业执照全部信息",
            "label_en": "Whole business licence",
        },
    ],
}


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Argon2Params:
    """OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1 (the first option)."""

    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1
    concurrent: int = 1  # hashes at once per process: each holds memory_kib while it runs


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
    #: "database" (the login_sessions table) or a redis:// URL (idp.sessions.flask_session).
    session_store: str = "database"
    session_key_prefix: str = "yihao:"
    interaction_ttl: int = 1800
    key_cache_seconds: int = 30
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    proxy_hops: int = 0
    argon2: Argon2Params = field(default_factory=Argon2Params)
    certs_dir: Path = Path("certs")
    issuer_name: str = DEFAULT_ISSUER_NAME
    issuer_code: str = DEFAULT_ISSUER_CODE
    issuer_cert_days: int = 397
    credential_ttl: int = 7 * 24 * 3600
    status_list_size: int = 1 << 17
    status_list_ttl: int = 3600
    status_list_validity: int = 24 * 3600
    catalogue: Mapping[str, Any] = field(default_factory=lambda: DEFAULT_CATALOGUE)

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
        session_store=_session_store(env.get("IDP_SESSION_STORE", "database")),
        session_key_prefix=env.get("IDP_SESSION_KEY_PREFIX", "yihao:"),
        interaction_ttl=_int(env, "IDP_INTERACTION_TTL", 1800, minimum=60),
        key_cache_seconds=_int(env, "IDP_KEY_CACHE_SECONDS", 30),
        login_max_failures=_int(env, "IDP_LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_int(env, "IDP_LOGIN_LOCKOUT_SECONDS", 300),
        proxy_hops=_int(env, "IDP_PROXY_HOPS", 0, minimum=0),
        argon2=Argon2Params(
            memory_kib=_int(env, "IDP_ARGON2_MEMORY_KIB", 19_456),
            time_cost=_int(env, "IDP_ARGON2_TIME_COST", 2),
            parallelism=_int(env, "IDP_ARGON2_PARALLELISM", 1),
            concurrent=_int(env, "IDP_ARGON2_CONCURRENT", 1),
        ),
        certs_dir=Path(env.get("IDP_CERTS_DIR") or Path.cwd() / "certs"),
        issuer_name=_issuer_name(env.get("IDP_ISSUER_NAME", DEFAULT_ISSUER_NAME)),
        issuer_code=_issuer_code(env.get("IDP_ISSUER_CODE", DEFAULT_ISSUER_CODE)),
        issuer_cert_days=_int(env, "IDP_ISSUER_CERT_DAYS", 397),
        credential_ttl=_int(env, "IDP_CREDENTIAL_TTL", 7 * 24 * 3600),
        status_list_size=_status_list_size(env),
        status_list_ttl=_int(env, "IDP_STATUS_LIST_TTL", 3600),
        status_list_validity=_int(env, "IDP_STATUS_LIST_VALIDITY", 24 * 3600),
        catalogue=_catalogue(env.get("IDP_CATALOGUE_FILE")),
    )


def _status_list_size(env: Mapping[str, str]) -> int:
    size = _int(env, "IDP_STATUS_LIST_SIZE", 1 << 17, minimum=1024)
    if size % 8 or size > 1 << 24:
        raise ConfigError("IDP_STATUS_LIST_SIZE must be a multiple of 8, at most 16777216")
    return size


def _catalogue(path: str | None) -> Mapping[str, Any]:
    """The certificate catalogue: the built-in default, or a JSON file of the same shape."""
    if not path:
        return DEFAULT_CATALOGUE
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"IDP_CATALOGUE_FILE could not be read as JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError("IDP_CATALOGUE_FILE must hold a JSON object with types and profiles")
    return loaded


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


def _session_store(value: str) -> str:
    if value != "database" and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("IDP_SESSION_STORE must be database or a redis:// (rediss://) URL")
    return value


def _issuer_name(value: str) -> str:
    if not value.strip():
        raise ConfigError("IDP_ISSUER_NAME must not be empty")
    return value.strip()


def _issuer_code(value: str) -> str:
    # It goes into every issuer certificate; a typo found at start-up beats one found by a counter.
    try:
        return parse_uscc(value).code
    except InvalidIdentifier as exc:
        raise ConfigError(
            f"IDP_ISSUER_CODE must be a unified social credit code (GB 32100): {exc}"
        ) from None


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
