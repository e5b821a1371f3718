"""OpenID Connect Back-Channel Logout 1.0: logout tokens reach a real HTTP receiver on loopback,
from a queue, with retries; ending a session revokes its tokens."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.cli import main
from idp.config import Settings
from idp.oauth.backchannel_logout import BACKOFF, EVENT, MAX_ATTEMPTS, deliver_due
from idp.oauth.registration import ClientSpec, RegistrationError, register_client
from idp.store.db import db
from idp.store.models import LogoutDelivery
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Authorization, Browser, csrf_of
from tests.support.oidc import id_token_claims, is_dead, tokens_for


class Receiver:
    """A relying party's back-channel endpoint: records each logout token, answers ``status``."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture()
def listening(app: Flask, receiver: Receiver) -> RegisteredClient:
    return make_client(app, backchannel_logout_uri=receiver.uri)


def _deliver(app: Flask, now: int | None = None) -> int:
    with app.app_context():
        return deliver_due(now)


def _pending(app: Flask, client_id: str) -> list[LogoutDelivery]:
    with app.app_context():
        rows = LogoutDelivery.query.filter_by(client_id=client_id).all()
        db.session.expunge_all()
        return rows


def _sign_out(browser: Browser) -> None:
    html = browser.get("/account").get_data(as_text=True)
    browser.http.post("/account/logout", data={"csrf_token": csrf_of(html)})


def _logout_claims(browser: Browser, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256"])
    assert decoded.header["typ"] == "logout+jwt"
    return dict(decoded.claims)


def test_sign_out_sends_each_participating_client_a_logout_token(
    app: Flask,
    browser: Browser,
    citizen: Citizen,
    listening: RegisteredClient,
    receiver: Receiver,
    rp: RegisteredClient,
) -> None:
    body = tokens_for(browser, listening, citizen)
    other = tokens_for(browser, rp, citizen)  # same session, no back-channel URI
    id_token = id_token_claims(browser, body["id_token"])
    _sign_out(browser)
    assert receiver.tokens == []  # queued, not sent on the request path
    assert _deliver(app) == 1

    (token,) = receiver.tokens
    claims = _logout_claims(browser, token)
    # Back-Channel Logout 1.0 section 2.4.
    assert claims["iss"] == "http://localhost" and claims["aud"] == listening.client_id
    assert claims["sub"] == id_token["sub"] and claims["sid"] == id_token["sid"]
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims and claims["jti"]
    assert 0 < int(claims["exp"]) - int(claims["iat"]) <= 120  # type: ignore[call-overload]
    # Section 2.7: the session's tokens go with it, at every client that got them.
    assert is_dead(browser, listening, body["access_token"])
    assert is_dead(browser, rp, other["access_token"])
    assert _deliver(app) == 0  # delivered once


def test_only_clients_of_the_ended_session_are_told(
    app: Flask, citizen: Citizen, listening: RegisteredClient, receiver: Receiver
) -> None:
    kept, ended = Browser(app.test_client()), Browser(app.test_client())
    kept_tokens = tokens_for(kept, listening, citizen)
    tokens_for(ended, listening, citizen)
    _sign_out(ended)
    _deliver(app)
    (token,) = receiver.tokens
    kept_sid = id_token_claims(kept, kept_tokens["id_token"])["sid"]
    assert _logout_claims(kept, token)["sid"] != kept_sid
    assert not is_dead(kept, listening, kept_tokens["access_token"])


def test_failed_deliveries_are_retried_with_backoff_then_given_up(
    app: Flask,
    browser: Browser,
    citizen: Citizen,
    listening: RegisteredClient,
    receiver: Receiver,
) -> None:
    tokens_for(browser, listening, citizen)
    receiver.status = 500
    _sign_out(browser)
    now = int(time.time())
    assert _deliver(app, now) == 0
    (row,) = _pending(app, listening.client_id)
    assert row.attempts == 1 and row.next_attempt_at >= now + BACKOFF and row.delivered_at is None
    assert _deliver(app, now + 1) == 0 and len(receiver.tokens) == 1  # not due yet
    receiver.status = 200
    assert _deliver(app, row.next_attempt_at) == 1
    (row,) = _pending(app, listening.client_id)
    assert row.delivered_at is not None and len(receiver.tokens) == 2

    tokens_for(browser, listening, citizen)
    receiver.status = 503
    _sign_out(browser)
    moment = int(time.time())
    for _ in range(MAX_ATTEMPTS + 2):
        _deliver(app, moment)
        moment += BACKOFF * 4**MAX_ATTEMPTS
    failing = [r for r in _pending(app, listening.client_id) if r.delivered_at is None]
    assert len(failing) == 1 and failing[0].attempts == MAX_ATTEMPTS
    assert failing[0].given_up_at is not None and failing[0].last_error == "HTTP 503"


def test_an_unreachable_receiver_is_given_a_bounded_wait(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    silent = make_client(app, backchannel_logout_uri="http://127.0.0.1:9/nobody")
    tokens_for(browser, silent, citizen)
    _sign_out(browser)
    assert _deliver(app) == 0
    (row,) = _pending(app, silent.client_id)
    assert row.attempts == 1 and row.last_error == "ConnectionError"


def test_ending_a_session_from_the_account_page_and_everywhere_tells_clients(
    app: Flask, citizen: Citizen, listening: RegisteredClient, receiver: Receiver
) -> None:
    desk, phone = Browser(app.test_client()), Browser(app.test_client())
    tokens_for(desk, listening, citizen)
    phone_sid = id_token_claims(phone, tokens_for(phone, listening, citizen)["id_token"])["sid"]
    html = desk.get("/account").get_data(as_text=True)
    desk.http.post(f"/account/sessions/{phone_sid}/end", data={"csrf_token": csrf_of(html)})
    _deliver(app)
    assert [_logout_claims(desk, t)["sid"] for t in receiver.tokens] == [phone_sid]

    html = desk.get("/account").get_data(as_text=True)
    desk.http.post("/account/sessions/end-all", data={"csrf_token": csrf_of(html)})
    _deliver(app)
    assert len(receiver.tokens) == 2


def test_disabling_a_person_ends_every_session_and_refuses_sign_in(
    app: Flask,
    settings: Settings,
    browser: Browser,
    citizen: Citizen,
    listening: RegisteredClient,
    receiver: Receiver,
) -> None:
    body = tokens_for(browser, listening, citizen)
    env = {
        "IDP_ENV": "testing",
        "IDP_DATABASE_URL": settings.database_url,
        "IDP_ISSUER": settings.issuer,
        "IDP_INSTANCE_DIR": str(settings.instance_dir),
        "IDP_CERTS_DIR": str(settings.certs_dir),
        "IDP_SECRET_KEY": settings.secret_key,
        "IDP_DATA_KEY": base64.urlsafe_b64encode(settings.data_key).decode(),
        "IDP_INDEX_KEY": base64.urlsafe_b64encode(settings.index_key).decode(),
    }
    result = CliRunner(env=env).invoke(
        main, ["person", "disable", "--id-number", citizen.number, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["sessions_ended"] == 1 and citizen.number not in result.output
    _deliver(app)
    assert len(receiver.tokens) == 1
    assert is_dead(browser, listening, body["access_token"])
    assert browser.get("/account").status_code == 302
    page = browser.authorize(Authorization(listening.client_id, listening.redirect_uri))
    refused = browser.submit(page, username=citizen.number, password=citizen.password)
    assert refused.status_code == 403  # the right password no longer signs in


@pytest.mark.parametrize(
    "uri",
    ["http://rp.example/bcl", "https://rp.example/bcl#frag", "/relative", "ftp://rp.example/"],
)
def test_a_backchannel_uri_is_validated_like_a_redirect_uri(ctx: Flask, uri: str) -> None:
    spec = ClientSpec(
        name="rp",
        redirect_uris=["https://rp.example/cb"],
        scope="openid",
        backchannel_logout_uri=uri,
    )
    with pytest.raises(RegistrationError, match="back-channel logout URI"):
        register_client(spec)


def test_session_required_needs_a_uri(ctx: Flask) -> None:
    spec = ClientSpec(
        name="rp",
        redirect_uris=["https://rp.example/cb"],
        scope="openid",
        backchannel_logout_session_required=True,
    )
    with pytest.raises(RegistrationError):
        register_client(spec)


def test_discovery_advertises_backchannel_logout(browser: Browser) -> None:
    metadata = browser.get("/.well-known/openid-configuration").get_json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
