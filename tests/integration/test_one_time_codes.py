"""One-time codes against the real databases: expiry, single use, attempt limits, both under
concurrent requests; the SMS gateway against a real loopback HTTP server; the counter's CLI; the
registry's mobile numbers; purge; the migration both ways."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from idp.auth.one_time_codes import (
    Channel,
    Purpose,
    Redeemed,
    issue_activation_code,
    issue_sms_code,
    read_code,
    redeem,
)
from idp.credentials.registries import RowError, parse_row
from idp.notify.sms import GatewaySender, SmsError
from idp.services import services
from idp.store.db import db, utcnow
from idp.store.migrate import downgrade, upgrade
from idp.store.models import OneTimeCode
from idp.store.purge import purge_expired
from idp.store.registry import find_record, read_mobile, upsert_record
from idp.store.subjects import person_index
from tests.support.identities import new_id_number
from tests.support.registry import id_card_cells, put_on_record


def subject() -> str:
    return person_index(services().cipher, new_id_number())


def test_a_code_is_used_once(ctx: Flask) -> None:
    svc, who = services(), subject()
    code = issue_activation_code(svc, Purpose.REGISTER, who)
    assert redeem(svc, Purpose.REGISTER, Channel.COUNTER, who, code) is Redeemed.OK
    assert redeem(svc, Purpose.REGISTER, Channel.COUNTER, who, code) is Redeemed.NONE


def test_a_code_is_bound_to_its_purpose_channel_and_subject(ctx: Flask) -> None:
    svc, who = services(), subject()
    code = issue_activation_code(svc, Purpose.REGISTER, who)
    assert redeem(svc, Purpose.RESET, Channel.COUNTER, who, code) is Redeemed.NONE
    assert redeem(svc, Purpose.REGISTER, Channel.SMS, who, code) is Redeemed.NONE
    assert redeem(svc, Purpose.REGISTER, Channel.COUNTER, subject(), code) is Redeemed.NONE
    assert redeem(svc, Purpose.REGISTER, Channel.COUNTER, who, code) is Redeemed.OK


def test_an_expired_code_is_refused(ctx: Flask) -> None:
    svc, who = services(), subject()
    sent = issue_sms_code(svc, Purpose.REGISTER, who, "127.0.0.2")
    assert sent is not None
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == sent.row_id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert redeem(svc, Purpose.REGISTER, Channel.SMS, who, sent.code) is Redeemed.NONE


def test_a_new_code_retires_the_previous_one(ctx: Flask) -> None:
    svc, who = services(), subject()
    first = issue_activation_code(svc, Purpose.RESET, who)
    second = issue_activation_code(svc, Purpose.RESET, who)
    assert redeem(svc, Purpose.RESET, Channel.COUNTER, who, first) is Redeemed.WRONG
    assert redeem(svc, Purpose.RESET, Channel.COUNTER, who, second) is Redeemed.OK


def test_wrong_entries_burn_the_code(ctx: Flask) -> None:
    svc, who = services(), subject()
    code = issue_activation_code(svc, Purpose.REGISTER, who)
    limit = svc.settings.one_time_code_attempts
    wrong = "2" * 12 if code != "2" * 12 else "3" * 12
    results = [redeem(svc, Purpose.REGISTER, Channel.COUNTER, who, wrong) for _ in range(limit)]
    assert results == [Redeemed.WRONG] * limit
    assert redeem(svc, Purpose.REGISTER, Channel.COUNTER, who, code) is Redeemed.NONE


def _race(app: Flask, count: int, attempt: Any) -> list[Redeemed]:
    start = threading.Barrier(count)

    def one(_: int) -> Redeemed:
        with app.app_context():
            start.wait()
            try:
                result: Redeemed = attempt()
                return result
            finally:
                db.session.remove()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_racing_right_entries_use_the_code_once(app: Flask) -> None:
    with app.app_context():
        svc, who = services(), subject()
        code = issue_activation_code(svc, Purpose.REGISTER, who)
    results = _race(
        app, 8, lambda: redeem(services(), Purpose.REGISTER, Channel.COUNTER, who, code)
    )
    assert sorted(results).count(Redeemed.OK) == 1


def test_racing_wrong_entries_compare_at_most_the_limit(app: Flask) -> None:
    with app.app_context():
        svc, who = services(), subject()
        code = issue_activation_code(svc, Purpose.REGISTER, who)
        limit = svc.settings.one_time_code_attempts
    wrong = "2" * 12 if code != "2" * 12 else "3" * 12
    results = _race(
        app, 12, lambda: redeem(services(), Purpose.REGISTER, Channel.COUNTER, who, wrong)
    )
    assert results.count(Redeemed.WRONG) == limit
    with app.app_context():
        attempts = db.session.scalar(
            select(OneTimeCode.attempts).where(OneTimeCode.subject_index == who)
        )
        assert attempts == limit


def test_codes_are_stored_only_as_digests(ctx: Flask) -> None:
    svc, who = services(), subject()
    code = issue_activation_code(svc, Purpose.REGISTER, who)
    rows = db.session.execute(text("SELECT * FROM one_time_codes")).all()
    assert not any(code in str(row) for row in rows)


def test_what_people_type_is_read_as_a_code() -> None:
    assert read_code(" 123 456 ") == (Channel.SMS, "123456")
    assert read_code("abcd-efgh-jkmn") == (Channel.COUNTER, "ABCDEFGHJKMN")
    assert read_code("12345") is None
    assert read_code("ABCD-EFGH-JKM0") is None  # 0 is not in the alphabet


def test_purge_deletes_dead_codes(ctx: Flask) -> None:
    svc, who = services(), subject()
    issue_activation_code(svc, Purpose.REGISTER, who)
    later = time.time() + svc.settings.activation_code_ttl + 2 * 24 * 3600
    assert (
        purge_expired(
            svc.settings.session_ttl, now=later, history_days=svc.settings.sign_in_history_days
        )["one_time_codes"]
        >= 1
    )
    assert db.session.scalar(select(OneTimeCode.id).where(OneTimeCode.subject_index == who)) is None


# -- the registry's mobile numbers ----------------------------------------------------------


def test_the_registry_keeps_the_mobile_encrypted_and_apart_from_certificates(app: Flask) -> None:
    on_record = put_on_record(app, mobile="+86 139-1234-5678")
    with app.app_context():
        cipher = services().cipher
        record = find_record(cipher, "resident_id", on_record.number)
        assert record is not None
        assert read_mobile(cipher, record) == "13912345678"
        assert b"13912345678" not in record.mobile_cipher
        version = record.version
        # A new mobile number is no new record version: no certificate carries it.
        row = parse_row(
            "resident_id", id_card_cells(on_record.number, on_record.name, "13700000000")
        )
        assert upsert_record(cipher, row) == "updated"
        db.session.commit()
        assert read_mobile(cipher, record) == "13700000000" and record.version == version
        assert (
            "mobile"
            not in parse_row("resident_id", id_card_cells(on_record.number, "x", None)).data
        )


@pytest.mark.parametrize("bad", ["1391234567", "23912345678", "12912345678", "phone"])
def test_a_bad_mobile_is_a_row_error(bad: str) -> None:
    with pytest.raises(RowError, match="mobile"):
        parse_row("resident_id", id_card_cells(new_id_number(), "赵敏", bad))


# -- the SMS gateway, for real over loopback -------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    _Gateway.received, _Gateway.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send"
    finally:
        server.shutdown()
        server.server_close()


def test_the_gateway_sender_posts_json(gateway: str) -> None:
    GatewaySender(gateway, 5).send("13912345678", "code 123456")
    assert _Gateway.received == [{"mobile": "13912345678", "text": "code 123456"}]


def test_a_failing_gateway_is_an_sms_error_without_the_text(gateway: str) -> None:
    _Gateway.status = 500
    with pytest.raises(SmsError, match="500") as raised:
        GatewaySender(gateway, 5).send("13912345678", "code 123456")
    assert "123456" not in str(raised.value)
    with pytest.raises(SmsError, match="unreachable"):
        GatewaySender("http://127.0.0.1:9/send", 1).send("13912345678", "code 123456")


def test_a_failing_gateway_gives_a_page_not_a_500(app: Flask, gateway: str) -> None:
    from dataclasses import replace

    from tests.integration.test_registration import send_sms, start
    from tests.support.browser import Browser

    _Gateway.status = 503
    svc = app.extensions["yihao"]
    app.extensions["yihao"] = replace(svc, settings=replace(svc.settings, sms_gateway_url=gateway))
    try:
        on_record = put_on_record(app)
        browser = Browser(app.test_client())
        browser.http.environ_base["REMOTE_ADDR"] = "127.9.9.9"
        start(browser, "/register", on_record.number, on_record.name)
        response = send_sms(browser)
        assert response.status_code == 503
        assert "activation code" in response.get_data(
            as_text=True
        ) or "激活码" in response.get_data(as_text=True)
        assert browser.get("/dev/sms-outbox").status_code == 404  # a gateway: no outbox
    finally:
        app.extensions["yihao"] = svc
    assert _Gateway.received and _Gateway.received[0]["mobile"] == on_record.mobile


# -- the migration ----------------------------------------------------------------------------


def test_the_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    downgrade(url, "0009")
    upgrade(url)
