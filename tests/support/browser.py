"""A scripted user agent over Flask's test client: follows the login and consent pages the way a
person would, reading the CSRF token from each form."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def origin_of(url: str) -> str:
    """The origin a browser names for a page at ``url`` (scheme://host[:port])."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    return verifier, challenge


@dataclass
class Authorization:
    """One authorization request's parameters and its PKCE verifier."""

    client_id: str
    redirect_uri: str
    scope: str = "openid profile"
    extra: dict[str, str] = field(default_factory=dict)
    verifier: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(8))

    def query(self) -> str:
        self.verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **self.extra,
        }
        return urlencode({k: v for k, v in params.items() if v is not None})


def location_params(response: TestResponse) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


#: The test app's issuer origin, which a browser names in ``Origin`` on every form post.
ORIGIN = "http://localhost"


class Browser:
    def __init__(self, client: FlaskClient) -> None:
        self.http = client
        # As a browser does (Fetch, "append a request Origin header"); GETs carry it harmlessly.
        self.http.environ_base["HTTP_ORIGIN"] = ORIGIN

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.http.get(url, **kwargs)

    def follow(self, response: TestResponse) -> TestResponse:
        """Follow redirects inside the provider; stop at the first one that leaves it."""
        while response.status_code in (302, 303):
            location = response.headers["Location"]
            if not location.startswith(("/", "http://localhost/")):
                return response
            response = self.http.get(location)
        return response

    def submit(self, page: TestResponse, **fields: str) -> TestResponse:
        html = page.get_data(as_text=True)
        action = re.search(r'<form[^>]*action="([^"]+)"', html)
        assert action, "no form on the page"
        return self.http.post(
            action.group(1).replace("&amp;", "&"), data={"csrf_token": csrf_of(html), **fields}
        )

    def authorize(self, request: Authorization) -> TestResponse:
        return self.follow(self.http.get("/authorize?" + request.query()))

    def sign_in_and_consent(
        self, request: Authorization, username: str, password: str
    ) -> dict[str, str]:
        """Run the whole interaction; returns the parameters the client receives."""
        return self.complete(self.authorize(request), username, password)

    def complete(self, page: TestResponse, username: str, password: str) -> dict[str, str]:
        """From the first page of an interaction on: sign in, consent, the client's parameters."""
        if "password" in page.get_data(as_text=True) and page.status_code == 200:
            page = self.follow(self.submit(page, username=username, password=password))
        if page.status_code == 200 and 'name="decision"' in page.get_data(as_text=True):
            page = self.follow(self.submit(page, decision="allow"))
        assert page.status_code == 302, page.get_data(as_text=True)[:500]
        return location_params(page)
