"""The Flask integration's token stores find logins by what a logout token names (Back-Channel
Logout 1.0 section 2.4) and remember each logout token's ``jti`` once, on both stores."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from yihao.flask_rp import MemoryStore, SqliteStore, StoredLogin, TokenStore, ended_by
from yihao.oidc import Tokens


def login(sub: str, sid: str) -> StoredLogin:
    return StoredLogin(Tokens("a", "r", 0.0), {"sub": sub, "sid": sid})


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "logins.db")


def test_a_sid_ends_that_session_and_a_bare_sub_every_login(store: TokenStore) -> None:
    store.put("k1", login("alice", "s1"))
    store.put("k2", login("alice", "s2"))
    store.put("k3", login("bob", "s3"))
    assert store.end_logins("alice", "s3") == 0  # sid and sub must both match
    assert store.end_logins(None, "s1") == 1
    assert store.get("k1") is None and store.get("k2") is not None
    assert store.end_logins(None, None) == 0
    assert store.end_logins("alice", None) == 1
    assert store.get("k2") is None and store.get("k3") is not None


def test_a_jti_is_accepted_once_until_it_expires(store: TokenStore) -> None:
    assert store.first_use("j1", time.time() + 120)
    assert not store.first_use("j1", time.time() + 120)
    assert store.first_use("j2", time.time() - 1)
    assert store.first_use("j2", time.time() + 120)  # the expired memory was dropped


def test_an_older_sqlite_file_gains_the_columns_with_its_logins_indexed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE yihao_logins"
            " (key TEXT PRIMARY KEY, login TEXT NOT NULL, updated_at REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO yihao_logins VALUES (?, ?, ?)", ("k", login("alice", "s1").to_json(), 0.0)
        )
    store = SqliteStore(path)
    assert store.end_logins(None, "s1") == 1 and store.get("k") is None


def test_ended_by_needs_a_name() -> None:
    claims = {"sub": "alice", "sid": "s1"}
    assert ended_by(claims, "alice", "s1") and ended_by(claims, None, "s1")
    assert not ended_by(claims, None, None) and not ended_by(claims, "bob", None)
