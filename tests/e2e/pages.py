"""What every browser test watches on its pages: script errors, console errors (a Content
Security Policy violation is one, and also reported by the ``securitypolicyviolation`` event)
and failed responses. A test ends with ``assert not watch.errors``."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

#: Chromium logs CSP violations to the console; this makes sure each one is an error there too.
_REPORT_CSP = """document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});"""


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
