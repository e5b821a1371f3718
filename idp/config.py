"""All of Yihao's configuration, read once from ``IDP_*`` environment variables.

One place so that an operator can see every knob in ``docs/operations.md`` and nothing hides in
module constants. Secrets missing in development are generated into ``instance/secrets.json`` so a
fresh clone runs with one command; in production a missing secret is a start-up error, because a
generated key would silently orphan every encrypted record on the next host.

``SETTINGS`` is the one list of known variables, with each default and each whole number's range;
production refuses a variable not in it. Adding a setting is one line there, one ``Settings``
field, one read in ``load_settings`` and one row in the docs table (a test holds the docs to it).
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import json
import os
import secrets
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from idp.identifiers import InvalidIdentifier, parse_uscc

Environment = Literal["development", "production", "testing"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

#: Secrets that production must be given; development generates them.
SECRET_VARS = ("IDP_SECRET_KEY", "IDP_DATA_KEY", "IDP_INDEX_KEY")

DEFAULT_ISSUER_NAME = "一号通行电子证照签发 Yihao e-certificate issuer"
#: A valid code of the form a government body (机关) in region 440000 holds; replace it in
#: production with the issuing authority's own.
DEFAULT_ISSUER_CODE = "11440000MB2D00014P"


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Var:
    """One ``IDP_*`` variable: its default (None: required, or derived from another setting) and,
    for a whole number, the range it must lie in, with a stricter floor in production."""

    default: int | str | None = None
    low: int | None = None
    high: int | None = None
    production_low: int | None = None

    @property
    def range_text(self) -> str:
        """The range as ``docs/operations.md`` prints it (a test compares the two)."""
        if self.low is None:
            return ""
        text = f"{self.low}–{self.high}"
        return text + (f", production ≥ {self.production_low}" if self.production_low else "")


DAY = 24 * 3600

#: Every variable Yihao reads. One line per setting; docs/operations.md describes each.
SETTINGS: dict[str, Var] = {
    "IDP_ENV": Var("development"),
    "IDP_ISSUER": Var("http://127.0.0.1:5000"),
    "IDP_DATABASE_URL": Var(),
    "IDP_ALLOW_SQLITE": Var(0, 0, 1),
    "IDP_INSTANCE_DIR": Var(),
    "IDP_SECRET_KEY": Var(),
    "IDP_DATA_KEY": Var(),
    "IDP_INDEX_KEY": Var(),
    "IDP_CODE_TTL": Var(300, 30, 600),  # RFC 6749 4.1.2: "maximum ... of 10 minutes"
    "IDP_PAR_TTL": Var(60, 1, 600),  # RFC 9126 2.2: a request_uri lives briefly
    "IDP_ACCESS_TOKEN_TTL": Var(600, 60, DAY),
    "IDP_REFRESH_TOKEN_TTL": Var(14 * DAY, 300, 180 * DAY),
    "IDP_GRANT_TTL": Var(30 * DAY, 3600, 365 * DAY),
    "IDP_ID_TOKEN_TTL": Var(600, 60, 3600),
    "IDP_SESSION_TTL": Var(8 * 3600, 300, DAY),
    "IDP_SESSION_STORE": Var("database"),
    "IDP_SESSION_KEY_PREFIX": Var("yihao:"),
    "IDP_INTERACTION_TTL": Var(1800, 60, DAY),
    "IDP_KEY_CACHE_SECONDS": Var(30, 1, 300),
    "IDP_DPOP_NONCE": Var(1, 0, 1),
    "IDP_LOGIN_FREE_FAILURES": Var(5, 1, 20),
    "IDP_LOGIN_ACCOUNT_FREE_FAILURES": Var(100, 10, 100_000),
    "IDP_LOGIN_MAX_DELAY": Var(300, 1, DAY),
    "IDP_LOGIN_ADDRESS_LIMIT": Var(30, 1, 100_000),
    "IDP_LOGIN_FAILURE_MEMORY": Var(DAY, 60, 30 * DAY),
    "IDP_REDIS_URL": Var(""),
    "IDP_SIGN_IN_HISTORY_DAYS": Var(90, 1, 3650),
    "IDP_PROXY_HOPS": Var(0, 0, 5),
    "IDP_ARGON2_MEMORY_KIB": Var(19_456, 1024, 4 * 1024 * 1024, production_low=7168),
    "IDP_ARGON2_TIME_COST": Var(2, 1, 10),
    "IDP_ARGON2_PARALLELISM": Var(1, 1, 16),
    "IDP_ARGON2_CONCURRENT": Var(1, 1, 64),
    "IDP_ARGON2_QUEUE": Var(8, 0, 1024),
    "IDP_CERTS_DIR": Var(),
    "IDP_ISSUER_NAME": Var(DEFAULT_ISSUER_NAME),
    "IDP_ISSUER_CODE": Var(DEFAULT_ISSUER_CODE),
    "IDP_ISSUER_CERT_DAYS": Var(397, 1, 3650),
    "IDP_CREDENTIAL_TTL": Var(7 * DAY, 60, 365 * DAY),
    "IDP_STATUS_LIST_SIZE": Var(1 << 17, 1024, 1 << 24),
    "IDP_STATUS_LIST_TTL": Var(3600, 60, DAY),
    "IDP_STATUS_LIST_VALIDITY": Var(DAY, 3600, 7 * DAY),
    "IDP_CATALOGUE_FILE": Var(),
    "IDP_SMS_GATEWAY_URL": Var(""),
    "IDP_SMS_GATEWAY_TIMEOUT": Var(5, 1, 30),
    "IDP_SMS_CODE_TTL": Var(300, 60, 900),
    "IDP_ACTIVATION_CODE_TTL": Var(DAY, 600, 3 * DAY),
    "IDP_ONE_TIME_CODE_ATTEMPTS": Var(5, 1, 10),
    "IDP_SMS_PER_NUMBER_HOURLY": Var(5, 1, 30),
    "IDP_SMS_PER_ADDRESS_HOURLY": Var(20, 1, 1000),
    "IDP_ADMIN_SESSION_TTL": Var(900, 60, 8 * 3600),
    "IDP_METRICS_ALLOW": Var("127.0.0.0/8,::1"),
    "IDP_SECRET_KEY_FALLBACKS": Var(""),
    "IDP_DATA_KEY_FALLBACKS": Var(""),
}

#: Older keys still accepted after a rotation (comma-separated), each as strong as its key.
FALLBACK_VARS = ("IDP_SECRET_KEY_FALLBACKS", "IDP_DATA_KEY_FALLBACKS")

#: 32 bytes from a random generator hold ~30 distinct byte values; fewer than this many in
#: 32 random bytes has odds below 1e-9, so a key with fewer was typed or patterned by hand.
MIN_DISTINCT_KEY_BYTES = 20

#: OWASP Password Storage Cheat Sheet: its five Argon2id options trade memory for iterations;
#: the weakest, m=7 MiB with t=5, sets the least memory x iterations production accepts.
OWASP_ARGON2_MEMORY_X_TIME = 7168 * 5


def _int_default(name: str) -> int:
    default = SETTINGS[name].default
    assert isinstance(default, int)
    return default


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id's costs; the defaults are ``SETTINGS``' (OWASP Password Storage Cheat Sheet's first
    option), so a test or tool that builds one without settings hashes as the provider does."""

    memory_kib: int = _int_default("IDP_ARGON2_MEMORY_KIB")
    time_cost: int = _int_default("IDP_ARGON2_TIME_COST")
    parallelism: int = _int_default("IDP_ARGON2_PARALLELISM")
    # hashes at once per process: each holds memory_kib while it runs
    concurrent: int = _int_default("IDP_ARGON2_CONCURRENT")
    # hashes that may wait for one of those per process; a request beyond them is refused
    queue: int = _int_default("IDP_ARGON2_QUEUE")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Built only by ``load_settings``; the defaults live in ``SETTINGS``."""

    environment: Environment
    database_url: str
    issuer: str
    secret_key: str
    data_key: bytes
    index_key: bytes
    instance_dir: Path
    code_ttl: int
    #: RFC 9126 2.2: how long a pushed authorization request's request_uri can be used.
    par_ttl: int
    access_token_ttl: int
    refresh_token_ttl: int  # idle: a refresh token unused this long expires
    grant_ttl: int  # absolute: no refresh token of a grant outlives this, from code redemption
    id_token_ttl: int
    session_ttl: int
    #: "database" (the login_sessions table) or a redis:// URL (idp.sessions).
    session_store: str
    session_key_prefix: str
    interaction_ttl: int
    key_cache_seconds: int
    #: RFC 9449 8, 9: DPoP proofs must carry a server nonce (``idp.oauth.rfc9449``).
    dpop_nonce: bool
    #: idp.throttle.policy: wrong passwords per account and address before delays start,
    #: per account from anywhere, the longest delay, attempts per address a minute, and how long
    #: a failure is remembered
    login_free_failures: int
    login_account_free_failures: int
    login_max_delay: int
    login_address_limit: int
    login_failure_memory: int
    #: "" (throttling counters in the database) or a redis:// URL
    redis_url: str
    sign_in_history_days: int
    proxy_hops: int
    argon2: Argon2Params
    certs_dir: Path
    issuer_name: str
    issuer_code: str
    issuer_cert_days: int
    credential_ttl: int
    status_list_size: int
    status_list_ttl: int
    status_list_validity: int
    #: A JSON catalogue replacing the built-in one (``idp.credentials.catalogue``); read and
    #: checked once, when the services are built.
    catalogue_file: Path | None
    #: The SMS gateway's URL; empty: the development outbox table (``idp.notify.sms``).
    sms_gateway_url: str
    sms_gateway_timeout: int
    sms_code_ttl: int
    activation_code_ttl: int
    one_time_code_attempts: int
    sms_per_number_hourly: int
    sms_per_address_hourly: int
    #: How long after signing in an operator may use the admin console and API (the sign-in's
    #: age, whatever the session's own lifetime).
    admin_session_ttl: int
    #: The client addresses ``/metrics`` answers (everyone else gets 404); empty: nobody.
    metrics_allow: tuple[Network, ...]
    #: Older values of ``secret_key`` whose signatures still verify (sessions are not signed:
    #: CSRF tokens and the first-party sign-in cookies are), so rotating it signs nobody out.
    secret_key_fallbacks: tuple[str, ...]
    #: Older data keys that still decrypt until ``idp db re-encrypt`` has moved every row on.
    data_key_fallbacks: tuple[bytes, ...]

    @property
    def signing_keys(self) -> list[str]:
        """Every key a signature may verify under, newest last, as itsdangerous takes them."""
        return [*reversed(self.secret_key_fallbacks), self.secret_key]

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment); production then refuses
    what is unsafe (``refuse_unsafe_production``)."""
    env = os.environ if env is None else env
    environment = _environment(_text(env, "IDP_ENV"))
    instance_dir = Path(env.get("IDP_INSTANCE_DIR", str(DEFAULT_INSTANCE)))
    secret_values = _secrets(env, environment, instance_dir)
    _key(secret_values, "IDP_SECRET_KEY")  # the data keys' form, so it is as strong as they are
    settings = Settings(
        environment=environment,
        database_url=env.get("IDP_DATABASE_URL", f"sqlite:///{instance_dir / 'yihao.db'}"),
        issuer=_issuer(_text(env, "IDP_ISSUER")),
        secret_key=secret_values["IDP_SECRET_KEY"],
        data_key=_key(secret_values, "IDP_DATA_KEY"),
        index_key=_key(secret_values, "IDP_INDEX_KEY"),
        instance_dir=instance_dir,
        code_ttl=_int(env, "IDP_CODE_TTL"),
        par_ttl=_int(env, "IDP_PAR_TTL"),
        access_token_ttl=_int(env, "IDP_ACCESS_TOKEN_TTL"),
        refresh_token_ttl=_int(env, "IDP_REFRESH_TOKEN_TTL"),
        grant_ttl=_int(env, "IDP_GRANT_TTL"),
        id_token_ttl=_int(env, "IDP_ID_TOKEN_TTL"),
        session_ttl=_int(env, "IDP_SESSION_TTL"),
        session_store=_session_store(_text(env, "IDP_SESSION_STORE")),
        session_key_prefix=_text(env, "IDP_SESSION_KEY_PREFIX"),
        interaction_ttl=_int(env, "IDP_INTERACTION_TTL"),
        key_cache_seconds=_int(env, "IDP_KEY_CACHE_SECONDS"),
        dpop_nonce=bool(_int(env, "IDP_DPOP_NONCE")),
        login_free_failures=_int(env, "IDP_LOGIN_FREE_FAILURES"),
        login_account_free_failures=_int(env, "IDP_LOGIN_ACCOUNT_FREE_FAILURES"),
        login_max_delay=_int(env, "IDP_LOGIN_MAX_DELAY"),
        login_address_limit=_int(env, "IDP_LOGIN_ADDRESS_LIMIT"),
        login_failure_memory=_int(env, "IDP_LOGIN_FAILURE_MEMORY"),
        redis_url=_redis_url(_text(env, "IDP_REDIS_URL")),
        sign_in_history_days=_int(env, "IDP_SIGN_IN_HISTORY_DAYS"),
        proxy_hops=_int(env, "IDP_PROXY_HOPS"),
        argon2=Argon2Params(
            memory_kib=_int(env, "IDP_ARGON2_MEMORY_KIB"),
            time_cost=_int(env, "IDP_ARGON2_TIME_COST"),
            parallelism=_int(env, "IDP_ARGON2_PARALLELISM"),
            concurrent=_int(env, "IDP_ARGON2_CONCURRENT"),
            queue=_int(env, "IDP_ARGON2_QUEUE"),
        ),
        certs_dir=Path(env.get("IDP_CERTS_DIR") or Path.cwd() / "certs"),
        issuer_name=_issuer_name(_text(env, "IDP_ISSUER_NAME")),
        issuer_code=_issuer_code(_text(env, "IDP_ISSUER_CODE")),
        issuer_cert_days=_int(env, "IDP_ISSUER_CERT_DAYS"),
        credential_ttl=_int(env, "IDP_CREDENTIAL_TTL"),
        status_list_size=_status_list_size(env),
        status_list_ttl=_int(env, "IDP_STATUS_LIST_TTL"),
        status_list_validity=_int(env, "IDP_STATUS_LIST_VALIDITY"),
        catalogue_file=Path(env["IDP_CATALOGUE_FILE"]) if env.get("IDP_CATALOGUE_FILE") else None,
        sms_gateway_url=_gateway_url(_text(env, "IDP_SMS_GATEWAY_URL")),
        sms_gateway_timeout=_int(env, "IDP_SMS_GATEWAY_TIMEOUT"),
        sms_code_ttl=_int(env, "IDP_SMS_CODE_TTL"),
        activation_code_ttl=_int(env, "IDP_ACTIVATION_CODE_TTL"),
        one_time_code_attempts=_int(env, "IDP_ONE_TIME_CODE_ATTEMPTS"),
        sms_per_number_hourly=_int(env, "IDP_SMS_PER_NUMBER_HOURLY"),
        sms_per_address_hourly=_int(env, "IDP_SMS_PER_ADDRESS_HOURLY"),
        admin_session_ttl=_int(env, "IDP_ADMIN_SESSION_TTL"),
        metrics_allow=_networks(_text(env, "IDP_METRICS_ALLOW")),
        secret_key_fallbacks=tuple(_fallbacks(env, "IDP_SECRET_KEY_FALLBACKS").values()),
        data_key_fallbacks=tuple(
            _key({name: value}, name)
            for name, value in _fallbacks(env, "IDP_DATA_KEY_FALLBACKS").items()
        ),
    )
    if settings.production:
        refuse_unsafe_production(env, settings)
    return settings


def refuse_unsafe_production(env: Mapping[str, str], settings: Settings) -> None:
    """Raise ``ConfigError`` for the first setting production must not run with.

    Development accepts all of these so a fresh clone runs with one command; each is documented
    under "Production refuses" in docs/operations.md.
    """
    checks: tuple[Callable[[], str | None], ...] = (
        lambda: _unknown_variable(env),
        # all set: _secrets
        lambda: _weak_secret({name: env[name] for name in SECRET_VARS} | _all_fallbacks(env)),
        lambda: _insecure_issuer(settings.issuer),
        lambda: _example_issuer_code(settings.issuer_code),
        lambda: _unsafe_database(settings.database_url, _int(env, "IDP_ALLOW_SQLITE")),
        lambda: _below_production_floor(env),
        lambda: _weak_argon2(settings.argon2),
        lambda: _sms_outbox(settings.sms_gateway_url),
    )
    for check in checks:
        problem = check()
        if problem:
            raise ConfigError(f"production refuses {problem}")


def _unknown_variable(env: Mapping[str, str]) -> str | None:
    for name in sorted(env):
        if name.startswith("IDP_") and name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"the unknown setting {name}{hint}; docs/operations.md lists every setting"
    return None


def _weak_secret(values: Mapping[str, str]) -> str | None:
    decoded = {name: _key(values, name) for name in values}
    for name, key in decoded.items():
        if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
            return f"{name}: it is not random (`idp secret` prints a random one)"
    if len(set(decoded.values())) < len(decoded):
        return "the same value in two of " + ", ".join(values) + "; give each its own secret"
    return None


def _fallbacks(env: Mapping[str, str], name: str) -> dict[str, str]:
    """The comma-separated older keys of ``name``, each checked like a secret and named by its
    place (``IDP_DATA_KEY_FALLBACKS[2]``) so an error never prints a key."""
    values = [value.strip() for value in _text(env, name).split(",") if value.strip()]
    named = {f"{name}[{place}]": value for place, value in enumerate(values, 1)}
    for item in named:
        _key(named, item)
    return named


def _all_fallbacks(env: Mapping[str, str]) -> dict[str, str]:
    return {item: value for name in FALLBACK_VARS for item, value in _fallbacks(env, name).items()}


def _insecure_issuer(issuer: str) -> str | None:
    url = urlsplit(issuer)
    if url.scheme == "https" or _is_loopback(url.hostname or ""):
        return None
    return "an http:// IDP_ISSUER: set the https:// URL the reverse proxy serves"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _example_issuer_code(code: str) -> str | None:
    if code != DEFAULT_ISSUER_CODE:
        return None
    return "the example IDP_ISSUER_CODE: set the issuing authority's own USCC"


def _unsafe_database(url: str, allow_sqlite: int) -> str | None:
    if not url.startswith("sqlite"):
        return None
    if not allow_sqlite:
        return "SQLite: set IDP_DATABASE_URL to PostgreSQL, or IDP_ALLOW_SQLITE=1 on a single node"
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path in ("", ":memory:"):
        return "an in-memory SQLite database: its data is gone when the process ends"
    installed = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    if any(Path(path).resolve().is_relative_to(root) for root in installed):
        return "a SQLite file inside site-packages: set IDP_INSTANCE_DIR or IDP_DATABASE_URL"
    return None


def _below_production_floor(env: Mapping[str, str]) -> str | None:
    for name, var in SETTINGS.items():
        if var.production_low is not None and _int(env, name) < var.production_low:
            return f"{name} below {var.production_low}"
    return None


def _weak_argon2(params: Argon2Params) -> str | None:
    if params.memory_kib * params.time_cost >= OWASP_ARGON2_MEMORY_X_TIME:
        return None
    return (
        "Argon2id weaker than OWASP's options: IDP_ARGON2_MEMORY_KIB x IDP_ARGON2_TIME_COST "
        f"must be at least {OWASP_ARGON2_MEMORY_X_TIME}"
    )


def _sms_outbox(gateway_url: str) -> str | None:
    if not gateway_url:
        return "the development SMS outbox: set IDP_SMS_GATEWAY_URL to the SMS gateway"
    url = urlsplit(gateway_url)
    if url.scheme == "https" or _is_loopback(url.hostname or ""):
        return None
    return "an http:// IDP_SMS_GATEWAY_URL: codes must not cross the network in clear"


def _gateway_url(value: str) -> str:
    if value and not (value.startswith(("https://", "http://")) and urlsplit(value).hostname):
        raise ConfigError("IDP_SMS_GATEWAY_URL must be an http(s) URL, or empty for the outbox")
    return value


def _networks(value: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses and CIDR blocks (``10.0.0.0/8,::1``)."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item))
        except ValueError:
            raise ConfigError(
                f"IDP_METRICS_ALLOW: {item!r} is not an address or a network such as 10.0.0.0/8 "
                "(no bits set after the prefix)"
            ) from None
    return tuple(found)


def _status_list_size(env: Mapping[str, str]) -> int:
    size = _int(env, "IDP_STATUS_LIST_SIZE")
    if size % 8:
        raise ConfigError("IDP_STATUS_LIST_SIZE must be a multiple of 8")
    return size


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


def _redis_url(value: str) -> str:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("IDP_REDIS_URL must be empty or a redis:// (rediss://, unix://) URL")
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


def _text(env: Mapping[str, str], name: str) -> str:
    return env.get(name, str(SETTINGS[name].default))


def _int(env: Mapping[str, str], name: str) -> int:
    """A whole-number setting, within its range in ``SETTINGS``."""
    var = SETTINGS[name]
    raw = env.get(name)
    if raw is None:
        return _int_default(name)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    assert var.low is not None and var.high is not None
    if not var.low <= value <= var.high:
        raise ConfigError(f"{name} must be from {var.low} to {var.high}, not {value}")
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
