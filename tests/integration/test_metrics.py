"""``/metrics`` (idp.web.metrics, idp.observability): who may read it, and that the counters move
when tokens are issued, people sign in or fail to, and a throttle refuses."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import text
from yihao.holder import Holder

from idp.app import create_app
from idp.auth.passwords import Passwords
from idp.cli import main
from idp.cli.dev_pki import ensure_pki, issuer_profile
from idp.config import Argon2Params, ConfigError, Settings, load_settings
from idp.credentials.status import forget_cached
from idp.keys.pki import generate_root
from idp.services import Services, services
from idp.store.db import db
from idp.throttle.keys import address_digest
from tests.conftest import Citizen, RegisteredClient, make_client
from tests.integration.test_credentials import _cli_env, _credential, _holding
from tests.support.browser import Authorization, Browser
from tests.support.metrics import Samples, moved, parse, value
from tests.support.oidc import client_auth, login, redeem

SIGN_INS = "idp_sign_ins_total"
REQUESTS = "idp_http_requests_total"


def scrape(app: Flask, address: str = "127.0.0.1") -> Samples:
    answer = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 200, answer.status_code
    assert answer.content_type.startswith("text/plain")
    return parse(answer.get_data(as_text=True))


def _browser(app: Flask, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


# --- who may read them --------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["192.0.2.10", "10.0.0.1", "2001:db8::1", "not an address"])
def test_other_addresses_get_not_found(app: Flask, address: str) -> None:
    answer = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 404
    assert b"idp_" not in answer.get_data()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_may_read_them_by_default(app: Flask, address: str) -> None:
    assert any(name == REQUESTS for name, _ in scrape(app, address))


def test_the_allowed_networks_are_a_setting(settings: Settings) -> None:
    allowed = (ipaddress.ip_network("10.1.0.0/16"),)
    client = create_app(replace(settings, metrics_allow=allowed)).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404


def test_behind_a_proxy_the_scrapers_own_address_is_checked(settings: Settings) -> None:
    client = create_app(replace(settings, proxy_hops=1)).test_client()
    # The proxy itself is on loopback; the scraper it forwards for is not.
    outside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.4"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    inside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", environ_base=inside).status_code == 200


def test_the_setting_takes_addresses_and_networks(tmp_path: Path) -> None:
    env = {"IDP_INSTANCE_DIR": str(tmp_path)}
    default = load_settings(env).metrics_allow
    assert [str(n) for n in default] == ["127.0.0.0/8", "::1/128"]
    given = load_settings({**env, "IDP_METRICS_ALLOW": " 10.0.0.0/8 , 192.0.2.7,"}).metrics_allow
    assert [str(n) for n in given] == ["10.0.0.0/8", "192.0.2.7/32"]
    assert load_settings({**env, "IDP_METRICS_ALLOW": ""}).metrics_allow == ()
    for wrong in ("10.0.0.1/8", "localhost", "10.0.0.0/33"):
        with pytest.raises(ConfigError, match="IDP_METRICS_ALLOW"):
            load_settings({**env, "IDP_METRICS_ALLOW": wrong})


# --- what they count ----------------------------------------------------------------------------


def test_requests_are_counted_by_endpoint_never_by_path(app: Flask) -> None:
    before = scrape(app)
    client = app.test_client()
    client.get("/healthz")
    client.get("/.well-known/openid-configuration")
    client.get("/no/such/page/110105199001011234")
    client.open("/healthz", method="BREW")
    after = scrape(app)
    labels = {"method": "GET", "status": "200"}
    assert moved(before, after, REQUESTS, endpoint="health.healthz", **labels) == 1
    assert moved(before, after, REQUESTS, endpoint="documents.discovery", **labels) == 1
    assert moved(before, after, REQUESTS, endpoint="unmatched", method="GET", status="404") == 1
    assert moved(before, after, REQUESTS, endpoint="unmatched", method="other", status="405") == 1
    count = "idp_http_request_duration_seconds_count"
    assert moved(before, after, count, endpoint="health.healthz") == 1
    assert not any("110105" in str(key) or "BREW" in str(key) for key in after)


def test_a_token_request_counts_a_token_of_its_grant(app: Flask, rp: RegisteredClient) -> None:
    before = scrape(app)
    answer = app.test_client().post(
        "/token", data={"grant_type": "client_credentials"}, auth=client_auth(rp)
    )
    assert answer.status_code == 200, answer.get_json()
    refused = app.test_client().post(
        "/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, "wrong")
    )
    assert refused.status_code == 401
    after = scrape(app)
    name = "idp_tokens_issued_total"
    assert moved(before, after, name, grant_type="client_credentials") == 1
    assert moved(before, after, REQUESTS, endpoint="oidc.token", method="POST", status="401") == 1


def test_sign_ins_are_counted_by_method_and_result(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    before = scrape(app)
    page = browser.authorize(Authorization(rp.client_id, rp.redirect_uri))
    assert browser.submit(page, username=citizen.number, password="wrong").status_code == 401
    request, params = login(browser, rp, citizen)
    assert redeem(browser, rp, params["code"], request.verifier).status_code == 200
    after = scrape(app)
    assert moved(before, after, SIGN_INS, method="password", result="failure") == 1
    assert moved(before, after, SIGN_INS, method="password", result="success") == 1
    assert moved(before, after, "idp_tokens_issued_total", grant_type="authorization_code") == 1


def test_throttled_requests_are_counted_by_gate(app: Flask) -> None:
    flooder = "10.77.0.1"
    with app.app_context():
        throttle = services().throttle
        digest = address_digest(services().cipher, flooder)
        for number in range(throttle.policy.address_limit):
            throttle.admit(f"test:{number}", digest, recognised=False)
    before = scrape(app)
    browser = _browser(app, flooder)
    for _ in range(3):  # only the first of a window is logged; each one is counted
        assert browser.http.post("/interaction/whatever").status_code == 429
    after = scrape(app)
    gate = "address_gate"
    assert moved(before, after, "idp_throttled_requests_total", gate=gate) == 3
    assert moved(before, after, REQUESTS, endpoint=gate, method="POST", status="429") == 3


def test_the_hash_queue_is_a_gauge() -> None:
    passwords = Passwords(Argon2Params(memory_kib=1024, time_cost=1, concurrent=1, queue=2))
    running, release = threading.Event(), threading.Event()

    def hold(_: str) -> str:
        running.set()
        release.wait(10)
        return "done"

    base = _queue()
    first = threading.Thread(target=passwords._run, args=(hold, "a"))
    first.start()
    assert running.wait(10)
    second = threading.Thread(target=passwords._run, args=(hold, "b"))
    second.start()
    _wait_for(lambda: _queue() == base + 1)  # one hashing, one waiting for the thread
    release.set()
    first.join(10)
    second.join(10)
    assert _queue() == base


def test_checked_out_connections_are_a_gauge(app: Flask) -> None:
    with app.app_context():
        base = value(scrape(app), "idp_db_pool_checked_out")
        connection = db.engine.connect()
        connection.execute(text("SELECT 1"))
        held = value(scrape(app), "idp_db_pool_checked_out")
        connection.close()
        db.session.remove()
    # The scrape itself holds the session's connection while it answers.
    assert held >= base + 1
    # Another thread of this process (a back-channel delivery) may hold one for a moment.
    _wait_for(lambda: value(scrape(app), "idp_db_pool_checked_out") <= held - 1)


def test_the_issuer_certificate_expiry_is_reported(app: Flask, settings: Settings) -> None:
    found = scrape(app)
    for purpose in ("issuer", "trust_list"):
        left = value(found, "idp_issuer_certificate_expiry_seconds", purpose=purpose)
        assert 0 < left <= settings.issuer_cert_days * 86400


def test_an_issuer_certificate_near_its_end_is_warned_about_once(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    svc: Services = app.extensions["yihao"]
    with app.app_context():
        root = generate_root("Test root, short issuer")
        profile = {**issuer_profile(svc.settings), "valid_days": 10}
        kid = svc.issuer.rotate(*root, **profile)
        try:
            with caplog.at_level(logging.WARNING, logger="idp.keys.issuer"):
                svc.issuer.signer()
                left = value(scrape(app), "idp_issuer_certificate_expiry_seconds", purpose="issuer")
                svc.issuer._snapshot.clear()  # reloaded as after IDP_KEY_CACHE_SECONDS
                svc.issuer.signer()
        finally:
            ensure_pki(svc)  # back under the test root, for the tests that follow
    assert 9 * 86400 < left <= 10 * 86400
    warnings = [r.getMessage() for r in caplog.records if r.name == "idp.keys.issuer"]
    assert len(warnings) == 1, warnings
    assert kid in warnings[0] and "expires in 9 days" in warnings[0]


def test_certificates_issued_and_revoked_and_status_lists_signed_are_counted(
    app: Flask, browser: Browser
) -> None:
    with app.app_context():
        ensure_pki(services())  # another test may have moved the issuer to a root of its own
    wallet = make_client(app, scope="openid credentials", allowed_reserved={"credentials"})
    before, started = scrape(app), time.time()
    holding = _holding(app, browser, wallet)
    _credential(browser, holding, Holder(), "id_card.housing_fund")
    runner, env = CliRunner(), _cli_env(app)
    for _ in range(2):  # the second finds it revoked already, and counts nothing
        assert (
            runner.invoke(main, ["credentials", "revoke", holding.identifier], env=env).exit_code
            == 0
        )
    with app.app_context():
        forget_cached()
    assert browser.get("/sl/1").status_code == 200
    after = scrape(app)
    assert moved(before, after, "idp_credentials_issued_total", type="id_card") == 1
    by = {"reason": "unspecified", "by": "operator"}
    assert moved(before, after, "idp_certificates_revoked_total", **by) == 1
    assert value(after, "idp_status_list_signed_timestamp_seconds") >= int(started)


def _queue() -> float:
    return REGISTRY.get_sample_value("idp_argon2_queue_length") or 0.0


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")
