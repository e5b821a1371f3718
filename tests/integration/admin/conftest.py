"""Callers of the admin API: clients whose client-credentials tokens carry ``admin:<role>``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from idp.admin.roles import ROLE_SCOPES, Role
from tests.conftest import make_client
from tests.support.browser import Browser

AdminToken = Callable[..., dict[str, str]]


@pytest.fixture()
def admin_headers(app: Flask, browser: Browser) -> AdminToken:
    """``admin_headers(Role.SUPPORT, ...)``: an Authorization header for a fresh client's token
    carrying those roles' scopes (the client registered with the operator's yes to them)."""

    def headers(*roles: Role) -> dict[str, str]:
        scopes = [scope for scope, role in ROLE_SCOPES.items() if role in roles]
        rp = make_client(
            app,
            redirect_uris=[],
            grant_types=["client_credentials"],
            scope=" ".join(scopes),
            allowed_reserved=frozenset(scopes),
        )
        answer = browser.http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
            auth=(rp.client_id, rp.secret or ""),
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}

    return headers
