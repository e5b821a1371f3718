"""Subject identifiers (OIDC Core 8), the claims each scope releases (5.4, Yihao's id_number),
the audit of every release and the withdrawal of consent."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from idp.store.db import db
from idp.store.models import Release
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.support.browser import Authorization, Browser, csrf_of, location_params
from tests.support.oidc import (
    id_token_claims,
    introspect,
    is_dead,
    login,
    refresh,
    tokens_for,
    userinfo,
)

PERSONAL_CLAIMS = {"name", "gender", "birthdate", "phone_number", "address", "id_number"}


class SectorServer:
    """A loopback HTTP server publishing sector identifier documents (OIDC Registration 5)."""

    def __init__(self) -> None:
        self.documents: dict[str, list[str]] = {}
        documents = self.documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = documents.get(self.path)
                body = json.dumps(found).encode() if found is not None else b"not found"
                self.send_response(200 if found is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def publish(self, name: str, redirect_uris: list[str]) -> str:
        self.documents[f"/{name}.json"] = redirect_uris
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}.json"


@pytest.fixture(scope="module")
def sectors() -> Iterator[SectorServer]:
    server = SectorServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def sub_at(browser: Browser, rp: RegisteredClient, citizen: Citizen) -> str:
    tokens = tokens_for(browser, rp, citizen, scope="openid")
    return str(id_token_claims(browser, tokens["id_token"])["sub"])


# --- subject identifiers -----------------------------------------------------------------------


def test_pairwise_subjects_differ_between_sectors_and_are_stable(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # OIDC Core 8.1: a different sub per sector, the same one every time within a sector.
    first = make_client(app, redirect_uris=["https://tax.example/cb"])
    second = make_client(app, redirect_uris=["https://housing.example/cb"])
    sub_first = sub_at(browser, first, citizen)
    assert sub_first == sub_at(browser, first, citizen)
    sub_second = sub_at(browser, second, citizen)
    assert sub_first != sub_second
    for sub in (sub_first, sub_second):
        assert citizen.number not in sub and citizen.number[6:14] not in sub


def test_clients_sharing_a_sector_identifier_get_the_same_subject(
    app: Flask, browser: Browser, citizen: Citizen, sectors: SectorServer
) -> None:
    # OIDC Core 8.1: clients with one sector_identifier_uri receive the same pairwise sub.
    uris = ["https://a.sector.example/cb", "https://b.sector.example/cb"]
    sector_uri = sectors.publish("province-tax", uris)
    first = make_client(app, redirect_uris=[uris[0]], sector_identifier_uri=sector_uri)
    second = make_client(app, redirect_uris=[uris[1]], sector_identifier_uri=sector_uri)
    outsider = make_client(app, redirect_uris=["https://a.sector.example/other"])
    shared = sub_at(browser, first, citizen)
    assert shared == sub_at(browser, second, citizen)
    # Same redirect host, but no sector document: a different sector, a different sub.
    assert shared != sub_at(browser, outsider, citizen)


def test_sector_document_must_list_every_redirect_uri(app: Flask, sectors: SectorServer) -> None:
    # OIDC Registration 5: the sector document must contain all of the client's redirect URIs.
    from idp.oauth.registration import RegistrationError

    sector_uri = sectors.publish("partial", ["https://c.sector.example/cb"])
    with pytest.raises(RegistrationError, match="does not list"):
        make_client(
            app,
            redirect_uris=["https://c.sector.example/cb", "https://d.sector.example/cb"],
            sector_identifier_uri=sector_uri,
        )


def test_public_subject_type_is_the_same_for_every_client(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # OIDC Core 8: subject_type public provides the same sub to all clients.
    first = make_client(app, redirect_uris=["https://p1.example/cb"], subject_type="public")
    second = make_client(app, redirect_uris=["https://p2.example/cb"], subject_type="public")
    pairwise = make_client(app, redirect_uris=["https://p1.example/cb2"])
    public_sub = sub_at(browser, first, citizen)
    assert public_sub == sub_at(browser, second, citizen)
    assert public_sub != sub_at(browser, pairwise, citizen)
    assert citizen.number not in public_sub


# --- claims ------------------------------------------------------------------------------------


def test_id_number_is_released_only_to_clients_registered_for_it(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # Yihao's id_number scope (docs/claims.md): released only if registered and consented.
    allowed = make_client(app, scope="openid profile id_number")
    other = make_client(app, scope="openid profile")

    tokens = tokens_for(browser, allowed, citizen, scope="openid id_number")
    claims = id_token_claims(browser, tokens["id_token"])
    assert claims["id_number"] == citizen.number
    assert claims["id_document_type"]
    assert userinfo(browser, tokens["access_token"]).get_json()["id_number"] == citizen.number
    assert citizen.number not in claims["sub"]

    tokens = tokens_for(browser, other, citizen, scope="openid profile id_number")
    assert "id_number" not in tokens["scope"].split()
    claims = id_token_claims(browser, tokens["id_token"])
    assert "id_number" not in claims and "id_document_type" not in claims
    info = userinfo(browser, tokens["access_token"]).get_json()
    assert "id_number" not in info and citizen.number not in json.dumps(info)


def test_id_number_needs_its_own_consent(app: Flask, browser: Browser, citizen: Citizen) -> None:
    # OIDC Core 3.1.2.4: consent covers the scopes shown; a new sensitive scope asks again.
    rp = make_client(app, scope="openid profile id_number")
    login(browser, rp, citizen, scope="openid profile")
    silent = Authorization(
        rp.client_id, rp.redirect_uri, scope="openid id_number", extra={"prompt": "none"}
    )
    response = browser.authorize(silent)
    assert location_params(response)["error"] == "consent_required"
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri, scope="openid id_number"))
    assert page.status_code == 200 and 'name="decision"' in page.get_data(as_text=True)
    denied = browser.follow(browser.submit(page, decision="deny"))
    assert location_params(denied)["error"] == "access_denied"


def test_scopes_release_their_claims_and_nothing_more(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 5.4: each scope requests its claims; openid alone releases only sub.
    tokens = tokens_for(browser, rp, citizen, scope="openid")
    claims = id_token_claims(browser, tokens["id_token"])
    assert not PERSONAL_CLAIMS & set(claims)
    assert set(userinfo(browser, tokens["access_token"]).get_json()) <= {"sub", "entity_type"}

    tokens = tokens_for(browser, rp, citizen, scope="openid phone address")
    info = userinfo(browser, tokens["access_token"]).get_json()
    assert info["phone_number"] == "13900000000" and info["address"]["country"] == "CN"
    assert "name" not in info and "birthdate" not in info


# --- audit and consent withdrawal --------------------------------------------------------------


def releases(app: Flask, citizen: Citizen) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.query(Release).filter_by(person_id=citizen.person_id).all()
        return [(r.client_id, r.channel, r.claims) for r in rows]


def test_every_release_is_recorded_and_shown_on_the_account_page(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # PIPL 44-45 / OIDC Core 5.4: only personal claims count as a release; each one is logged.
    rp = make_client(app, name="不动产登记 Land registry")
    quiet = make_client(app, name="只要编号 Only sub")
    tokens = tokens_for(browser, quiet, citizen, scope="openid")
    userinfo(browser, tokens["access_token"])
    assert releases(app, citizen) == []

    tokens = tokens_for(browser, rp, citizen, scope="openid profile phone")
    assert userinfo(browser, tokens["access_token"]).status_code == 200
    recorded = releases(app, citizen)
    assert sorted(channel for _client, channel, _claims in recorded) == ["id_token", "userinfo"]
    for client_id, _channel, claims in recorded:
        assert client_id == rp.client_id
        assert set(claims.split()) == {"name", "gender", "birthdate", "phone_number"}

    page = browser.get("/account").get_data(as_text=True)
    assert "不动产登记 Land registry" in page
    assert "只要编号 Only sub" not in page  # sub alone is neither a release nor consented
    assert citizen.number not in page


def test_withdrawing_consent_revokes_tokens_and_asks_again(
    app: Flask, browser: Browser, citizen: Citizen
) -> None:
    # PIPL 15 / OIDC Core 3.1.2.4: withdrawn consent stops further releases to that client.
    rp = make_client(app, name="社保查询 Social security")
    tokens = tokens_for(browser, rp, citizen, scope="openid profile")
    assert introspect(browser, rp, tokens["access_token"])["active"] is True

    account = browser.get("/account")
    html = account.get_data(as_text=True)
    action = re.search(r'action="(/account/consents/\d+/withdraw)"', html)
    assert action is not None and "社保查询 Social security" in html
    refused = browser.http.post(action.group(1), data={})
    assert refused.status_code == 400  # CSRF-protected
    assert introspect(browser, rp, tokens["access_token"])["active"] is True
    done = browser.http.post(action.group(1), data={"csrf_token": csrf_of(html)})
    assert done.status_code == 302

    assert is_dead(browser, rp, tokens["access_token"])
    assert refresh(browser, rp, tokens["refresh_token"]).status_code == 400
    assert (
        "社保查询 Social security"
        not in browser.get("/account").get_data(as_text=True).split('id="consents-heading"')[1]
    )
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    assert page.status_code == 200 and 'name="decision"' in page.get_data(as_text=True)


def test_cannot_withdraw_someone_elses_consent(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # PIPL 15: only the person who consented may withdraw it.
    from tests.conftest import make_citizen

    tokens = tokens_for(browser, rp, citizen)
    html = browser.get("/account").get_data(as_text=True)
    action = re.search(r'action="(/account/consents/\d+/withdraw)"', html)
    assert action is not None
    intruder = Browser(app.test_client())
    login(intruder, make_client(app), make_citizen(app, name="王五"))
    intruder_html = intruder.get("/account").get_data(as_text=True)
    intruder.http.post(action.group(1), data={"csrf_token": csrf_of(intruder_html)})
    assert introspect(browser, rp, tokens["access_token"])["active"] is True
