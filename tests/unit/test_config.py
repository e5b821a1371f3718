"""Configuration: production refuses to start without secrets or with unsafe settings;
development makes and keeps its secrets; every whole number has a range everywhere."""

from __future__ import annotations

import base64
import re
import sysconfig
from pathlib import Path

import pytest

from idp.config import (
    DEFAULT_ISSUER_CODE,
    SECRET_VARS,
    SETTINGS,
    ConfigError,
    load_settings,
    new_secret,
)
from tests.support.identities import new_uscc

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A production configuration that loads, with ``overrides`` (an empty value removes one)."""
    env = {
        "IDP_ENV": "production",
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_ISSUER": "https://id.example.gov.cn",
        "IDP_DATABASE_URL": "postgresql://yihao@db.internal/yihao",
        "IDP_ISSUER_CODE": new_uscc(),
        "IDP_SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
        "IDP_PROXY_HOPS": "1",
        **{name: new_secret() for name in SECRET_VARS},
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value}


def _key_text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_production_refuses_missing_secrets(tmp_path: Path) -> None:
    env = production_env(tmp_path, IDP_DATA_KEY="", IDP_INDEX_KEY="")
    with pytest.raises(ConfigError, match="IDP_DATA_KEY, IDP_INDEX_KEY"):
        load_settings(env)
    assert not (tmp_path / "secrets.json").exists()


def test_a_good_production_configuration_loads(tmp_path: Path) -> None:
    settings = load_settings(production_env(tmp_path))
    assert settings.production and len(settings.data_key) == 32
    assert settings.issuer == "https://id.example.gov.cn" and settings.proxy_hops == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"IDP_SECRET_KEY": "a"}, "IDP_SECRET_KEY must be 32 bytes"),
        ({"IDP_SECRET_KEY": "dev-secret-please-change"}, "IDP_SECRET_KEY must be 32 bytes"),
        ({"IDP_DATA_KEY": _key_text(bytes(32))}, "IDP_DATA_KEY: it is not random"),
        ({"IDP_INDEX_KEY": _key_text(b"0123456789abcdef" * 2)}, "IDP_INDEX_KEY: it is not"),
        ({"IDP_ISSUER": "http://id.example.gov.cn"}, "http:// IDP_ISSUER"),
        ({"IDP_ISSUER_CODE": DEFAULT_ISSUER_CODE}, "example IDP_ISSUER_CODE"),
        ({"IDP_DATABASE_URL": "sqlite:////var/lib/yihao/yihao.db"}, "SQLite"),
        ({"IDP_DATABASE_URL": "sqlite://", "IDP_ALLOW_SQLITE": "1"}, "in-memory"),
        ({"IDP_SESSION_TTL": str(10 * 365 * 24 * 3600)}, "IDP_SESSION_TTL must be from"),
        ({"IDP_LOGIN_FREE_FAILURES": "1000000"}, "IDP_LOGIN_FREE_FAILURES must be from"),
        ({"IDP_PROXY_HOP": "1"}, r"IDP_PROXY_HOP \(did you mean IDP_PROXY_HOPS\?\)"),
        ({"IDP_ARGON2_MEMORY_KIB": "1"}, "IDP_ARGON2_MEMORY_KIB must be from 1024"),
        ({"IDP_ARGON2_MEMORY_KIB": "4096"}, "IDP_ARGON2_MEMORY_KIB below 7168"),
        ({"IDP_ARGON2_MEMORY_KIB": "7168", "IDP_ARGON2_TIME_COST": "1"}, "Argon2id weaker"),
        ({"IDP_SMS_GATEWAY_URL": ""}, "development SMS outbox"),
        ({"IDP_SMS_GATEWAY_URL": "http://sms.internal/send"}, "http:// IDP_SMS_GATEWAY_URL"),
    ],
    ids=[
        "short-secret",
        "password-as-secret",
        "all-zero-key",
        "patterned-key",
        "http-issuer",
        "example-issuer-code",
        "sqlite",
        "sqlite-in-memory",
        "ten-year-session",
        "million-failures",
        "typo",
        "argon2-traceback",
        "argon2-below-owasp",
        "argon2-product-below-owasp",
        "sms-outbox",
        "sms-gateway-in-clear",
    ],
)
def test_production_refuses(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(production_env(tmp_path, **overrides))


def test_production_refuses_sqlite_inside_site_packages(tmp_path: Path) -> None:
    # Where the default IDP_INSTANCE_DIR puts the database when installed from a wheel.
    site = Path(sysconfig.get_paths()["purelib"])
    url = f"sqlite:///{site / 'instance' / 'yihao.db'}"
    env = production_env(tmp_path, IDP_DATABASE_URL=url, IDP_ALLOW_SQLITE="1")
    with pytest.raises(ConfigError, match="inside site-packages"):
        load_settings(env)


def test_production_refuses_one_value_for_all_three_secrets(tmp_path: Path) -> None:
    shared = new_secret()
    env = production_env(tmp_path, **dict.fromkeys(SECRET_VARS, shared))
    with pytest.raises(ConfigError, match="the same value in two of IDP_SECRET_KEY"):
        load_settings(env)


def test_production_accepts_single_node_sqlite_and_a_loopback_http_issuer(tmp_path: Path) -> None:
    env = production_env(
        tmp_path,
        IDP_DATABASE_URL=f"sqlite:///{tmp_path / 'yihao.db'}",
        IDP_ALLOW_SQLITE="1",
        IDP_ISSUER="http://127.0.0.1:5000",
        IDP_ARGON2_MEMORY_KIB="47104",  # OWASP's m=46 MiB, t=1 option
        IDP_ARGON2_TIME_COST="1",
    )
    assert load_settings(env).database_url.startswith("sqlite:///")


def test_development_accepts_what_only_production_refuses(tmp_path: Path) -> None:
    env = {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_ISSUER": "http://idp.internal",
        "IDP_PROXY_HOP": "1",
        "IDP_ARGON2_MEMORY_KIB": "1024",
    }
    settings = load_settings(env)
    assert settings.issuer_code == DEFAULT_ISSUER_CODE
    assert settings.database_url.startswith("sqlite:///")


def test_development_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)})
    assert first.data_key == second.data_key and first.index_key != first.data_key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDP_DATA_KEY", "too-short", "32 bytes"),
        ("IDP_SECRET_KEY", "a", "IDP_SECRET_KEY must be 32 bytes"),
        ("IDP_ENV", "staging", "IDP_ENV"),
        ("IDP_ISSUER", "https://idp.example/?x=1", "IDP_ISSUER"),
        ("IDP_ACCESS_TOKEN_TTL", "ten", "whole number"),
        ("IDP_CODE_TTL", "0", "IDP_CODE_TTL must be from 30 to 600, not 0"),
        ("IDP_PROXY_HOPS", "-1", "from 0 to 5"),
        ("IDP_PROXY_HOPS", "two", "whole number"),
        ("IDP_ARGON2_MEMORY_KIB", "1", "IDP_ARGON2_MEMORY_KIB must be from 1024"),
        ("IDP_STATUS_LIST_SIZE", "1025", "multiple of 8"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_every_default_lies_in_its_range() -> None:
    for name, var in SETTINGS.items():
        if var.low is not None:
            assert isinstance(var.default, int), name
            assert var.high is not None and var.low <= var.default <= var.high, name
            assert var.default >= (var.production_low or var.low), name


def test_every_variable_the_code_reads_is_a_known_setting() -> None:
    # Production refuses unknown variables, so one read but missing from SETTINGS could never be
    # set there: add it to SETTINGS in idp/config.py.
    read = {
        name
        for path in (ROOT / "idp").rglob("*.py")
        for name in re.findall(r"[\"'](IDP_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8"))
    }
    assert read - set(SETTINGS) == set()


def _guide_rows() -> dict[str, list[str]]:
    """The settings table of docs/operations.md: variable -> its default, range, meaning cells."""
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    guide = guide.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(IDP_[A-Z0-9_]+)` \|(.*)$", guide, flags=re.MULTILINE))
    return {name: [cell.strip() for cell in row.split("|")] for name, row in rows.items()}


def test_operations_guide_documents_every_setting_with_its_range() -> None:
    rows = _guide_rows()
    assert set(rows) == set(SETTINGS)
    for name, var in SETTINGS.items():
        assert rows[name][1] == var.range_text, name


def test_operations_guide_gives_every_default_as_settings_has_it() -> None:
    # SETTINGS is the one home of each default; the guide must say the same, not a stale copy.
    # A None default is derived from another setting, and the guide says from which.
    for name, cells in _guide_rows().items():
        default = SETTINGS[name].default
        if default == "":
            assert "empty" in cells[0], name
        elif default is not None:
            shown = f"`{default}`"
            assert cells[0] == shown or cells[0].startswith(shown + " ("), name


def test_defaults_follow_owasp_argon2id(tmp_path: Path) -> None:
    argon2 = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)}).argon2
    # OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
    assert (argon2.memory_kib, argon2.time_cost, argon2.parallelism) == (19_456, 2, 1)


def test_issuer_trailing_slash_is_removed(tmp_path: Path) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path), "IDP_ISSUER": "https://id.example.gov.cn/"}
    assert load_settings(env).issuer == "https://id.example.gov.cn"


def test_the_session_store_is_the_database_or_a_redis_url(tmp_path: Path) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(env).session_store == "database"
    redis_url = "redis://127.0.0.1:6379/0"
    assert load_settings({**env, "IDP_SESSION_STORE": redis_url}).session_store == redis_url
    for bad in ("memcached://127.0.0.1", "redis", ""):
        with pytest.raises(ConfigError, match="IDP_SESSION_STORE"):
            load_settings({**env, "IDP_SESSION_STORE": bad})
    with pytest.raises(ConfigError, match="IDP_INTERACTION_TTL"):
        load_settings({**env, "IDP_INTERACTION_TTL": "10"})


def test_fallback_keys_are_read_in_order_and_sign_newest_last(tmp_path: Path) -> None:
    old, older = new_secret(), new_secret()
    env = production_env(tmp_path, IDP_SECRET_KEY_FALLBACKS=f"{old}, {older}")
    settings = load_settings(env)
    assert settings.secret_key_fallbacks == (old, older)
    assert settings.signing_keys == [older, old, settings.secret_key]
    data_key = new_secret()
    data = load_settings({**env, "IDP_DATA_KEY_FALLBACKS": data_key}).data_key_fallbacks
    assert data == (base64.urlsafe_b64decode(data_key + "="),)


@pytest.mark.parametrize("name", ["IDP_SECRET_KEY_FALLBACKS", "IDP_DATA_KEY_FALLBACKS"])
def test_a_fallback_key_is_checked_like_its_key(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"{name}\[2\] must be 32 bytes"):
        load_settings({"IDP_INSTANCE_DIR": str(tmp_path), name: f"{new_secret()},short"})
    with pytest.raises(ConfigError, match=rf"{name}\[1\]: it is not random"):
        load_settings(production_env(tmp_path, **{name: _key_text(bytes(32))}))
    env = production_env(tmp_path)
    with pytest.raises(ConfigError, match="the same value in two"):
        load_settings({**env, name: env["IDP_INDEX_KEY"]})
