"""The citizen at a browser, played by ``requests``: follows the provider's redirects, fills in the
login, enterprise and consent forms, and stops at the first redirect that leaves the provider."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import requests

from tests.conftest import PASSWORD
from tests.support.browser import csrf_of, origin_of

HTTP_TIMEOUT = 10.0
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
ENTERPRISE_CHOICE = re.compile(r'name="enterprise_id" value="([^"]+)"')
#: Redirects and pages one authorization may pass through (login, enterprise, consent, resumes).
MAX_STEPS = 12


class Person:
    """The citizen at a browser: signs in, chooses the first enterprise offered, consents."""

    def __init__(
        self, number: str, password: str = PASSWORD, http: requests.Session | None = None
    ) -> None:
        self.number = number
        self.password = password
        #: ``Provider.http()`` behind the TLS proxy: a session trusting the fixture's CA.
        self.http = http or requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def sign_in(self, url: str) -> str:
        """Open an authorization URL; the URL the provider finally sends the browser to."""
        response = self.get(url)
        for _ in range(MAX_STEPS):
            if response.status_code in (302, 303):
                location = urljoin(response.url, response.headers["Location"])
                if urlsplit(location).netloc != urlsplit(response.url).netloc:
                    return location
                response = self.get(location)
            else:
                response = self.answer(response)
        raise AssertionError(f"no redirect to the client after {MAX_STEPS} steps")

    def answer(self, page: requests.Response) -> requests.Response:
        text = page.text
        assert page.status_code == 200, f"{page.status_code}: {text[:500]}"
        if 'name="password"' in text:
            return self.submit(page, username=self.number, password=self.password)
        choice = ENTERPRISE_CHOICE.search(text)
        if choice:
            return self.submit(page, enterprise_id=choice.group(1), decision="allow")
        if 'name="decision"' in text:
            return self.submit(page, decision="allow")
        raise AssertionError(f"unexpected page: {text[:500]}")

    def submit(self, page: requests.Response, **fields: str) -> requests.Response:
        action = FORM_ACTION.search(page.text)
        assert action, "no form on the page"
        return self.http.post(
            urljoin(page.url, html.unescape(action.group(1))),
            data={"csrf_token": csrf_of(page.text), **fields},
            # As a browser names the page's origin on every form post.
            headers={"Origin": origin_of(page.url)},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
