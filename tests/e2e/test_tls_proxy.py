"""The provider behind nginx terminating TLS, seen from the wire: what the proxy forwards makes
the provider see the https origin (``IDP_PROXY_HOPS=1``), so its pages carry HSTS, a form post
from the page's own origin is accepted without any Referer, and one naming another origin is
refused despite its valid token. The plain-HTTP twin shows the same rule without the proxy."""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from tests.e2e.conftest import Provider
from tests.support.browser import Authorization, csrf_of
from tests.support.person import FORM_ACTION, HTTP_TIMEOUT
from tests.support.tls import ACCESS_LOG

pytestmark = pytest.mark.e2e


def _login_page(provider: Provider, http: requests.Session) -> requests.Response:
    query = Authorization(provider.client_id, provider.redirect_uri, scope=provider.scope).query()
    page = http.get(f"{provider.issuer}/authorize?{query}", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and 'name="password"' in page.text, page.text[:300]
    return page


def _post(
    provider: Provider, http: requests.Session, page: requests.Response, origin: str
) -> requests.Response:
    action = FORM_ACTION.search(page.text)
    assert action is not None
    form = {
        "csrf_token": csrf_of(page.text),
        "username": provider.citizen_number,
        "password": provider.citizen_password,
    }
    return http.post(
        provider.issuer + action.group(1),
        data=form,
        headers={"Origin": origin},  # and no Referer at all
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )


def test_the_origin_rule_and_headers_through_each_shape(shaped_provider: Provider) -> None:
    provider = shaped_provider
    http = provider.http()
    page = _login_page(provider, http)
    secure = provider.issuer.startswith("https://")
    assert ("Strict-Transport-Security" in page.headers) is secure
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    # nginx's own $request_id (32 hex digits) is kept behind the proxy; the provider makes 16.
    assert len(page.headers["X-Request-Id"]) == (32 if secure else 16)

    refused = _post(provider, http, page, "https://evil.example")
    assert refused.status_code == 400, refused.status_code
    other_scheme = provider.issuer.replace("https://", "http://") if secure else "https://x"
    assert _post(provider, http, page, other_scheme).status_code == 400

    accepted = _post(provider, http, _login_page(provider, http), provider.issuer)
    assert accepted.status_code == 302, accepted.text[:300]
    assert accepted.headers["Location"].startswith("/authorize/resume/")


def test_the_shipped_site_file_logs_paths_without_query_strings(tls_provider: Provider) -> None:
    """deploy/nginx/yihao.conf logs $uri: a login_hint (an identity number) stays out."""
    hint = secrets.token_hex(8)
    answer = tls_provider.http().get(
        f"{tls_provider.issuer}/authorize?login_hint={hint}", timeout=HTTP_TIMEOUT
    )
    request_id = answer.headers["X-Request-Id"]
    log = ""
    for _wait in range(50):  # nginx writes the line once the response is sent: a moment later
        log = (tls_provider.instance_dir / "nginx" / ACCESS_LOG).read_text(encoding="utf-8")
        if request_id in log:
            break
        time.sleep(0.1)
    line = next(line for line in log.splitlines() if request_id in line)
    assert f'"GET /authorize" {answer.status_code}' in line and hint not in log
