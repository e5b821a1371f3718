"""End to end in a real browser: Playwright drives Debian's Chromium (``/usr/bin/chromium``,
installed by ``make chromium``) through the wallet page of a real ``idp serve``, on plain HTTP
and behind nginx terminating TLS, and a counter reads the QR code off the screenshot and
verifies it offline with the SDK.

The page's clock is Playwright's fake clock, started at the real time and moved forward past the
next 30-second step, so the re-signing of the code is seen in seconds rather than half a minute.
The counter's verifier reads the same clock, as a counter and a phone that agree on the time.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from yihao import qr
from yihao.trust import TrustAnchors
from yihao.verifier import Result, Verifier
from yihao.wire.credential import read_credential
from yihao.wire.errors import Failure
from yihao.wire.presentation import decode_presentation
from yihao.wire.qrtext import from_text

from tests.e2e.conftest import Provider
from tests.e2e.pages import Watch

pytestmark = pytest.mark.e2e

#: Playwright gives up on any single wait after this many milliseconds.
STEP_TIMEOUT_MS = 15_000
STEP_SECONDS = 30
PROFILE = "id_card.housing_fund"
ROOT_CERT = "root-ca.pem"

#: The holder key pair the page keeps in IndexedDB, and whether its private half can be read out.
READ_HOLDER_KEY = """async () => {
  const pair = await new Promise((resolve, reject) => {
    const open = indexedDB.open('yihao-wallet', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction('keys', 'readonly').objectStore('keys').get('holder');
      req.onsuccess = () => { db.close(); resolve(req.result); };
      req.onerror = () => { db.close(); reject(req.error); };
    };
  });
  if (!pair) return null;
  let exported = true;
  try {
    await crypto.subtle.exportKey('jwk', pair.privateKey);
  } catch (error) {
    exported = false;
  }
  const pub = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return {
    type: pair.privateKey.type,
    extractable: pair.privateKey.extractable,
    usages: pair.privateKey.usages,
    exported,
    x: pub.x,
    y: pub.y,
  };
}"""


class PageClock:
    """The browser's fake time, mirrored for the counter: real time plus what was skipped."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.time() + self.skipped


def _counter(provider: Provider, clock: PageClock) -> Verifier:
    root = (provider.certs_dir / ROOT_CERT).read_bytes()
    verifier = Verifier(TrustAnchors.from_pem(root), clock=clock)
    # Real HTTP(S) to the loopback server, trusting the proxy's CA in the TLS shape.
    verifier.refresh(provider.issuer + "/credentials/trust", session=provider.http())
    return verifier


def _sign_in(page: Page, provider: Provider) -> None:
    """Through /authorize: the login form, then the consent page for the wallet client."""
    page.goto(provider.issuer + "/wallet")
    assert "/wallet" not in page.url, "a fresh browser was not sent to sign in"
    page.locator("#username").fill(provider.citizen_number)
    page.locator("#password").fill(provider.citizen_password)
    page.locator("form button[type=submit]").click()
    allow = page.locator('button[name="decision"][value="allow"]')
    picker = page.locator("#purpose")
    expect(allow.or_(picker)).to_be_visible()
    if allow.is_visible():
        allow.click()
    expect(page).to_have_url(provider.issuer + "/wallet")


def _shown_code(page: Page) -> tuple[int, bytes]:
    """The step the page says it shows, and a screenshot of the code; both of one rendering."""
    code = page.locator("#qr")
    for _ in range(3):
        before = code.get_attribute("data-step")
        png = code.screenshot()
        if before is not None and code.get_attribute("data-step") == before:
            return int(before), png
    raise AssertionError("the code kept changing while it was photographed")


def _assert_valid(result: Result, provider: Provider, step: int) -> None:
    assert result.valid, (result.failures, result.details)
    assert result.fields == {"name": provider.citizen_name, "id_number": provider.citizen_number}
    assert result.profile_name == PROFILE
    assert result.step == step


def test_the_wallet_shows_a_code_a_counter_verifies(
    shaped_provider: Provider, chromium: Browser, tmp_path: Path
) -> None:
    provider = shaped_provider
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch(page)
        issued: list[str] = []
        page.on("request", lambda r: _record_issue(issued, r.url))
        clock = PageClock()
        page.clock.install(time=time.time())
        _sign_in(page, provider)

        # The purpose, and what the counter will see for it, before anything is shown.
        option = page.locator(f'#purpose option[value$="|{PROFILE}"]')
        choice = option.get_attribute("value")
        assert choice is not None
        page.locator("#purpose").select_option(choice)
        reveals = page.locator(f'dl.reveal[data-purpose="{choice}"]')
        expect(reveals).to_be_visible()
        expect(reveals.locator("dt")).to_have_text(["姓名", "公民身份号码"])
        expect(page.locator("dl.reveal:visible")).to_have_count(1)

        page.get_by_role("button", name="出示二维码").click()
        expect(page.locator("#qr svg")).to_be_visible()
        expect(page.locator("#countdown")).to_have_text(re.compile(r"\d+\s*秒"))
        left = int(re.findall(r"\d+", page.locator("#countdown").inner_text())[0])
        assert 1 <= left <= STEP_SECONDS, left

        # The page's key pair: the private half signs but can never be read out.
        key: dict[str, Any] | None = page.evaluate(READ_HOLDER_KEY)
        assert key is not None, "no holder key in IndexedDB"
        assert key["type"] == "private" and key["usages"] == ["sign"]
        assert key["extractable"] is False and key["exported"] is False

        counter = _counter(provider, clock)
        first_step, first_png = _shown_code(page)
        (tmp_path / "wallet-1.png").write_bytes(first_png)
        first = counter.verify_image(first_png)
        _assert_valid(first, provider, first_step)
        # The credential in the code is bound to the key the page keeps.
        text = qr.read(first_png)
        assert text is not None
        _, claims = read_credential(decode_presentation(from_text(text)).credential)
        numbers = claims.holder_public_key().public_numbers()
        assert (numbers.x, numbers.y) == (_int(key["x"]), _int(key["y"]))

        # Past the next 30-second boundary: the same page re-signs, without a reload.
        now = float(page.evaluate("Date.now()")) / 1000
        # (At least a second: the page may have crossed the boundary on its own meanwhile.)
        skip_ms = max(int(((first_step + 1) * STEP_SECONDS - now) * 1000) + 1500, 1000)
        page.evaluate("window.__same_document = true")
        page.clock.fast_forward(skip_ms)
        clock.skipped += skip_ms / 1000
        expect(page.locator("#qr")).to_have_attribute("data-step", str(first_step + 1))
        assert page.evaluate("window.__same_document") is True, "the page was reloaded"
        second_step, second_png = _shown_code(page)
        (tmp_path / "wallet-2.png").write_bytes(second_png)
        assert second_step == first_step + 1
        assert second_png != first_png
        assert len(issued) == 1, "the page fetched a new credential instead of re-signing"
        _assert_valid(counter.verify_image(second_png), provider, second_step)
        expect(page.locator("#countdown")).to_have_text(re.compile(r"\d+\s*秒"))
        expect(page.locator("#wallet-status")).to_have_text("")
        assert not watch.errors, watch.errors
    finally:
        context.close()


def test_a_citizen_revokes_a_lost_phones_certificate_in_the_wallet(
    shaped_provider: Provider, chromium: Browser
) -> None:
    """The wallet's "My certificates": revoke, confirm with a reason, and the code stops passing;
    the page then offers a fresh certificate for the new phone."""
    provider = shaped_provider
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch(page)
        _sign_in(page, provider)
        choice = page.locator(f'#purpose option[value$="|{PROFILE}"]').get_attribute("value")
        assert choice is not None
        page.locator("#purpose").select_option(choice)
        page.get_by_role("button", name="出示二维码").click()
        expect(page.locator("#qr svg")).to_be_visible()
        _, lost_phones_code = _shown_code(page)
        assert _counter(provider, PageClock()).verify_image(lost_phones_code).valid

        identifier = choice.split("|")[0]
        mine = page.locator(f'form:has(input[name="identifier"][value="{identifier}"])')
        mine.get_by_role("button").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("撤销这个证照吗？")
        page.get_by_label("我的手机丢失或被盗").check()
        page.get_by_role("button", name="撤销", exact=True).click()
        expect(page).to_have_url(provider.issuer + "/wallet?revoked=1")
        expect(page.locator("p[role=status]")).to_contain_text("证照已撤销")

        fresh = page.locator(f'#purpose option[value$="|{PROFILE}"]').get_attribute("value")
        assert fresh is not None and not fresh.startswith(identifier + "|")
        assert _refused_as_revoked(provider, lost_phones_code)
        assert not watch.errors, watch.errors
    finally:
        context.close()


def _refused_as_revoked(provider: Provider, code: bytes) -> bool:
    """A counter that refreshes sees the revocation once every provider worker re-signed its list
    (within IDP_KEY_CACHE_SECONDS, 30 s by default; docs/operations.md)."""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        result = _counter(provider, PageClock()).verify_image(code)
        if Failure.REVOKED in result.failures:
            return True
        time.sleep(1)
    return False


def _record_issue(issued: list[str], url: str) -> None:
    if urlsplit(url).path == "/credentials/issue":
        issued.append(url)


def _int(base64url: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(base64url + "=" * (-len(base64url) % 4)))
