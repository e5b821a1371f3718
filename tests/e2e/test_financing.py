"""The financing platform (clients/examples financing) against the provider behind nginx (TLS).

The platform runs under gunicorn as `make demo` runs it, registered under the ``fapi2`` profile
with key files made by its own ``ensure_keys``; a real Chromium signs in for an enterprise,
first as its legal representative, then as an agent the representative authorised on the
account page, consents, and reads the enterprise's registry data (as verified claims, each with
its registry as evidence) and score. A
``business_licence.financing`` QR issued by the provider is verified offline on the platform's
page, and a tampered copy is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from yihao.holder import Holder
from yihao.oidc import RelyingParty
from yihao_examples.financing import SCOPE
from yihao_examples.financing.keys import ensure_keys

from tests.e2e.conftest import HTTP_TIMEOUT, Provider, free_port, run_idp
from tests.e2e.pages import Watch
from tests.e2e.test_reference_services import _import
from tests.support.identities import new_id_number, new_uscc
from tests.support.person import Person

pytestmark = pytest.mark.e2e

ENTERPRISE = "智慧产融测试有限公司"
REPRESENTATIVE, AGENT = "钱进", "孙经办"
START_TIMEOUT = 20.0
APP = "yihao_examples.financing:create_app()"


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    representative: str
    agent: str


@pytest.fixture(scope="module")
def enterprise(tls_provider: Provider) -> Enterprise:
    """An enterprise with a registration, two properties (one mortgaged) and three months of
    social insurance, its legal representative, and a registered person to become its agent."""
    provider = tls_provider
    representative, agent, uscc = new_id_number(), new_id_number(), new_uscc()
    for number, name in ((representative, REPRESENTATIVE), (agent, AGENT)):
        run_idp(
            provider.env,
            *("person", "add", "--id-number", number, "--name", name, "--password-stdin"),
            stdin=provider.citizen_password + "\n",
        )
    run_idp(
        provider.env,
        *("enterprise", "add", "--uscc", uscc, "--name", ENTERPRISE),
        *("--legal-rep-id-number", representative),
    )
    _import(
        provider,
        "business",
        "uscc,enterprise_name,enterprise_type,legal_representative,registered_capital,"
        "established,address,business_status",
        f"{uscc},{ENTERPRISE},有限责任公司,{REPRESENTATIVE},2000000,2014-05-20,"
        "北京市海淀区中关村大街27号,存续",
    )
    _import(
        provider,
        "property",
        "property_unit_number,certificate_number,location,area,usage,"
        "owner_id_numbers,owner_names,mortgaged",
        f"110108001001GB00077F00070001,京(2020)海淀区不动产权第0077001号,"
        f"海淀区中关村大街27号5层,650.5,办公,{uscc},{ENTERPRISE},是",
        f"110108001001GB00077F00070002,京(2021)海淀区不动产权第0077002号,"
        f"海淀区中关村大街27号6层,320.25,办公,{uscc},{ENTERPRISE},否",
    )
    _import(
        provider,
        "social_insurance_unit",
        "uscc,enterprise_name,period,insured_headcount,contribution_amount",
        *(
            f"{uscc},{ENTERPRISE},{period},{count},{amount}"
            for period, count, amount in (
                ("2026-08", 30, "84000"),
                ("2026-09", 28, "78400.5"),
                ("2026-10", 31, "86800"),
            )
        ),
    )
    return Enterprise(uscc, representative, agent)


@pytest.fixture(scope="module")
def licence(tls_provider: Provider, enterprise: Enterprise) -> tuple[Holder, bytes]:
    """The enterprise's business licence, financing view, issued to its representative's phone."""
    provider = tls_provider
    redirect = "http://127.0.0.1:9/wallet-app/cb"
    client = run_idp(
        provider.env,
        *("client", "add", "--name", "证照 financing e2e", "--scope", "openid credentials"),
        *("--redirect-uri", redirect, "--allow-reserved", "credentials"),
    )
    http = provider.http()
    rp = RelyingParty(
        provider.issuer, client["client_id"], redirect, client["client_secret"], session=http
    )
    started = rp.start(scope="openid credentials")
    person = Person(enterprise.representative, provider.citizen_password, provider.http())
    login = rp.finish(person.sign_in(started.url), started)
    api = provider.http()
    api.headers["Authorization"] = f"Bearer {login.tokens.access_token}"
    listing = api.get(provider.issuer + "/credentials", timeout=HTTP_TIMEOUT).json()
    (card,) = [c for c in listing["certificates"] if c["type"] == "business_licence"]
    holder = Holder()
    issued = holder.request_credential(
        api, provider.issuer, card["identifier"], "business_licence.financing"
    )
    return holder, issued


@pytest.fixture(scope="module")
def platform(
    tls_provider: Provider,
    licence: tuple[Holder, bytes],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The platform under gunicorn, a fapi2 client of the TLS provider; its base URL. Started
    after the licence is issued, so its first trust refresh already knows the status list."""
    provider = tls_provider
    folder = tmp_path_factory.mktemp("financing")
    keys = ensure_keys(folder / "keys")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = run_idp(
        provider.env,
        *("client", "add", "--name", "智慧产融 e2e", "--scope", SCOPE),
        *("--redirect-uri", f"{base}/callback", "--post-logout-redirect-uri", f"{base}/"),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--profile", "fapi2", "--auth-method", "private_key_jwt"),
        *("--jwks-file", str(keys.jwks)),
        *("--purpose", "business=核实企业登记信息"),
        *("--purpose", "property=核实企业不动产及抵押状态"),
        *("--purpose", "social_insurance=评估参保人数变化"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIHAO_", "IDP_"))}
    env.update(
        {
            "YIHAO_ISSUER": provider.issuer,
            "YIHAO_CLIENT_ID": client["client_id"],
            "YIHAO_CLIENT_PRIVATE_KEY_FILE": str(keys.client_key),
            "YIHAO_DPOP_KEY_FILE": str(keys.dpop_key),
            "YIHAO_PUSHED_AUTHORIZATION_REQUESTS": "1",
            "YIHAO_ROOT_PEM": str(provider.certs_dir / "root-ca.pem"),
            "EXAMPLE_FINANCING_CACHE": str(folder / "trust.json"),
            # The platform trusts the proxy's test CA the way any requests-based service would.
            "REQUESTS_CA_BUNDLE": str(provider.ca_bundle),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = folder / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [gunicorn, "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4", APP],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        _wait(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the financing platform exited:\n{log.read_text()[-3000:]}")
        try:
            requests.get(base + "/", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    pytest.fail(f"the financing platform did not start:\n{log.read_text()[-3000:]}")


def _sign_in_for_the_enterprise(page: Page, provider: Provider, base: str, number: str) -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="一号通行企业登录").click()
    page.wait_for_url(lambda url: url.startswith(provider.issuer))
    page.locator("#username").fill(number)
    page.locator("#password").fill(provider.citizen_password)
    page.locator("form button[type=submit]").click()
    choice = page.get_by_label(ENTERPRISE)
    choice.check()
    page.locator('button[name="decision"][value="allow"]').click()
    # The consent screen: the enterprise's records, each with the platform's purpose.
    for text in ("市场主体登记信息", "核实企业登记信息", "企业持有的不动产", "评估参保人数变化"):
        expect(page.get_by_text(text).first).to_be_visible()
    page.locator('button[name="decision"][value="allow"]').click()
    page.wait_for_url(base + "/profile")


def _shows_the_enterprise(page: Page, enterprise: Enterprise) -> None:
    expect(page.locator("h1")).to_have_text(ENTERPRISE)
    # Asked for as verified claims (YIHAO_CLAIMS through PAR): each section names its registry.
    expect(page.locator(".evidence.ok")).to_have_count(3)
    expect(page.get_by_text("市场主体登记信息库")).to_be_visible()
    expect(page.get_by_text("不动产登记信息库")).to_be_visible()
    expect(page.get_by_text(enterprise.uscc)).to_be_visible()
    expect(page.get_by_text("2,000,000 元")).to_be_visible()
    expect(page.get_by_text("已抵押 Mortgaged")).to_have_count(1)
    expect(page.get_by_text("未抵押 Not mortgaged")).to_have_count(1)
    expect(page.get_by_role("row", name="2026-09 28 78400.5")).to_be_visible()
    # 12 years: 25; operating: 20; 2,000,000 yuan: 10; one free property: 10; 30 -> 31: 20.
    expect(page.locator("#score-total")).to_have_text("85")
    expect(page.get_by_text("2026-08 30 人 → 2026-10 31 人：增长 growing")).to_be_visible()
    assert enterprise.representative not in page.content()


def test_the_legal_representative_and_then_an_agent_get_the_enterprises_score(
    tls_provider: Provider, platform: str, enterprise: Enterprise, chromium: Browser
) -> None:
    provider = tls_provider
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(page)
    _sign_in_for_the_enterprise(page, provider, platform, enterprise.representative)
    _shows_the_enterprise(page, enterprise)
    expect(page.locator("#acting")).to_have_text("法定代表人 Legal representative")

    # The representative lets an agent act for the enterprise, on the provider's account page.
    page.goto(provider.issuer + "/account")
    grant = page.locator("form.mandate-grant")
    grant.locator("input[name=number]").fill(enterprise.agent)
    grant.locator("input[name=name]").fill(AGENT)
    for scope in ("business", "property", "social_insurance"):
        grant.locator(f'input[name=scope][value="{scope}"]').check()
    last_day = (date.today() + timedelta(days=30)).isoformat()
    grant.locator("input[name=valid_until]").fill(last_day)
    grant.locator("button[type=submit]").click()
    expect(page.locator(".mandates .consent").filter(has_text=AGENT)).to_have_count(1)
    assert not watch.errors, watch.errors
    context.close()

    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in_for_the_enterprise(page, provider, platform, enterprise.agent)
    _shows_the_enterprise(page, enterprise)
    expect(page.locator("#acting")).to_contain_text(f"经办人（授权有效至 {last_day}）")
    assert enterprise.agent not in page.content()
    context.close()


def test_the_licence_qr_is_verified_offline_and_a_tampered_one_refused(
    platform: str, licence: tuple[Holder, bytes], enterprise: Enterprise, chromium: Browser
) -> None:
    holder, issued = licence
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(platform + "/licence")
    page.get_by_label("扫码所得文本").fill(holder.present(issued, time.time()))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_text("✓ 有效 VALID")).to_be_visible()
    expect(page.get_by_text(ENTERPRISE)).to_be_visible()
    expect(page.get_by_text(enterprise.uscc)).to_be_visible()

    text = holder.present(issued, time.time() + 30)
    middle = len(text) // 2
    tampered = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    page.get_by_label("扫码所得文本").fill(tampered)
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_text("✗ 无效 NOT VALID")).to_be_visible()
    expect(page.get_by_text(enterprise.uscc)).to_have_count(0)
    context.close()
