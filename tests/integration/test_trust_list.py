"""The served trust list: signed by the trust-list key, numbered by a sequence that only grows."""

from __future__ import annotations

import pytest
from flask import Flask
from yihao.trust import TrustAnchors
from yihao.verifier import Verifier
from yihao.wire.trust_list import TrustListError, parse_trust_list

from idp.admin.keys import issuer_profile
from idp.cli.dev_pki import require_root
from idp.credentials.trust import sequence_for
from idp.keys.pki import ROOT_CERT_FILE
from idp.services import services
from tests.support.browser import Browser


def _fetch(browser: Browser) -> bytes:
    response = browser.get("/credentials/trust")
    assert response.status_code == 200 and response.mimetype == "application/cose"
    return response.data


def _counter(app: Flask) -> Verifier:
    root_pem = (app.extensions["yihao"].settings.certs_dir / ROOT_CERT_FILE).read_bytes()
    return Verifier(TrustAnchors.from_pem(root_pem))


def test_same_content_same_sequence(app: Flask, browser: Browser) -> None:
    first, second = parse_trust_list(_fetch(browser)), parse_trust_list(_fetch(browser))

    assert first.sequence == second.sequence >= 1
    assert first.message.signature != second.message.signature  # signed afresh, same number


def test_a_change_moves_the_sequence_and_the_old_list_is_refused(
    app: Flask, browser: Browser
) -> None:
    old = _fetch(browser)
    with app.app_context():
        svc = services()
        svc.issuer.rotate(*require_root(svc.settings.certs_dir), **issuer_profile(svc.settings))
    new = _fetch(browser)
    assert parse_trust_list(new).sequence == parse_trust_list(old).sequence + 1

    counter = _counter(app)
    counter.load_trust_list(old)
    counter.load_trust_list(new)  # newer: accepted
    with pytest.raises(TrustListError, match="older"):
        counter.load_trust_list(old)


def test_returning_to_earlier_content_still_moves_forward(ctx: Flask) -> None:
    a, b = {"content": "a"}, {"content": "b"}
    first = sequence_for(a)
    second = sequence_for(b)

    assert sequence_for(a) == second + 1 > first  # never back to an old number
    assert sequence_for(a) == second + 1
