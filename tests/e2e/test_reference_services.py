"""The reference services in clients/examples, against the real provider.

- Housing fund: provider and app as real processes (gunicorn), a real browser (Chromium via
  Playwright) through login and consent, ending on an application pre-filled from the release.
- School enrolment: the app in-process, the parent's household and property data released by the
  real provider and turned into a district verdict with reasons.
- Counter: a credential issued by the real provider, shown as a QR image, verified by the counter
  from its cached lists, and again by a counter whose provider is unreachable (cable pulled).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext
from yihao import qr
from yihao.holder import Holder
from yihao.oidc import RelyingParty
from yihao_examples import counter, enrolment

from tests.e2e.conftest import HTTP_TIMEOUT, Provider, free_port, run_idp
from tests.support.identities import new_id_number
from tests.support.person import Person

pytestmark = pytest.mark.e2e

UNREACHABLE = "http://127.0.0.1:9"


def _register(
    provider: Provider, name: str, scope: str, redirect: str, *extra: str
) -> dict[str, Any]:
    return run_idp(
        provider.env,
        *("client", "add", "--name", name, "--scope", scope, "--redirect-uri", redirect),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *extra,
    )


def _app_env(provider: Provider, client: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "YIHAO_ISSUER": provider.issuer,
        "YIHAO_CLIENT_ID": client["client_id"],
        "YIHAO_CLIENT_SECRET": client["client_secret"],
        **extra,
    }


@pytest.fixture(scope="module")
def housing_fund(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The housing-fund app under gunicorn, as `make demo` runs it; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = _register(
        provider,
        "公积金 e2e",
        "openid profile id_number",
        f"{base}/callback",
        *("--backchannel-logout-uri", f"{base}/backchannel-logout"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIHAO_", "IDP_"))}
    env.update(_app_env(provider, client))
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = tmp_path_factory.mktemp("housing-fund") / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                gunicorn,
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "yihao_examples.housing_fund:create_app()",
            ],
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
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the housing-fund app exited:\n{log.read_text()[-3000:]}")
        try:
            requests.get(base + "/", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    pytest.fail(f"the housing-fund app did not start:\n{log.read_text()[-3000:]}")


def test_housing_fund_application_is_prefilled_after_login_and_consent(
    provider: Provider, housing_fund: str, chromium: Browser
) -> None:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(housing_fund + "/")
    page.get_by_role("link", name="一号通行登录").click()
    page.fill("input[name=username]", provider.citizen_number)
    page.fill("input[name=password]", provider.citizen_password)
    page.locator("form button[type=submit]").first.click()
    page.locator("button[name=decision][value=allow]").click()  # the consent screen
    page.wait_for_url(housing_fund + "/apply")
    assert page.input_value("#name") == provider.citizen_name
    shown_id = page.input_value("#id")
    assert shown_id[:6] == provider.citizen_number[:6] and "*" in shown_id
    assert provider.citizen_number not in page.content()
    page.select_option("#reason", "rent")
    page.fill("#amount", "12000")
    page.get_by_role("button", name="提交申请").click()
    assert page.get_by_text("申请已受理").is_visible()
    assert page.get_by_text("12000 元").is_visible()

    # Signing out at the provider ends the housing fund's session too (Back-Channel Logout 1.0).
    assert _housing_fund_session_alive(context, housing_fund)
    page.goto(provider.issuer + "/account")
    page.locator("form.signout button[type=submit]").click()
    page.wait_for_url(provider.issuer + "/signed-out")
    deadline = time.monotonic() + 20  # delivered off the request path, polled every second
    while _housing_fund_session_alive(context, housing_fund) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _housing_fund_session_alive(context, housing_fund)
    context.close()


def _housing_fund_session_alive(context: BrowserContext, base: str) -> bool:
    """Whether the browser's housing-fund cookie still opens a login there (without following
    redirects: a gone login sends /apply to /login)."""
    answer = context.request.get(base + "/apply", max_redirects=0)
    if answer.status == 302:
        assert answer.headers["location"].startswith("/login")
        return False
    return True


def _import(provider: Provider, kind: str, header: str, *rows: str) -> None:
    path = provider.instance_dir / f"{kind}-{time.monotonic_ns()}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    report = run_idp(provider.env, "registry", "import", kind, str(path))
    assert not report.get("rejected"), report


def test_enrolment_checks_the_district_from_released_registry_data(provider: Provider) -> None:
    child = new_id_number(date(2015, 3, 1))
    household = "440113009999"
    address = "广东省广州市番禺区市桥街道清河东路8号"
    header = "id_number,name,ethnicity,household_number,relation,household_address"
    _import(
        provider,
        "household",
        header,
        f"{provider.citizen_number},{provider.citizen_name},汉,{household},户主,{address}",
        f"{child},李小萌,汉,{household},女,{address}",
    )
    _import(
        provider,
        "property",
        "property_unit_number,certificate_number,location,area,usage,"
        "owner_id_numbers,owner_names,mortgaged",
        f"440113001002GB00999F00010099,粤(2022)广州市不动产权第0999999号,"
        f"番禺区市桥街道清河东路8号1201房,88.2,住宅,{provider.citizen_number},"
        f"{provider.citizen_name},否",
    )
    port = free_port()
    client = _register(provider, "入学 e2e", enrolment.SCOPE, f"http://127.0.0.1:{port}/callback")
    env = _app_env(provider, client, YIHAO_REDIRECT_URI=f"http://127.0.0.1:{port}/callback")
    app = enrolment.create_app(env, today=date(2027, 3, 1))
    browser = app.test_client()
    to_login = browser.get("/login?next=/check")
    callback = Person(provider.citizen_number).sign_in(to_login.headers["Location"])
    back = browser.get(callback.removeprefix(f"http://127.0.0.1:{port}"))
    assert back.headers["Location"] == "/check"
    page = browser.get("/check").get_data(as_text=True)
    assert "李小萌" in page and "符合入学条件" in page
    assert "名下不动产位于学区" in page
    assert child not in page and provider.citizen_number not in page


@pytest.fixture(scope="module")
def credential(provider: Provider) -> tuple[Holder, bytes]:
    """A housing-fund credential of the e2e citizen, issued through the provider's API."""
    redirect = "http://127.0.0.1:9/wallet-app/cb"
    client = _register(
        provider, "证照 e2e", "openid credentials", redirect, "--allow-reserved", "credentials"
    )
    rp = RelyingParty(provider.issuer, client["client_id"], redirect, client["client_secret"])
    started = rp.start(scope="openid credentials")
    login = rp.finish(Person(provider.citizen_number).sign_in(started.url), started)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {login.tokens.access_token}"
    (card,) = [
        c
        for c in api.get(provider.issuer + "/credentials", timeout=HTTP_TIMEOUT).json()[
            "certificates"
        ]
        if c["type"] == "id_card"
    ]
    holder = Holder()
    credential = holder.request_credential(
        api, provider.issuer, card["identifier"], "id_card.housing_fund"
    )
    return holder, credential


def _photo(holder: Holder, credential: bytes, now: float) -> bytes:
    image = io.BytesIO()
    qr.render(holder.present(credential, now)).save(image, format="PNG")
    return image.getvalue()


def _upload(app: Any, photo: bytes) -> str:
    browser = app.test_client()
    browser.application.config["WTF_CSRF_ENABLED"] = False  # the form's token is tested elsewhere
    response = browser.post(
        "/verify/upload",
        data={"photo": (io.BytesIO(photo), "code.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_counter_verifies_online_then_with_the_cable_pulled(
    provider: Provider, credential: tuple[Holder, bytes], tmp_path: Path
) -> None:
    holder, issued = credential
    root = str(provider.certs_dir / "root-ca.pem")
    cache = str(tmp_path / "counter.json")
    online = counter.create_app(
        {"YIHAO_ISSUER": provider.issuer, "YIHAO_ROOT_PEM": root, "EXAMPLE_COUNTER_CACHE": cache}
    )
    page = _upload(online, _photo(holder, issued, time.time()))
    assert "有效 VALID" in page and provider.citizen_name in page
    assert json.loads(Path(cache).read_text())  # what the next counter start reads
    offline = counter.create_app(
        {"YIHAO_ISSUER": UNREACHABLE, "YIHAO_ROOT_PEM": root, "EXAMPLE_COUNTER_CACHE": cache}
    )
    page = _upload(offline, _photo(holder, issued, time.time() + 30))
    assert "有效 VALID" in page and provider.citizen_name in page
    blank = io.BytesIO()
    qr.render("HELLO").save(blank, format="PNG")
    assert "无效 NOT VALID" in _upload(offline, blank.getvalue())
