"""Production start-up as an operator meets it: every ``idp`` command (``idp serve`` too) and the
app factory refuse an unsafe configuration with one line and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from idp.app import create_app
from idp.config import SECRET_VARS, ConfigError, load_settings, new_secret
from idp.credentials.catalogue import DEFAULT_CATALOGUE
from idp.services import Services
from tests.support.identities import new_uscc
from tests.support.processes import free_port, idp_executable


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A production configuration that starts (single-node SQLite), with ``overrides``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDP_")}
    env.update(
        {
            "IDP_ENV": "production",
            "IDP_INSTANCE_DIR": str(tmp_path),
            "IDP_ISSUER": "https://id.example.gov.cn",
            "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'yihao.db'}",
            "IDP_ALLOW_SQLITE": "1",
            "IDP_ISSUER_CODE": new_uscc(),
            "IDP_SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
            "IDP_CERTS_DIR": str(tmp_path / "certs"),
            **{name: new_secret() for name in SECRET_VARS},
            **overrides,
        }
    )
    return env


def idp(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [idp_executable(), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def assert_refused(done: subprocess.CompletedProcess[str], message: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert message in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "command",
    [("db", "upgrade"), ("keys", "list", "--json"), ("certs", "show"), ("serve", "--port")],
    ids=lambda command: command[0],
)
def test_every_command_refuses_an_unsafe_production_configuration(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    args = (*command, str(free_port())) if command[-1] == "--port" else command
    done = idp(production_env(tmp_path, IDP_PROXY_HOP="1"), *args)
    assert_refused(done, "unknown setting IDP_PROXY_HOP (did you mean IDP_PROXY_HOPS?)")
    assert not (tmp_path / "yihao.db").exists()


def test_an_argon2_value_argon2_cannot_take_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    done = idp(production_env(tmp_path, IDP_ENV="development", IDP_ARGON2_MEMORY_KIB="1"), "serve")
    assert_refused(done, "IDP_ARGON2_MEMORY_KIB must be from 1024")


def test_a_weak_secret_is_refused_but_idp_secret_still_prints_one(tmp_path: Path) -> None:
    env = production_env(tmp_path, IDP_SECRET_KEY="a")
    assert_refused(idp(env, "keys", "list"), "IDP_SECRET_KEY must be 32 bytes")
    printed = idp(env, "secret")
    assert printed.returncode == 0 and len(printed.stdout.strip()) == 43


def test_demo_seed_is_refused_in_production(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    assert idp(env, "db", "upgrade").returncode == 0
    assert_refused(idp(env, "demo", "seed"), "production refuses demo data")
    development = {**env, "IDP_ENV": "testing", "IDP_ARGON2_MEMORY_KIB": "1024"}
    seeded = idp(development, "demo", "seed", "--json")
    assert seeded.returncode == 0, seeded.stderr  # the same database takes it outside production


def test_the_app_factory_refuses_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("IDP_")]:
        monkeypatch.delenv(name)
    for name, value in production_env(tmp_path, IDP_ISSUER="http://id.example.gov.cn").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="http:// IDP_ISSUER"):
        create_app()


def _catalogue_file(tmp_path: Path, content: object) -> str:
    path = tmp_path / "catalogue.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def _one_profile(fields: list[str]) -> dict[str, object]:
    profile = {"id": 1, "name": "id_card.check", "fields": fields, "label_zh": "核验"}
    return {
        "types": [DEFAULT_CATALOGUE["types"][0]],
        "profiles": [{**profile, "label_en": "Check"}],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "could not be read as JSON"),
        ([], "must hold a JSON object"),
        (_one_profile(["name", "shoe_size"]), "fields not in id_card: ['shoe_size']"),
    ],
    ids=["not-json", "not-an-object", "unknown-field"],
)
def test_a_bad_catalogue_file_stops_start_up(tmp_path: Path, content: object, message: str) -> None:
    env = production_env(tmp_path, IDP_CATALOGUE_FILE=_catalogue_file(tmp_path, content))
    done = idp(env, "keys", "list")
    assert_refused(done, message)
    assert done.stderr.startswith("error: IDP_CATALOGUE_FILE: ")


def test_a_catalogue_file_replaces_the_built_in_one(tmp_path: Path) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path)}
    assert Services.build(load_settings(env)).catalogue.profile_named("id_card.check") is None
    env["IDP_CATALOGUE_FILE"] = _catalogue_file(tmp_path, _one_profile(["name", "over_18"]))
    catalogue = Services.build(load_settings(env)).catalogue
    assert [p.name for p in catalogue.profiles.values()] == ["id_card.check"]
