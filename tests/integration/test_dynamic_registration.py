"""Dynamic client registration (RFC 7591) and its management (RFC 7592): gated by initial access
tokens, under the same rules as every other door, and the client it makes signs citizens in."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey
from sqlalchemy import select

from idp.admin.clients import approve, edit, issue_initial_access_token, show_client
from idp.admin.roles import CLI
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import AdminAction, Client, InitialAccessToken
from idp.store.purge import purge_expired
from tests.conftest import Citizen, RegisteredClient
from tests.support.browser import Authorization, Browser, location_params
from tests.support.oidc import tokens_for, userinfo

REGISTER = "/connect/register"


def _initial_token(app: Flask, uses: int = 1) -> str:
    with app.app_context():
        token: str = issue_initial_access_token(CLI, uses=uses)["initial_access_token"]
        return token


def _metadata(**overrides: Any) -> dict[str, Any]:
    return {
        "client_name": "学位查询 Degree check",
        "redirect_uris": [f"https://dcr{secrets.token_hex(3)}.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid id_number",
        **overrides,
    }


def _register(browser: Browser, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return browser.http.post(REGISTER, json=body, headers=headers)


def test_discovery_lists_the_registration_endpoint(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["registration_endpoint"] == "http://localhost" + REGISTER


def test_without_a_valid_initial_access_token_nothing_is_registered(
    app: Flask, browser: Browser
) -> None:
    missing = _register(browser, None, _metadata())
    assert missing.status_code == 401 and missing.get_json()["error"] == "invalid_token"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert _register(browser, "not-a-token", _metadata()).status_code == 401
    expired = _initial_token(app)
    with app.app_context():
        row = db.session.scalar(select(InitialAccessToken).filter_by(digest=token_digest(expired)))
        assert row is not None
        row.expires_at -= timedelta(days=30)
        db.session.commit()
    assert _register(browser, expired, _metadata()).status_code == 401
    once = _initial_token(app)
    assert _register(browser, once, _metadata()).status_code == 201
    spent = _register(browser, once, _metadata())
    assert spent.status_code == 401 and spent.get_json()["error"] == "invalid_token"
    with app.app_context():
        assert purge_expired(3600, history_days=90)["initial_access_tokens"] >= 1
        gone = select(InitialAccessToken).filter_by(digest=token_digest(once))
        assert db.session.scalar(gone) is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"redirect_uris": ["http://plain.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://rp.example/cb#f"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://[broken/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://rp.example/cb"}, "invalid_client_metadata"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"scope": "openid email"}, "invalid_client_metadata"),
        ({"scope": 5}, "invalid_client_metadata"),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"),
        ({"client_name": ""}, "invalid_client_metadata"),
        ({"jwks_uri": "https://rp.example/jwks"}, "invalid_client_metadata"),
        ({"subject_type": "random"}, "invalid_client_metadata"),
        ({"id_token_signed_response_alg": "none"}, "invalid_client_metadata"),
    ],
)
def test_bad_metadata_is_a_json_error_of_rfc_7591(
    app: Flask, browser: Browser, body: dict[str, Any], error: str
) -> None:
    answer = _register(browser, _initial_token(app), _metadata(**body))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json" and answer.get_json()["error"] == error


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"[" * 100 + b"]" * 100])
def test_a_body_that_is_not_metadata_is_a_400(app: Flask, browser: Browser, raw: bytes) -> None:
    answer = browser.http.post(
        REGISTER,
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {_initial_token(app)}"},
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"


def test_a_registered_client_signs_in_and_its_personal_scope_waits_for_an_admin(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    answer = _register(browser, _initial_token(app), _metadata())
    assert answer.status_code == 201, answer.get_data(as_text=True)
    registered = answer.get_json()
    assert registered["scope"] == "openid" and "id_number" not in answer.get_data(as_text=True)
    assert registered["subject_type"] == "pairwise" and registered["client_secret_expires_at"] == 0
    assert registered["registration_client_uri"].endswith(REGISTER + "/" + registered["client_id"])
    with app.app_context():
        client = db.session.scalar(select(Client).filter_by(client_id=registered["client_id"]))
        assert client is not None and client.pending_scopes == "id_number"
        assert client.registration_token_digest == token_digest(
            registered["registration_access_token"]
        )
        recorded = db.session.scalar(
            select(AdminAction).filter_by(
                action="client.register_dynamic", target=registered["client_id"]
            )
        )
        assert recorded is not None
    rp = RegisteredClient(
        registered["client_id"], registered["client_secret"], registered["redirect_uris"][0]
    )
    # A real code flow with PKCE S256 (the helpers send it; the server requires it).
    body = tokens_for(browser, rp, citizen, scope="openid id_number")
    assert (
        body["id_token"] and "id_number" not in userinfo(browser, body["access_token"]).get_json()
    )
    with app.app_context():
        approve(CLI, rp.client_id)
    body = tokens_for(browser, rp, citizen, scope="openid id_number")
    assert userinfo(browser, body["access_token"]).get_json()["id_number"] == citizen.number


def test_without_pkce_the_registered_client_is_refused(app: Flask, browser: Browser) -> None:
    registered = _register(browser, _initial_token(app), _metadata(scope="openid")).get_json()
    request = Authorization(
        registered["client_id"],
        registered["redirect_uris"][0],
        extra={"code_challenge": None, "code_challenge_method": None},  # type: ignore[dict-item]
    )
    answer = browser.http.get("/authorize?" + request.query())
    # RFC 7636 4.4.1: the error goes to the (verified) redirect URI.
    assert location_params(answer)["error"] == "invalid_request"


def test_the_registration_is_read_updated_and_deleted_with_its_token(
    app: Flask, browser: Browser
) -> None:
    registered = _register(browser, _initial_token(app), _metadata(scope="openid")).get_json()
    uri = registered["registration_client_uri"].removeprefix("http://localhost")
    token = registered["registration_access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    read = browser.http.get(uri, headers=auth)
    assert read.status_code == 200 and read.get_json()["client_id"] == registered["client_id"]
    assert read.get_json()["registration_access_token"] == token
    assert browser.http.get(uri).status_code == 401
    other = _register(browser, _initial_token(app), _metadata(scope="openid")).get_json()
    assert browser.http.get(other["registration_client_uri"], headers=auth).status_code == 401

    host = registered["redirect_uris"][0].split("/")[2]
    update = {
        **_metadata(scope="openid phone"),
        "client_id": registered["client_id"],
        "redirect_uris": [f"https://{host}/cb", f"https://{host}/new"],
    }
    updated = browser.http.put(uri, json=update, headers=auth)
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert updated.get_json()["redirect_uris"] == update["redirect_uris"]
    assert updated.get_json()["scope"] == "openid"  # phone waits for an admin
    elsewhere = {**update, "redirect_uris": ["https://elsewhere.example/cb"]}
    moved = browser.http.put(uri, json=elsewhere, headers=auth)
    assert moved.status_code == 400 and moved.get_json()["error"] == "invalid_redirect_uri"
    no_id = {k: v for k, v in update.items() if k != "client_id"}
    assert browser.http.put(uri, json=no_id, headers=auth).status_code == 400

    assert browser.http.delete(uri, headers=auth).status_code == 204
    assert browser.http.get(uri, headers=auth).status_code == 401
    refused = browser.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_URIS = st.lists(
    st.sampled_from(["https://a.example/cb", "http://127.0.0.1:9/cb", "https://[x/cb", ""])
    | st.text(max_size=20),
    max_size=3,
)


def test_no_metadata_gets_a_server_error(app: Flask, browser: Browser) -> None:
    """Whatever the members hold, the answer is 201 or an RFC 7591 3.2.2 error, never a 5xx."""
    token = _initial_token(app, uses=100)
    names = [*_metadata(), "token_endpoint_auth_method", "jwks", "subject_type",
             "sector_identifier_uri", "post_logout_redirect_uris", "backchannel_logout_uri",
             "id_token_signed_response_alg", "contacts", "client_uri"]  # fmt: skip

    managed = _register(browser, token, _metadata(scope="openid")).get_json()
    uri = managed["registration_client_uri"]
    auth = {"Authorization": f"Bearer {managed['registration_access_token']}"}

    @given(st.dictionaries(st.sampled_from(names), _JSON | _URIS, max_size=6))
    @settings(max_examples=120, deadline=None, database=None)
    def fuzz(body: dict[str, Any]) -> None:
        answer = _register(browser, token, {**_metadata(), **body})
        assert answer.status_code in (201, 400, 401), answer.get_data(as_text=True)
        assert answer.status_code == 201 or "error" in answer.get_json()
        # RFC 7592 2.2: the same metadata as a replacement of a registration.
        same = {"redirect_uris": managed["redirect_uris"], "client_id": managed["client_id"]}
        update = {**_metadata(), **same, **body, "client_id": managed["client_id"]}
        replaced = browser.http.put(uri, json=update, headers=auth)
        assert replaced.status_code in (200, 400), replaced.get_data(as_text=True)

    fuzz()


def test_a_developers_update_keeps_the_profile_an_operator_chose(
    app: Flask, browser: Browser
) -> None:
    # RFC 7591 metadata has no profile: an update must not drop the client out of fapi2.
    key = ECKey.generate_key("P-256", parameters={"kid": "dcr"})
    keys = {"keys": [key.as_dict(private=False)]}
    body = _metadata(scope="openid", token_endpoint_auth_method="private_key_jwt", jwks=keys)
    registered = _register(browser, _initial_token(app), body).get_json()
    with app.app_context():
        edit(CLI, registered["client_id"], {"profile": "fapi2"})
    uri = registered["registration_client_uri"].removeprefix("http://localhost")
    auth = {"Authorization": f"Bearer {registered['registration_access_token']}"}
    update = {**body, "client_id": registered["client_id"], "client_name": "学位查询 v2"}
    assert browser.http.put(uri, json=update, headers=auth).status_code == 200
    with app.app_context():
        shown = show_client(CLI, registered["client_id"])
    assert shown["name"] == "学位查询 v2" and shown["profile"] == "fapi2"
    assert shown["require_pushed_authorization_requests"]
