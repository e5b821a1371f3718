"""The admin console in Chromium behind nginx terminating TLS, as operators use it: signing in
needs the authenticator app (set up from the account page when the console first asks), then
the main tasks on the pages, each seen in the audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from idp.identifiers import mask_identifier
from tests.e2e.conftest import REDIRECT_URI, Provider, id_card_export, run_idp
from tests.e2e.pages import (
    Watch,
    fill_code,
    fill_password,
    later_code,
    phone_context,
    turn_on_totp,
)
from tests.support.identities import new_id_number

pytestmark = pytest.mark.e2e

STEP_TIMEOUT_MS = 15_000
ROLES = ("admin", "support", "auditor")


@dataclass
class Console:
    page: Page
    watch: Watch
    provider: Provider
    number: str
    totp: pyotp.TOTP


def _person(provider: Provider, name: str = "钱七") -> str:
    number = new_id_number()
    run_idp(
        provider.env,
        *("person", "add", "--id-number", number, "--name", name, "--password-stdin"),
        stdin=provider.citizen_password + "\n",
    )
    return number


def _first_sign_in(page: Page, provider: Provider, number: str) -> pyotp.TOTP:
    """The console asks for a second factor the operator has not set up yet: the step-up page
    sends them to their account page, and the console lets them in with the app's code."""
    page.goto(provider.issuer + "/admin/")
    fill_password(page, number, provider.citizen_password)
    expect(page.locator("h1")).to_have_text("需要更安全的登录方式")
    totp = turn_on_totp(page, provider.issuer)
    page.goto(provider.issuer + "/admin/")
    fill_code(page, later_code(totp))
    expect(page.locator("h1")).to_have_text("管理控制台")
    return totp


@pytest.fixture
def console(chromium: Browser, tls_provider: Provider) -> Iterator[Console]:
    number = _person(tls_provider)
    for role in ROLES:
        run_idp(tls_provider.env, "operator", "grant", "--id-number", number, "--role", role)
    context = phone_context(chromium, REDIRECT_URI, STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch(page)
        totp = _first_sign_in(page, tls_provider, number)
        yield Console(page, watch, tls_provider, number, totp)
    finally:
        context.close()


def test_an_operator_gives_a_colleague_a_role(console: Console) -> None:
    page, colleague = console.page, _person(console.provider, "孙八")
    page.get_by_role("link", name="管理人员").first.click()
    page.locator("#id_number").fill(colleague)
    page.locator("#role").select_option("support")
    page.get_by_role("button", name="授予").click()
    masked = mask_identifier(colleague)
    expect(page.get_by_role("status")).to_contain_text(masked)
    row = page.locator("tr", has_text=masked)
    expect(row).to_contain_text("管理：群众服务")
    assert colleague not in page.content()  # only ever masked
    assert not console.watch.errors, console.watch.errors


def _citizen_with_app(chromium: Browser, provider: Provider) -> str:
    """A citizen who turned the authenticator app on from their account page."""
    number = _person(provider, "周九")
    context = phone_context(chromium, REDIRECT_URI, STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(provider.issuer + "/wallet")  # any sign-in reaches the account page
        fill_password(page, number, provider.citizen_password)
        page.locator('button[name="decision"][value="allow"]').click()  # the wallet's consent
        turn_on_totp(page, provider.issuer)
    finally:
        context.close()
    return number


def test_support_finds_a_caller_by_number_and_resets_their_factors(
    console: Console, chromium: Browser
) -> None:
    page, caller = console.page, _citizen_with_app(chromium, console.provider)
    page.get_by_role("link", name="个人与企业").first.click()
    page.locator("#id_number").fill(caller)
    page.get_by_role("search").filter(has=page.locator("#id_number")).get_by_role("button").click()
    expect(page.locator("h1")).to_contain_text(mask_identifier(caller))
    assert caller not in page.url and caller not in page.content()
    app_row = page.locator(".profile div", has_text="身份验证器")
    expect(app_row).to_contain_text("已开启")
    page.get_by_role("button", name="重置第二重验证和通行密钥").click()
    expect(page.get_by_role("status")).to_contain_text("第二重验证和通行密钥已移除")
    expect(app_row).to_contain_text("未开启")
    assert not console.watch.errors, console.watch.errors


def _holder(chromium: Browser, provider: Provider) -> str:
    """A citizen of the population registry whose first visit to the wallet issued their
    identity card certificate."""
    number = _person(provider, "吴十")
    folder = provider.instance_dir / f"registry-{number[-6:]}"
    folder.mkdir()
    export = id_card_export(folder, number)
    imported = run_idp(provider.env, "registry", "import", "resident_id", str(export))
    assert imported["created"] == 1, imported
    context = phone_context(chromium, REDIRECT_URI, STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(provider.issuer + "/wallet")
        fill_password(page, number, provider.citizen_password)
        page.locator('button[name="decision"][value="allow"]').click()
        expect(page.locator("#picker")).to_be_visible()
    finally:
        context.close()
    return number


def test_support_revokes_a_certificate_and_the_auditor_sees_it(
    console: Console, chromium: Browser
) -> None:
    page, holder = console.page, _holder(chromium, console.provider)
    page.get_by_role("link", name="电子证照").first.click()
    page.locator("#holder_number").fill(holder)
    page.locator("#holder_number").press("Enter")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text(mask_identifier(holder))
    identifier = row.locator("th").inner_text().strip()
    row.locator("select").select_option("data_error")
    row.get_by_role("button", name="撤销").click()
    expect(page.get_by_role("status")).to_contain_text("证照已撤销")
    expect(page.locator("tbody tr").first).to_contain_text("登记数据有误")

    page.get_by_role("link", name="审计").first.click()
    page.locator("#filter-action").fill("certificate.revoke")
    page.locator("#filter-action").press("Enter")
    expect(page.locator("tbody tr", has_text=identifier)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert identifier in exported and holder not in exported
    assert not console.watch.errors, console.watch.errors


def test_a_manager_registers_a_service_and_the_admin_approves_its_id_number_scope(
    console: Console, chromium: Browser
) -> None:
    provider, manager = console.provider, _person(console.provider, "郑十一")
    run_idp(provider.env, "operator", "grant", "--id-number", manager, "--role", "client-manager")
    context = phone_context(chromium, REDIRECT_URI, STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch(page)
        _first_sign_in(page, provider, manager)
        page.get_by_role("link", name="接入服务").first.click()
        page.locator("#name").fill("市住房公积金中心")
        page.locator("#redirect_uris").fill("https://gjj.example/callback")
        page.locator("#scope").fill("openid id_number")
        page.get_by_role("button", name="注册", exact=True).click()
        expect(page.locator("#client-secret")).to_be_visible()
        client_id = page.locator("#client-id").inner_text().strip()
        page.get_by_role("link", name="返回服务页面").click()
        expect(page.locator(".profile div", has_text="待批准")).to_contain_text("id_number")
        expect(page.get_by_role("button", name="批准")).to_have_count(0)
        assert not watch.errors, watch.errors
    finally:
        context.close()

    admin = console.page
    admin.goto(f"{provider.issuer}/admin/clients/{client_id}")  # as a manager's message links it
    admin.get_by_role("button", name="批准").click()
    expect(admin.get_by_role("status")).to_contain_text("已批准")
    expect(admin.locator(".profile div", has_text="范围").first).to_contain_text("id_number")
    admin.goto(f"{provider.issuer}/admin/audit/admin-actions?target={client_id}")
    expect(admin.locator("tbody tr", has_text="client.approve")).to_be_visible()
    expect(admin.locator("tbody tr", has_text="client.register")).to_be_visible()
    assert not console.watch.errors, console.watch.errors
