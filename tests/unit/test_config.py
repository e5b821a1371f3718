"""Configuration: production refuses to start without secrets; development makes and keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.config import SECRET_VARS, ConfigError, load_settings, new_secret


def test_production_refuses_missing_secrets(tmp_path: Path) -> None:
    env = {
        "IDP_ENV": "production",
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_SECRET_KEY": new_secret(),
    }
    with pytest.raises(ConfigError, match="IDP_DATA_KEY, IDP_INDEX_KEY"):
        load_settings(env)
    assert not (tmp_path / "secrets.json").exists()


def test_production_accepts_given_secrets(tmp_path: Path) -> None:
    env = {"IDP_ENV": "production", "IDP_INSTANCE_DIR": str(tmp_path)}
    env.update({name: new_secret() for name in SECRET_VARS})
    settings = load_settings(env)
    assert settings.production and len(settings.data_key) == 32


def test_development_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"IDP_INSTANCE_DIR": str(tmp_path)})
    assert first.data_key == second.data_key and first.index_key != first.data_key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDP_DATA_KEY", "too-short", "32 bytes"),
        ("IDP_ENV", "staging", "IDP_ENV"),
        ("IDP_ISSUER", "https://idp.example/?x=1", "IDP_ISSUER"),
        ("IDP_ACCESS_TOKEN_TTL", "ten", "whole number"),
        ("IDP_CODE_TTL", "0", "at least 1"),
        ("IDP_PROXY_HOPS", "-1", "at least 0"),
        ("IDP_PROXY_HOPS", "two", "whole number"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


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
