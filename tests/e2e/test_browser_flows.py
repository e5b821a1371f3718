"""Every page a person meets, in a real browser (Debian's Chromium through Playwright), on plain
HTTP and behind nginx terminating TLS (``shaped_provider``): sign-in, consent, the choice of
enterprise, the account page (withdrawing a consent, signing out) and the logout confirmation.

Each page is watched for script errors, Content Security Policy violations and failed requests
(``tests.e2e.pages.Watch``). The relying service's redirect URI is never contacted: the browser's
request for it is answered inside Playwright.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import REDIRECT_URI, Provider, run_idp
from tests.e2e.pages import Watch
from tests.support.browser import Authorization
from tests.support.identities import new_id_number, new_uscc

pytestmark = pytest.mark.e2e

STEP_TIMEOUT_MS = 15_000
CALLBACK_BODY = "callback reached"
ENTERPRISE_NAME = "一号通行浏览器测试有限公司"
ENTERPRISE_CLIENT = "企业服务 Enterprise service"
SIGNED_OUT_HEADING = "您已退出登录。"


@dataclass
class Tab:
    """One browser context with one watched page; its requests to ``REDIRECT_URI`` never leave."""

    page: Page
    watch: Watch


@pytest.fixture
def tab(chromium: Browser, shaped_provider: Provider) -> Iterator[Tab]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.route(_is_callback, _answer_callback)
    try:
        page = context.new_page()
        yield Tab(page, Watch(page))
    finally:
        context.close()


def _is_callback(url: str) -> bool:
    return url.startswith(REDIRECT_URI + "?")


def _answer_callback(route: Route) -> None:
    route.fulfill(status=200, content_type="text/plain", body=CALLBACK_BODY)


@dataclass(frozen=True)
class EnterpriseClient:
    client_id: str
    enterprise: str
    #: The enterprise's legal representative: a citizen of their own, so that the shared
    #: citizen's enterprise choices in other modules stay as they expect.
    representative: str


@pytest.fixture(scope="module")
def enterprise_client(shaped_provider: Provider) -> EnterpriseClient:
    """An enterprise a citizen legally represents, and a service that asks for one."""
    provider = shaped_provider
    number = new_id_number()
    run_idp(
        provider.env,
        *("person", "add", "--id-number", number, "--name", "王五", "--password-stdin"),
        stdin=provider.citizen_password + "\n",
    )
    run_idp(
        provider.env,
        *("enterprise", "add", "--uscc", new_uscc(), "--name", ENTERPRISE_NAME),
        *("--legal-rep-id-number", number),
    )
    client = run_idp(
        provider.env,
        *("client", "add", "--name", ENTERPRISE_CLIENT, "--scope", "openid profile enterprise"),
        *("--redirect-uri", provider.redirect_uri),
    )
    return EnterpriseClient(client["client_id"], ENTERPRISE_NAME, number)


def _authorize_url(provider: Provider, client_id: str, scope: str, **extra: str) -> str:
    request = Authorization(client_id, provider.redirect_uri, scope=scope, extra=extra)
    return f"{provider.issuer}/authorize?{request.query()}"


def _log_in(page: Page, provider: Provider, number: str | None = None) -> None:
    expect(page.locator("#username")).to_be_visible()
    page.locator("#username").fill(number or provider.citizen_number)
    page.locator("#password").fill(provider.citizen_password)
    page.locator("form button[type=submit]").click()


def _callback_params(page: Page, provider: Provider) -> dict[str, str]:
    page.wait_for_url(_is_callback)
    expect(page.get_by_text(CALLBACK_BODY)).to_be_visible()
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params.get("iss") == provider.issuer and params.get("code"), params
    return params


def _sign_in_with_consent(tab: Tab, provider: Provider) -> None:
    """Sign in to the e2e client, asked for consent every time (``prompt=consent``)."""
    url = _authorize_url(provider, provider.client_id, provider.scope, prompt="consent")
    tab.page.goto(url)
    _log_in(tab.page, provider)
    allow = tab.page.locator('button[name="decision"][value="allow"]')
    expect(allow).to_be_visible()
    expect(tab.page.locator("h1")).to_contain_text("e2e")
    allow.click()
    _callback_params(tab.page, provider)


def test_sign_in_and_consent(tab: Tab, shaped_provider: Provider) -> None:
    _sign_in_with_consent(tab, shaped_provider)
    assert not tab.watch.errors, tab.watch.errors


def test_enterprise_choice(
    tab: Tab, shaped_provider: Provider, enterprise_client: EnterpriseClient
) -> None:
    provider = shaped_provider
    url = _authorize_url(provider, enterprise_client.client_id, "openid profile enterprise")
    tab.page.goto(url)
    _log_in(tab.page, provider, enterprise_client.representative)
    choice = tab.page.get_by_label(enterprise_client.enterprise)
    expect(choice).to_be_checked()
    tab.page.locator('button[name="decision"][value="allow"]').click()
    # Consent for the enterprise's data, naming whom the person acts for.
    expect(tab.page.get_by_text(enterprise_client.enterprise)).to_be_visible()
    tab.page.locator('button[name="decision"][value="allow"]').click()
    _callback_params(tab.page, provider)
    assert not tab.watch.errors, tab.watch.errors


def test_account_page_withdraws_a_consent_and_signs_out(
    tab: Tab, shaped_provider: Provider
) -> None:
    provider = shaped_provider
    _sign_in_with_consent(tab, provider)
    page = tab.page
    page.goto(provider.issuer + "/account")
    expect(page.get_by_text(provider.citizen_name)).to_be_visible()
    consent = page.locator("li.consent").filter(has_text="e2e")
    expect(consent).to_have_count(1)
    consent.get_by_role("button").click()
    expect(page).to_have_url(provider.issuer + "/account")
    expect(page.locator("li.consent").filter(has_text="e2e")).to_have_count(0)

    page.locator("form.signout button").click()
    expect(page).to_have_url(provider.issuer + "/signed-out")
    expect(page.locator("h1")).to_have_text(SIGNED_OUT_HEADING)
    page.goto(provider.issuer + "/account")  # the session is over
    expect(page).to_have_url(provider.issuer + "/signed-out")
    assert not tab.watch.errors, tab.watch.errors


def test_logout_confirmation(tab: Tab, shaped_provider: Provider) -> None:
    provider = shaped_provider
    _sign_in_with_consent(tab, provider)
    page = tab.page
    # Without an id_token_hint the person confirms first (RP-Initiated Logout 1.0, 6).
    page.goto(f"{provider.issuer}/logout?{urlencode({'client_id': provider.client_id})}")
    expect(page.locator("p.lead")).to_contain_text("e2e")
    page.locator("form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(SIGNED_OUT_HEADING)
    page.goto(provider.issuer + "/account")
    expect(page).to_have_url(provider.issuer + "/signed-out")
    assert not tab.watch.errors, tab.watch.errors
