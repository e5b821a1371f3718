"""What every browser test watches on its pages: script errors, console errors (a Content
Security Policy violation is one, and also reported by the ``securitypolicyviolation`` event)
and failed responses. A test ends with ``assert not watch.errors``."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

#: Chromium logs CSP violations to the console; this makes sure each one is an error there too.
_REPORT_CSP = """document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});"""


#: What the browser shows at a relying service's redirect URI (never contacted).
CALLBACK_BODY = "callback reached"


def phone_context(chromium: Browser, redirect_uri: str, timeout_ms: int) -> BrowserContext:
    """A phone-sized, Chinese-speaking browser context; its requests to ``redirect_uri`` are
    answered inside Playwright, so the relying service need not exist."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(timeout_ms)

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="text/plain", body=CALLBACK_BODY)

    context.route(lambda url: url.startswith(redirect_uri + "?"), answer)
    return context


class Watch:
    """The errors seen on a page since ``watch(page)``."""

    def __init__(self, page: Page, allowed_statuses: frozenset[int] = frozenset()) -> None:
        self.errors: list[str] = []
        self._allowed = allowed_statuses
        page.add_init_script(_REPORT_CSP)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", lambda r: self._response(r.status, r.url))
        page.on("console", lambda m: self._console(m.type, m.text))

    def _response(self, status: int, url: str) -> None:
        # The browser asks for /favicon.ico on its own; the provider has none.
        if status >= 400 and status not in self._allowed and urlsplit(url).path != "/favicon.ico":
            self.errors.append(f"{status} {url}")

    def _console(self, kind: str, text: str) -> None:
        # A failed request is logged as "Failed to load resource"; _response has its URL.
        if kind == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(text)


def fill_password(page: Page, number: str, password: str) -> None:
    """The interaction's sign-in page: number and password."""
    expect(page.locator("#username")).to_be_visible()
    page.locator("#username").fill(number)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()


def fill_code(page: Page, code: str) -> None:
    """The interaction's code page: after the password, or to step up."""
    field = page.locator("#code")
    expect(field).to_be_visible()
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    field.fill(code)
    page.locator("form button[type=submit]").click()


def turn_on_totp(page: Page, issuer: str) -> pyotp.TOTP:
    """On the account page, as a person does: scan (here: read) the key, type the code."""
    page.goto(issuer + "/account")
    page.locator('form[action$="/account/second-factor/totp/start"] button').click()
    expect(page.locator(".qr svg")).to_be_visible()  # drawn inline: no image URL, no data: URI
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.locator("#code").fill(totp.now())
    page.locator("form button[type=submit]").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.locator(".actions a").click()
    expect(page).to_have_url(issuer + "/account?totp=on")
    expect(page.locator('form[action$="/account/second-factor/totp/remove"]')).to_be_visible()
    return totp


def later_code(totp: pyotp.TOTP) -> str:
    """The code of the next step: later than the one that turned the app on, within the window."""
    return totp.at(time.time(), counter_offset=1)
