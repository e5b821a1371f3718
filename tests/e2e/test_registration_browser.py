"""Self-registration and password reset in Chromium, on plain HTTP and behind nginx terminating
TLS (``shaped_provider``): a citizen of the population registry registers with the code the
development outbox shows, reaches the account page, signs out, and resets the password."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Provider, run_idp
from tests.e2e.pages import Watch
from tests.support.identities import new_id_number
from tests.support.registry import id_card_cells

pytestmark = pytest.mark.e2e

STEP_TIMEOUT_MS = 15_000
NAME = "赵敏"
FIRST_PASSWORD = "lantern orchid quay"
SECOND_PASSWORD = "copper kettle meadow"


@pytest.fixture
def page(chromium: Browser) -> Iterator[tuple[Page, Watch]]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        tab = context.new_page()
        yield tab, Watch(tab, allowed_statuses=frozenset())
    finally:
        context.close()


def _on_record(provider: Provider, tmp_path: Path) -> tuple[str, str]:
    number = new_id_number()
    mobile = "139" + number[-8:].replace("X", "0")
    cells = id_card_cells(number, NAME, mobile)
    path = tmp_path / "resident_id.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(cells)
        writer.writerow(cells.values())
    imported = run_idp(provider.env, "registry", "import", "resident_id", str(path))
    assert imported["created"] == 1, imported
    return number, mobile


def _prove_and_choose(page: Page, provider: Provider, mobile: str, password: str) -> None:
    masked = f"{mobile[:3]}****{mobile[-4:]}"
    expect(page.get_by_text(masked).first).to_be_visible()
    page.locator('form[action$="/send"] button').click()
    expect(page.get_by_role("status")).to_contain_text(masked)
    finish = page.url
    page.goto(provider.issuer + "/dev/sms-outbox")
    text = page.locator(".outbox__text").first.inner_text()
    code = re.search(r"\d{6}", text)
    assert code, text
    page.goto(finish)
    page.fill("#code", code.group(0))
    page.fill("#password", password)
    page.fill("#password_again", password)
    page.locator('form[action$="/finish"] button[type=submit]').click()


def test_register_from_the_registry_then_reset_the_password(
    page: tuple[Page, Watch], shaped_provider: Provider, tmp_path: Path
) -> None:
    tab, watch = page
    number, mobile = _on_record(shaped_provider, tmp_path)

    tab.goto(shaped_provider.issuer + "/register")
    tab.fill("#number", number)
    tab.fill("#name", NAME)
    tab.locator("form button[type=submit]").click()
    assert number not in tab.url
    _prove_and_choose(tab, shaped_provider, mobile, FIRST_PASSWORD)
    expect(tab.get_by_role("heading", level=1)).to_have_text("我的账户")
    expect(tab.get_by_text(NAME).first).to_be_visible()
    tab.locator("form.signout button").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("退出")

    tab.goto(shaped_provider.issuer + "/recover")
    tab.fill("#number", number)
    tab.fill("#name", NAME)
    tab.locator("form button[type=submit]").click()
    _prove_and_choose(tab, shaped_provider, mobile, SECOND_PASSWORD)
    expect(tab.get_by_role("heading", level=1)).to_have_text("我的账户")
    assert not watch.errors
