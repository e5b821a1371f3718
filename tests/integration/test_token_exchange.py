"""Token exchange (RFC 8693): only along an operator's policy, only for live tokens the asking
client holds or is the audience of, results for one audience with ``act`` nested per hop."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from idp.admin import exchange
from idp.admin.roles import CLI
from idp.oauth.rfc8693 import ACCESS_TOKEN_TYPE, GRANT_TYPE
from idp.store.consents import withdraw_consent
from idp.store.crypto import token_digest
from idp.store.db import db
from idp.store.models import Consent, Enterprise, ExchangePolicy, Person, Token
from idp.store.subjects import change_representative
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.integration.test_dpop import bound_tokens, redeem_with
from tests.integration.test_enterprise import choose, finish, to_enterprise_page
from tests.support.browser import Browser, csrf_of
from tests.support.dpop import ProofKey, server_nonce
from tests.support.oidc import client_auth, introspect, refresh, tokens_for, userinfo

SCOPE = "openid profile"


def service(app: Flask, **overrides: object) -> RegisteredClient:
    """A confidential relying service (people sign in to it) that can also be an audience."""
    return make_client(app, scope="openid profile phone", **overrides)


def allow(app: Flask, client: RegisteredClient, audience: str, scope: str = "profile") -> None:
    with app.app_context():
        exchange.add_policy(CLI, client.client_id, audience, [scope])


def exchanged(
    browser: Browser,
    client: RegisteredClient,
    subject_token: str,
    headers: dict[str, str] | None = None,
    **params: str,
) -> TestResponse:
    data = {
        "grant_type": GRANT_TYPE,
        "subject_token": subject_token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        **params,
    }
    return browser.http.post("/token", data=data, auth=client_auth(client), headers=headers or {})


def refused(response: TestResponse, error: str, status: int = 400) -> None:
    body = response.get_json()
    assert (response.status_code, body.get("error")) == (status, error), body
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture()
def front(app: Flask) -> RegisteredClient:
    return service(app)


@pytest.fixture()
def back(app: Flask) -> RegisteredClient:
    return service(app)


@pytest.fixture()
def held(browser: Browser, front: RegisteredClient, citizen: Citizen) -> dict[str, Any]:
    """The token response a person's sign-in to ``front`` gave it."""
    return tokens_for(browser, front, citizen, scope=SCOPE)


def test_an_exchange_along_a_policy_gives_a_token_for_the_audience_only(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id, "profile phone")
    response = exchanged(browser, front, held["access_token"], audience=back.client_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # RFC 8693 2.2.1: the issued type, a bearer token, no refresh token; the scope is what both
    # the policy and the subject token allow (phone is in the policy but not in the token).
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["scope"] == "profile"
    assert 0 < body["expires_in"] <= held["expires_in"]

    original = introspect(browser, front, held["access_token"])
    seen = introspect(browser, back, body["access_token"])  # the audience may introspect it
    assert seen["active"] is True
    assert seen["aud"] == back.client_id
    assert seen["act"] == {"sub": front.client_id}  # RFC 8693 4.1
    assert seen["sub"] == original["sub"]  # the subject is the subject token's
    assert seen["client_id"] == front.client_id
    assert seen["exp"] <= original["exp"]
    assert "aud" not in original and "act" not in original
    # A bystander learns nothing of it (RFC 7662 2.1: only the holder and the audience).
    assert introspect(browser, service(app), body["access_token"]) == {"active": False}


def test_a_jwt_access_token_names_aud_act_and_sub(
    app: Flask, browser: Browser, back: RegisteredClient, citizen: Citizen
) -> None:
    front = service(app, access_token_format="jwt")
    allow(app, front, back.client_id)
    held = tokens_for(browser, front, citizen, scope=SCOPE)
    response = exchanged(browser, front, held["access_token"], resource=back.client_id)
    assert response.status_code == 200, response.get_json()
    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    claims = jwt.decode(response.get_json()["access_token"], keys, algorithms=["ES256"]).claims
    subject_claims = jwt.decode(held["access_token"], keys, algorithms=["ES256"]).claims
    assert claims["aud"] == back.client_id
    assert claims["act"] == {"sub": front.client_id}
    assert claims["sub"] == subject_claims["sub"]
    assert claims["scope"] == "profile"
    assert claims["exp"] <= subject_claims["exp"]


def test_a_second_ticking_mid_request_does_not_outlive_the_subject_token(
    app: Flask,
    browser: Browser,
    back: RegisteredClient,
    citizen: Citizen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The cap (the subject's expiry less now) and the new token's iat read one clock: with a
    # clock that moves a second at every reading, separate readings gave exp one past the cap.
    front = service(app, access_token_format="jwt")
    allow(app, front, back.client_id)
    held = tokens_for(browser, front, citizen, scope=SCOPE)
    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    # As if the subject token had a minute left, so that its remaining life is the cap.
    set_issued_at(app, held["access_token"], int(time.time()) + 60 - int(held["expires_in"]))
    real = time.time
    ticks = iter(range(1_000_000))
    monkeypatch.setattr(time, "time", lambda: real() + next(ticks))
    response = exchanged(browser, front, held["access_token"], audience=back.client_id)
    monkeypatch.setattr(time, "time", real)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        row = db.session.scalars(
            select(Token).where(Token.access_digest == token_digest(held["access_token"]))
        ).one()
        cap = row.get_expires_at()
    claims = jwt.decode(response.get_json()["access_token"], keys, algorithms=["ES256"]).claims
    assert claims["exp"] <= cap
    assert introspect(browser, back, response.get_json()["access_token"])["exp"] <= cap


def test_each_hop_nests_act_and_keeps_the_subject(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    third, fourth = service(app), service(app)
    allow(app, front, back.client_id)
    allow(app, back, third.client_id)
    allow(app, third, fourth.client_id)
    sub = introspect(browser, front, held["access_token"])["sub"]
    first = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    # The audience of the first hop exchanges onward: it is the token's audience, not its holder.
    response = exchanged(browser, back, first["access_token"], audience=third.client_id)
    assert response.status_code == 200, response.get_json()
    second = response.get_json()["access_token"]
    seen = introspect(browser, third, second)
    assert seen["act"] == {"sub": back.client_id, "act": {"sub": front.client_id}}
    assert seen["aud"] == third.client_id
    assert seen["sub"] == sub
    # A third hop still names the person as the first client knew them, not as back does.
    response = exchanged(browser, third, second, audience=fourth.client_id)
    assert response.status_code == 200, response.get_json()
    seen = introspect(browser, fourth, response.get_json()["access_token"])
    assert seen["act"] == {
        "sub": third.client_id,
        "act": {"sub": back.client_id, "act": {"sub": front.client_id}},
    }
    assert seen["sub"] == sub


def test_a_client_without_a_policy_is_unauthorized(
    browser: Browser, front: RegisteredClient, back: RegisteredClient, held: dict[str, Any]
) -> None:
    refused(
        exchanged(browser, front, held["access_token"], audience=back.client_id),
        "unauthorized_client",
    )


def test_an_audience_outside_the_policies_is_invalid_target(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    response = exchanged(browser, front, held["access_token"], audience="https://other.example")
    refused(response, "invalid_target")
    # Each policy opens its own audience only: the other client's policy opens none for this one.
    allow(app, back, "https://other.example")
    refused(
        exchanged(browser, front, held["access_token"], audience="https://other.example"),
        "invalid_target",
    )


@pytest.mark.parametrize(
    "scope",
    [
        "profile phone",  # phone: in the policy, not in the subject token
        "openid",  # in the subject token, not in the policy
        "address",  # in neither
    ],
)
def test_a_scope_beyond_the_policy_or_the_subject_token_is_invalid_scope(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
    scope: str,
) -> None:
    allow(app, front, back.client_id, "profile phone")
    response = exchanged(browser, front, held["access_token"], audience=back.client_id, scope=scope)
    refused(response, "invalid_scope")
    ok = exchanged(browser, front, held["access_token"], audience=back.client_id, scope="profile")
    assert ok.status_code == 200, ok.get_json()


def test_a_revoked_subject_token_is_refused(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    revoked = browser.http.post(
        "/revoke", data={"token": held["access_token"]}, auth=client_auth(front)
    )
    assert revoked.status_code == 200
    refused(
        exchanged(browser, front, held["access_token"], audience=back.client_id), "invalid_request"
    )


def test_an_expired_subject_token_is_refused(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    set_issued_at(app, held["access_token"], int(time.time()) - held["expires_in"] - 5)
    refused(
        exchanged(browser, front, held["access_token"], audience=back.client_id), "invalid_request"
    )


def test_the_result_lives_no_longer_than_its_subject_token(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    set_issued_at(app, held["access_token"], int(time.time()) - held["expires_in"] + 30)
    response = exchanged(browser, front, held["access_token"], audience=back.client_id)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expires_in"] <= 30


def test_a_token_the_client_neither_holds_nor_is_the_audience_of_is_refused(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, back, "https://other.example")
    # ``back`` has a policy, but the token is front's: seeing a token gives no right to it.
    response = exchanged(browser, back, held["access_token"], audience="https://other.example")
    refused(response, "invalid_request")


def test_a_refresh_token_or_a_clients_own_token_is_no_subject_token(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id, "openid profile")
    refused(
        exchanged(browser, front, held["refresh_token"], audience=back.client_id), "invalid_request"
    )
    own = own_token(browser, front)
    refused(exchanged(browser, front, own, audience=back.client_id), "invalid_request")


def test_revoking_the_subject_grant_revokes_the_exchanged_token(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    token = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    assert introspect(browser, back, token["access_token"])["active"] is True
    # RFC 7009 2.1: revoking the refresh token ends its grant, and the exchange is in that grant.
    revoked = browser.http.post(
        "/revoke", data={"token": held["refresh_token"]}, auth=client_auth(front)
    )
    assert revoked.status_code == 200
    assert introspect(browser, back, token["access_token"]) == {"active": False}


def test_withdrawing_consent_at_the_first_service_revokes_every_hop(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    citizen: Citizen,
    held: dict[str, Any],
) -> None:
    third = service(app)
    allow(app, front, back.client_id)
    allow(app, back, third.client_id)
    first = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    onward = exchanged(browser, back, first["access_token"], audience=third.client_id).get_json()
    assert introspect(browser, third, onward["access_token"])["active"] is True
    with app.app_context():
        consent = db.session.scalars(
            select(Consent).filter_by(person_id=citizen.person_id, client_id=front.client_id)
        ).one()
        assert withdraw_consent(citizen.person_id, consent.id)
    # The hop held by back acted on the consent given to front: it ends with it.
    assert introspect(browser, third, onward["access_token"]) == {"active": False}


def test_signing_out_revokes_the_exchanged_token(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    # Back-Channel Logout 1.0 2.7: the session's grants end, and the exchange is in one of them.
    allow(app, front, back.client_id)
    token = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    html = browser.get("/account").get_data(as_text=True)
    assert (
        browser.http.post("/account/logout", data={"csrf_token": csrf_of(html)}).status_code < 400
    )
    assert introspect(browser, back, token["access_token"]) == {"active": False}


def test_a_refresh_keeps_the_exchanged_token_alive(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    # Rotation retires the old row, not the grant: the exchange runs out by its own expiry.
    allow(app, front, back.client_id)
    token = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    assert refresh(browser, front, held["refresh_token"]).status_code == 200
    assert introspect(browser, back, token["access_token"])["active"] is True


def test_an_exchanged_token_is_not_for_the_providers_own_apis(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id, "openid profile")
    token = exchanged(browser, front, held["access_token"], audience=back.client_id).get_json()
    assert "openid" in token["scope"].split()
    assert userinfo(browser, held["access_token"]).status_code == 200
    assert userinfo(browser, token["access_token"]).status_code == 401


def test_a_public_client_cannot_exchange(app: Flask, browser: Browser, citizen: Citizen) -> None:
    public = make_client(
        app, scope=SCOPE, auth_method="none", grant_types=["authorization_code", "refresh_token"]
    )
    held = redeem_with(browser, public, citizen, None, public=True).get_json()
    with app.app_context():  # as if an operator had let it (the admin task refuses that too)
        db.session.add(
            ExchangePolicy(
                client_id=public.client_id,
                audience="https://b.example",
                scopes="profile",
                created_by="cli",
            )
        )
        db.session.commit()
    data = {
        "grant_type": GRANT_TYPE,
        "client_id": public.client_id,
        "subject_token": held["access_token"],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": "https://b.example",
    }
    response = browser.http.post("/token", data=data)
    refused(response, "invalid_client", 401)


def test_an_actor_token_must_be_the_clients_own(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    mine = own_token(browser, front)
    theirs = own_token(browser, back)
    kind = {"actor_token_type": ACCESS_TOKEN_TYPE}
    response = exchanged(
        browser, front, held["access_token"], audience=back.client_id, actor_token=mine, **kind
    )
    assert response.status_code == 200, response.get_json()
    for actor in (theirs, held["access_token"], "garbage"):
        response = exchanged(
            browser, front, held["access_token"], audience=back.client_id, actor_token=actor, **kind
        )
        refused(response, "invalid_request")


def test_a_dpop_bound_subject_token_needs_a_proof_by_its_key(
    app: Flask, browser: Browser, front: RegisteredClient, back: RegisteredClient, citizen: Citizen
) -> None:
    allow(app, front, back.client_id)
    nonce = server_nonce(browser.http)
    key = ProofKey(nonce)
    held = bound_tokens(browser, front, citizen, key)
    plain = exchanged(browser, front, held["access_token"], audience=back.client_id)
    refused(plain, "invalid_request")
    other = exchanged(
        browser,
        front,
        held["access_token"],
        headers={"DPoP": ProofKey(nonce).proof()},
        audience=back.client_id,
    )
    refused(other, "invalid_request")
    proven = exchanged(
        browser, front, held["access_token"], headers={"DPoP": key.proof()}, audience=back.client_id
    )
    assert proven.status_code == 200, proven.get_json()
    assert proven.get_json()["token_type"] == "DPoP"
    assert introspect(browser, back, proven.get_json()["access_token"])["cnf"] == {
        "jkt": key.thumbprint
    }


def test_a_token_for_an_enterprise_is_exchanged_only_while_its_person_represents_it(
    app: Flask, browser: Browser, back: RegisteredClient
) -> None:
    representative = make_citizen(app, name="钱七")
    successor = make_citizen(app, name="孙八")
    enterprise_id = make_enterprise(app, representative)
    front = make_client(app, scope="openid profile enterprise")
    allow(app, front, back.client_id, "enterprise")
    request, page = to_enterprise_page(browser, front, representative)
    held = finish(browser, front, request, choose(browser, page, enterprise_id))
    ok = exchanged(browser, front, held["access_token"], audience=back.client_id)
    assert ok.status_code == 200, ok.get_json()
    assert (
        introspect(browser, back, ok.get_json()["access_token"])["sub"]
        == (introspect(browser, front, held["access_token"])["sub"])
    )
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        person = db.session.get(Person, successor.person_id)
        assert enterprise is not None and person is not None
        change_representative(enterprise, person)
        db.session.commit()
    refused(
        exchanged(browser, front, held["access_token"], audience=back.client_id), "invalid_request"
    )


BAD_INPUT: list[tuple[dict[str, str | list[str]], str]] = [
    ({"subject_token": ""}, "invalid_request"),
    ({"subject_token_type": ""}, "invalid_request"),
    ({"subject_token_type": "urn:ietf:params:oauth:token-type:id_token"}, "invalid_request"),
    ({"subject_token_type": "urn:x:unknown"}, "invalid_request"),
    ({"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}, "invalid_request"),
    ({"requested_token_type": "garbage"}, "invalid_request"),
    ({"subject_token": "garbage\x00"}, "invalid_request"),
    ({"subject_token": "a.b.c"}, "invalid_request"),
    ({"subject_token": "x" * 5000}, "invalid_request"),
    ({"audience": ""}, "invalid_request"),
    ({"audience": ["https://a.example", "https://b.example"]}, "invalid_target"),
    ({"audience": "x\x00"}, "invalid_target"),
    ({"audience": "x" * 300}, "invalid_target"),
    ({"actor_token": "x"}, "invalid_request"),
    ({"actor_token_type": ACCESS_TOKEN_TYPE}, "invalid_request"),
    ({"actor_token": "x", "actor_token_type": "urn:x:y"}, "invalid_request"),
    ({"scope": "\x00"}, "invalid_scope"),
]


@pytest.mark.parametrize(("changes", "error"), BAD_INPUT)
def test_bad_input_is_a_clear_400(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
    changes: dict[str, str | list[str]],
    error: str,
) -> None:
    allow(app, front, back.client_id)
    data: dict[str, str | list[str]] = {
        "grant_type": GRANT_TYPE,
        "subject_token": held["access_token"],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": back.client_id,
        **changes,
    }
    refused(browser.http.post("/token", data=data, auth=client_auth(front)), error)


def test_a_repeated_parameter_is_invalid_request(
    app: Flask,
    browser: Browser,
    front: RegisteredClient,
    back: RegisteredClient,
    held: dict[str, Any],
) -> None:
    allow(app, front, back.client_id)
    data = {
        "grant_type": GRANT_TYPE,
        "subject_token": [held["access_token"], held["access_token"]],
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": back.client_id,
    }
    refused(browser.http.post("/token", data=data, auth=client_auth(front)), "invalid_request")


def test_discovery_names_the_grant(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert GRANT_TYPE in metadata["grant_types_supported"]


def own_token(browser: Browser, client: RegisteredClient) -> str:
    """A client-credentials token: the client acting for itself."""
    response = browser.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=client_auth(client)
    )
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def set_issued_at(app: Flask, access_token: str, issued_at: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Token)
            .where(Token.access_digest == token_digest(access_token))
            .values(issued_at=issued_at)
        )
        db.session.commit()
