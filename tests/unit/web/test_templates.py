"""Smoke tests for the server-rendered UI: templates, translations and labels.

The templates are rendered by a tiny stand-alone Flask app (not the project's app) configured the
way the real one is: Flask-Babel with the zh_Hans_CN catalogue as the default locale, Flask-WTF's
CSRFProtect, and the ``lang_url`` / ``current_locale`` template context the views provide.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po
from flask import Flask, current_app, render_template
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from idp.oauth import fapi2
from idp.oauth.claims import SCOPE_CLAIMS, SUPPORTED_CLAIMS
from idp.web import labels

WEB = Path(__file__).resolve().parents[3] / "idp" / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
TRANSLATIONS = WEB / "translations"
PO_FILE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

#: (Babel locale, BCP 47 tag the views expose as ``current_locale``)
LOCALES = [("zh_Hans_CN", "zh-CN"), ("en", "en")]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def translations_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compiled copy of the catalogues (compiled outside the source tree)."""
    target = tmp_path_factory.mktemp("i18n") / "translations"
    shutil.copytree(TRANSLATIONS, target, ignore=shutil.ignore_patterns("*.mo"))
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(target)],
        check=True,
        capture_output=True,
    )
    assert (target / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo").is_file()
    return target


@pytest.fixture(scope="session")
def app(translations_dir: Path) -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.update(
        SECRET_KEY="test-secret-key",
        BABEL_DEFAULT_LOCALE="zh_Hans_CN",
        BABEL_TRANSLATION_DIRECTORIES=str(translations_dir),
        TEST_LOCALE="zh_Hans_CN",
    )
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: current_app.config["TEST_LOCALE"])

    def lang_url(tag: str) -> str:
        return f"/here?lang={tag}"

    tags = dict(LOCALES)
    app.jinja_env.globals["lang_url"] = lang_url
    app.context_processor(lambda: {"current_locale": tags[current_app.config["TEST_LOCALE"]]})
    return app


Render = Callable[..., str]


@pytest.fixture(params=LOCALES, ids=[tag for _, tag in LOCALES])
def locale(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def render(app: Flask, locale: tuple[str, str]) -> Iterator[Render]:
    """Render a template in ``locale``; callable context values are built inside the request."""

    def _render(template: str, /, **context: Any) -> str:
        with app.test_request_context("/here"):
            built = {k: v() if callable(v) else v for k, v in context.items()}
            return render_template(template, **built)

    app.config["TEST_LOCALE"] = locale[0]
    yield _render
    app.config["TEST_LOCALE"] = "zh_Hans_CN"


# --------------------------------------------------------------------------- sample context


@dataclass
class Item:
    label: str
    claims: list[str]
    purpose: str
    sensitive: bool


@dataclass
class Enterprise:
    id: int
    name: str
    uscc_masked: str
    as_agent: bool = False


@dataclass
class Release:
    client_name: str
    claims: list[str]
    channel_label: str
    released_at: datetime


@dataclass
class Consent:
    id: int
    client_name: str
    labels: list[str]
    granted_at: datetime
    revoke_action: str


def consent_items() -> list[Item]:
    return [
        Item(
            label=labels.scope_label(scope),
            claims=[labels.claim_label(c) for c in SCOPE_CLAIMS[scope] if c != "entity_type"],
            purpose="核验办事人身份",
            sensitive=scope in labels.SENSITIVE_SCOPES,
        )
        for scope in ("profile", "id_number")
    ]


def releases() -> list[Release]:
    return [
        Release(
            client_name="不动产登记",
            claims=[labels.claim_label(c) for c in ("name", "id_number", "act.name")],
            channel_label=labels.channel_label("id_token"),
            released_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    ]


def consents() -> list[Consent]:
    return [
        Consent(
            id=7,
            client_name="不动产登记",
            labels=[labels.scope_label(s) for s in ("openid", "profile")],
            granted_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            revoke_action="/account/consents/7/withdraw",
        )
    ]


@dataclass
class SessionRow:
    signed_in_at: datetime
    last_seen: datetime
    device: str
    address: str
    current: bool
    end_action: str


def account_sessions() -> list[SessionRow]:
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    return [
        SessionRow(at, at, "Firefox · Windows", "10.1.*.*", True, "/account/sessions/cd34/end"),
        SessionRow(
            at, at, "Chrome Mobile · Android", "192.168.*.*", False, "/account/sessions/ab12/end"
        ),
    ]


def my_certificates(back: str = "account", live: bool = True) -> Any:
    row = SimpleNamespace(
        identifier="1.2.156.3005.2.X.Y.1.001.Z",
        title="居民身份证",
        holder="3301**********123X",
        valid_until="2040-01-01",
        revoked_at=None,
        revoked_by=None,
    )
    past = SimpleNamespace(
        identifier="1.2.156.3005.2.X.Y.2.001.Z",
        title="居民身份证",
        holder="3301**********123X",
        valid_until=None,
        revoked_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        revoked_by="您本人",
    )
    return SimpleNamespace(
        live=[row] if live else [],
        revoked=[past],
        revoke_action="/account/certificates/revoke",
        back=back,
        just_revoked=True,
    )


def second_factor(on: bool = True) -> Any:
    return SimpleNamespace(
        enabled_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC) if on else None,
        recovery_left=9,
        start_action="/account/second-factor/totp/start",
        remove_action="/account/second-factor/totp/remove",
        notice="on" if on else None,
    )


ENTERPRISES = [
    Enterprise(1, "示例科技有限公司", "91330100********1X"),
    Enterprise(2, "示例贸易有限公司", "91330100********2Y", as_agent=True),
]


#: template -> (sample context, a Chinese phrase in the zh render, an English one in the en render)
def wallet_cards() -> list[Any]:
    reveal = SimpleNamespace(label=labels.field_label("name"), value="张三")
    purpose = SimpleNamespace(name="id_card.housing_fund", label="住房公积金提取", reveals=[reveal])
    return [
        SimpleNamespace(
            identifier="1.2.156.3005.2.X.Y.1.001.Z",
            title="居民身份证",
            holder="3301**********123X",
            purposes=[purpose],
        )
    ]


def my_passkeys(available: bool = True, rows: bool = True) -> Any:
    row = SimpleNamespace(
        name="我的手机",
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        last_used_at=None,
        remove_action="/account/passkeys/3/remove",
    )
    return SimpleNamespace(
        available=available,
        rows=[row] if rows else [],
        options_action="/account/passkeys/options",
        register_action="/account/passkeys",
        changed="added",
    )


PASSKEY_SIGN_IN = SimpleNamespace(
    options="/interaction/x/passkey/options", verify="/interaction/x/passkey"
)

PAGES: dict[str, tuple[dict[str, Any], str, str]] = {
    "login.html": (
        {
            "action": "/authorize/x",
            "username": "",
            "error": None,
            "client_name": "不动产登记",
            "passkey_sign_in": PASSKEY_SIGN_IN,
        },
        "登录",
        "Sign in",
    ),
    "consent.html": (
        {
            "action": "/authorize/x",
            "client_name": "不动产登记",
            "acting_for": "示例科技有限公司",
            "items": consent_items,
        },
        "同意",
        "Allow",
    ),
    "enterprise.html": (
        {"action": "/authorize/x", "client_name": "不动产登记", "enterprises": ENTERPRISES},
        "统一社会信用代码",
        "Act for which enterprise?",
    ),
    "account.html": (
        {
            "name": "张三",
            "masked_number": "3301**********123X",
            "releases": releases,
            "consents": consents,
            "sessions": account_sessions,
            "end_all_action": "/account/sessions/end-all",
            "logout_action": "/account/logout",
            "certificates": my_certificates,
            "passkeys": my_passkeys,
            "second_factor": second_factor(),
        },
        "我的数据使用记录",
        "Who used my data",
    ),
    "totp_enrol.html": (
        {
            "qr": '<svg viewBox="0 0 1 1"><path d="M0,0H1V1H0z"/></svg>',
            "secret": "JBSW Y3DP EHPK 3PXP",
            "action": "/account/second-factor/totp/confirm",
            "cancel": "/account",
            "error": "That code is not right.",
        },
        "输入应用显示的 6 位验证码。",
        "Enter the 6-digit code the app shows.",
    ),
    "recovery_codes.html": (
        {"codes": ["abcde-fghjk", "mnpqr-stuvw"], "done": "/account?totp=on"},
        "我已妥善保存",
        "I have kept them",
    ),
    "totp_remove.html": (
        {"action": "/account/second-factor/totp/remove", "cancel": "/account", "error": "x"},
        "应用中的验证码或恢复码",
        "Code from the app, or a recovery code",
    ),
    "totp_prompt.html": (
        {
            "action": "/interaction/x",
            "client_name": "不动产登记",
            "error": "That code is not right.",
        },
        "输入身份验证器应用中的验证码",
        "Enter a code from your authenticator app",
    ),
    "step_up.html": (
        {
            "action": "/interaction/x",
            "client_name": "不动产登记",
            "passkey": False,
            "account": "/account",
        },
        "要求您分两步登录",
        "asks you to sign in with two steps",
    ),
    "error.html": (
        {"status": 400, "title": "请求无效", "message": "请返回原服务页面重新办理。"},
        "错误代码",
        "Error code",
    ),
    "logout.html": (
        {
            "action": "/logout",
            "client_name": "不动产登记",
            "hidden": {"post_logout_redirect_uri": "https://rp.example/bye", "state": "abc"},
        },
        "退出登录",
        "Sign out of Yihao?",
    ),
    "logged_out.html": ({}, "您已退出登录", "You have signed out."),
    "wallet.html": (
        {
            "cards": wallet_cards,
            "token": "t0ken",
            "issuer": "https://id.example.gov.cn",
            "client_id": "yihao-wallet",
            "certificates": lambda: my_certificates("wallet"),
        },
        "我的电子证照",
        "My e-certificates",
    ),
    "register_start.html": (
        {
            "page": {"title": "身份证实名注册", "lead": "请输入", "submit": "创建账户"},
            "action": "/register",
            "interaction": "",
            "number": "",
            "error": None,
            "sign_in_url": None,
            "recover_url": "/recover",
            "already_registered": False,
        },
        "姓名",
        "As printed on your identity card",
    ),
    "register_finish.html": (
        {
            "page": {"title": "身份证实名注册", "lead": "请输入", "submit": "创建账户"},
            "mobile": "138****5678",
            "sent_to": "138****5678",
            "send_action": "/register/send",
            "action": "/register/finish",
            "error": None,
        },
        "发送验证码",
        "Send the code",
    ),
    "password_change.html": (
        {"action": "/account/password", "cancel": "/account", "error": None},
        "当前密码",
        "Current password",
    ),
    "sms_outbox.html": ({"messages": []}, "短信发件箱", "SMS outbox (development)"),
    "certificate_revoke.html": (
        {
            "certificate": lambda: my_certificates().live[0],
            "reasons": [("key_compromise", "我的手机丢失或被盗"), ("unspecified", "不再需要")],
            "back": "wallet",
            "action": "/account/certificates/revoke",
            "cancel": "/wallet",
        },
        "撤销这个证照吗？",
        "Revoke this certificate?",
    ),
}


# --------------------------------------------------------------------------- HTML inspection


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    form: int | None  # index of the enclosing <form>, if any
    text: str = ""


@dataclass
class Page(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    forms: list[Element] = field(default_factory=list)
    _form: int | None = None
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self._form)
        if tag == "form":
            self.forms.append(el)
            self._form = len(self.forms) - 1
            el.form = self._form
        self.elements.append(el)
        if tag in ("label", "button", "h1", "h2", "h3", "title", "legend", "caption", "a"):
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i]
                break

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def check_accessibility_basics(page: Page, html: str, tag: str) -> None:
    # <html lang> follows the locale
    (root,) = page.find("html")
    assert root.attrs.get("lang") == tag
    # skip link to <main id="main">
    assert page.find("a", href="#main"), "skip link missing"
    assert page.find("main", id="main")
    # language switcher marks the current language
    current = [a for a in page.find("a") if a.attrs.get("aria-current") == "true"]
    assert [a.attrs["hreflang"] for a in current] == [tag]
    assert page.find("a", href="/here?lang=zh-CN") and page.find("a", href="/here?lang=en")
    # stylesheet and viewport
    assert page.find("link", rel="stylesheet", href="/static/app.css")
    assert page.find("meta", name="viewport", content="width=device-width, initial-scale=1")
    # ids are unique and every reference resolves
    ids = [e.attrs["id"] for e in page.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids)), ids
    for e in page.elements:
        for attr in ("aria-describedby", "aria-labelledby"):
            for ref in e.attrs.get(attr, "").split():
                assert ref in ids, f"{e.tag} {attr}={ref!r} has no target"
    # every visible form control has a <label for=...>
    label_for = {lab.attrs.get("for") for lab in page.find("label")}
    for e in page.elements:
        if e.tag in ("input", "select", "textarea") and e.attrs.get("type") != "hidden":
            assert e.attrs.get("id") in label_for, f"unlabelled control {e.attrs}"
    # every form posts and carries a CSRF token; every button is a real submit button
    for index, form in enumerate(page.forms):
        assert form.attrs.get("method") == "post"
        tokens = [
            e
            for e in page.find("input", type="hidden", name="csrf_token")
            if e.form == index and e.attrs.get("value")
        ]
        assert len(tokens) == 1, f"form {form.attrs.get('action')} lacks csrf_token"
    for button in page.find("button"):
        assert button.attrs.get("type") == "submit"
        assert button.text.strip()
    # one h1 and no skipped heading levels
    levels = [int(e.tag[1]) for e in page.elements if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    # the title is not empty
    (title,) = page.find("title")
    assert title.text.strip()


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_renders_in_each_locale(render: Render, locale: tuple[str, str], name: str) -> None:
    context, zh_text, en_text = PAGES[name]
    html = render(name, **context)
    page = parse(html)
    check_accessibility_basics(page, html, locale[1])
    if locale[0] == "zh_Hans_CN":
        assert zh_text in html
        assert "一号通行" in html
        assert en_text not in html
    else:
        assert en_text in html
        assert "Yihao" in html
        assert zh_text not in html


def test_every_template_is_covered() -> None:
    # Partials (``_*.html``) are covered by the pages that include them.
    on_disk = {p.name for p in TEMPLATES.glob("*.html") if not p.name.startswith("_")} - {
        "base.html"
    }
    assert on_disk == set(PAGES)


def test_passkeys_on_the_account_and_login_pages(render: Render) -> None:
    account = parse(render("account.html", **{**PAGES["account.html"][0], "passkeys": my_passkeys}))
    (adding,) = [f for f in account.forms if f.attrs.get("id") == "passkey-add"]
    assert "hidden" in adding.attrs and adding.attrs["data-options"] == "/account/passkeys/options"
    (name,) = account.find("input", name="name")
    assert name.attrs["id"] == "passkey-name" and name.attrs["maxlength"] == "64"
    scripts = [s.attrs.get("src") for s in account.find("script")]
    assert scripts == ["/static/passkeys.js"]
    login = render("login.html", action="/authorize/x", username="", error=None, client_name=None)
    assert "passkey" not in login  # without passkey_sign_in (an IP-address issuer): no button
    shown = parse(render("login.html", **PAGES["login.html"][0]))
    (signing_in,) = [f for f in shown.forms if f.attrs.get("id") == "passkey-sign-in"]
    assert signing_in.attrs["action"] == "/interaction/x/passkey" and "hidden" in signing_in.attrs
    assert [s.attrs.get("src") for s in shown.find("script")] == ["/static/passkeys.js"]


def test_login_fields(render: Render, locale: tuple[str, str]) -> None:
    html = render("login.html", action="/authorize/x", username="", error=None, client_name=None)
    page = parse(html)
    (form,) = page.forms
    assert form.attrs["action"] == "/authorize/x"
    (user,) = page.find("input", name="username")
    (pwd,) = page.find("input", name="password")
    assert user.attrs["autocomplete"] == "username"
    assert user.attrs["maxlength"] == "18"
    assert user.attrs["autocapitalize"] == "characters"
    assert user.attrs["inputmode"] == "text"
    assert pwd.attrs["type"] == "password"
    assert pwd.attrs["autocomplete"] == "current-password"
    labels_by_for = {lab.attrs["for"]: lab.text.strip() for lab in page.find("label")}
    expected = (
        ("居民身份证号码", "密码")
        if locale[0] == "zh_Hans_CN"
        else (
            "Resident identity number",
            "Password",
        )
    )
    assert labels_by_for[user.attrs["id"]] == expected[0]
    assert labels_by_for[pwd.attrs["id"]] == expected[1]
    assert not page.find("p", role="alert")


def test_login_error_is_announced_and_linked(render: Render, locale: tuple[str, str]) -> None:
    html = render(
        "login.html",
        action="/a",
        username="11010519491231002X",
        error="身份证号码或密码不正确。",
        client_name="不动产登记",
    )
    page = parse(html)
    (alert,) = page.find("p", role="alert")
    for name in ("username", "password"):
        (field_,) = page.find("input", name=name)
        assert alert.attrs["id"] in field_.attrs["aria-describedby"].split()
        assert field_.attrs["aria-invalid"] == "true"
    (user,) = page.find("input", name="username")
    assert user.attrs["value"] == "11010519491231002X"
    assert "身份证号码或密码不正确。" in html
    if locale[0] == "zh_Hans_CN":
        assert "登录后继续使用“不动产登记”" in html
    else:
        assert "Sign in to continue to 不动产登记" in html


def test_consent_buttons_and_items(render: Render, locale: tuple[str, str]) -> None:
    context, _, _ = PAGES["consent.html"]
    html = render("consent.html", **context)
    page = parse(html)
    decisions = [b.attrs.get("value") for b in page.find("button", name="decision")]
    assert decisions == ["allow", "deny"]
    assert len({b.form for b in page.find("button")}) == 1  # both in the one form
    assert "核验办事人身份" in html
    assert "item--sensitive" in html
    if locale[0] == "zh_Hans_CN":
        assert "身份证件号码" in html and "用途：核验办事人身份" in html
        assert "姓名、性别、出生日期" in html
        assert "“示例科技有限公司”" in html
    else:
        assert "Identity document number" in html and "Purpose: 核验办事人身份" in html
        assert "Name, Gender, Date of birth" in html


def test_user_supplied_text_is_escaped(render: Render) -> None:
    evil = '<script>alert("x")</script>'
    html = render(
        "consent.html",
        action="/a",
        client_name=evil,
        acting_for=evil,
        items=[Item(evil, [evil], evil, False)],
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_enterprise_choices(render: Render) -> None:
    context, _, _ = PAGES["enterprise.html"]
    page = parse(render("enterprise.html", **context))
    radios = page.find("input", type="radio")
    assert [r.attrs["name"] for r in radios] == ["enterprise_id", "enterprise_id"]
    assert [r.attrs["value"] for r in radios] == ["1", "2"]
    assert ["checked" in r.attrs for r in radios] == [True, False]
    assert page.find("fieldset") and page.find("legend")
    assert [b.attrs.get("value") for b in page.find("button", name="decision")] == [
        "allow",
        "deny",
    ]


def test_enterprise_none(render: Render, locale: tuple[str, str]) -> None:
    html = render("enterprise.html", action="/a", client_name="不动产登记", enterprises=[])
    page = parse(html)
    assert not page.find("input", type="radio")
    assert [b.attrs.get("value") for b in page.find("button")] == ["deny"]
    expected = (
        "您无法在此代表企业办事"
        if locale[0] == "zh_Hans_CN"
        else "You cannot act for an enterprise here"
    )
    assert expected in html


def delegation() -> Any:
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    mandate = SimpleNamespace(
        agent="孙二 110105********002X",
        enterprise="示例科技有限公司",
        scopes=["基本资料"],
        services=None,
        last_day=at.date(),
        expired=False,
        withdraw_action="/account/mandates/4/withdraw",
    )
    use = SimpleNamespace(
        client_name="公积金中心",
        claims=["企业名称"],
        channel_label="登录时",
        released_at=at,
        actor="孙二 110105********002X",
        as_agent=True,
    )
    represented = SimpleNamespace(
        id=1,
        name="示例科技有限公司",
        uscc_masked="91330100********1X",
        mandates=[mandate],
        uses=[use],
        grant_action="/account/enterprises/1/mandates",
    )
    return SimpleNamespace(
        represented=[represented],
        held=[mandate],
        scope_options=[SimpleNamespace(value="profile", label="基本资料")],
        client_options=[SimpleNamespace(value="c1", label="公积金中心")],
        today="2026-01-02",
        notice="x",
        notice_is_error=True,
    )


def test_mandates_on_the_account_page(render: Render, locale: tuple[str, str]) -> None:
    html = render("account.html", **{**PAGES["account.html"][0], "delegation": delegation()})
    page = parse(html)
    check_accessibility_basics(page, html, locale[1])
    actions = [f.attrs["action"] for f in page.forms]
    assert "/account/mandates/4/withdraw" in actions
    assert "/account/enterprises/1/mandates" in actions
    assert ("本企业的数据使用记录" if locale[0] == "zh_Hans_CN" else "Who used our data") in html
    assert ("(经办人)" if locale[0] == "zh_Hans_CN" else "(agent)") in html


def test_account_page(render: Render, locale: tuple[str, str]) -> None:
    context, _, _ = PAGES["account.html"]
    html = render("account.html", **context)
    page = parse(html)
    assert "2026-01-02 03:04 UTC" in html
    assert page.find("caption")
    actions = [f.attrs["action"] for f in page.forms]
    assert actions == [
        "/account/consents/7/withdraw",
        "/account/sessions/ab12/end",  # the other device; this one signs out below
        "/account/sessions/end-all",
        "/account/passkeys/3/remove",
        "/account/passkeys",
        "/account/second-factor/totp/remove",
        "/account/certificates/revoke",
        "/account/logout",
    ]
    (revoke,) = [e for e in page.find("input", name="identifier")]
    assert revoke.attrs["value"] == "1.2.156.3005.2.X.Y.1.001.Z"
    assert "3301**********123X" in html and "192.168.*.*" in html
    assert "Chrome Mobile · Android" in html and "Firefox · Windows" in html
    if locale[0] == "zh_Hans_CN":
        assert "姓名（经办人）" in html and "登录时提供" in html and "撤回授权" in html
        assert "（本设备）" in html and "退出所有设备" in html
    else:
        assert "Name (acting person)" in html and "At sign-in" in html and "Withdraw" in html
        assert "(this device)" in html and "Sign out everywhere" in html


def test_account_page_empty(render: Render, locale: tuple[str, str]) -> None:
    html = render(
        "account.html",
        name="张三",
        masked_number="3301**********123X",
        releases=[],
        consents=[],
        sessions=[],
        end_all_action="/account/sessions/end-all",
        logout_action="/account/logout",
        certificates=my_certificates(live=False),
        passkeys=my_passkeys(available=False, rows=False),
        second_factor=second_factor(on=False),
    )
    page = parse(html)
    assert not page.find("table")
    assert [f.attrs["action"] for f in page.forms] == [
        "/account/sessions/end-all",
        "/account/second-factor/totp/start",
        "/account/logout",
    ]
    expected = (
        "暂无个人信息提供记录。" if locale[0] == "zh_Hans_CN" else "No data has been released yet."
    )
    assert expected in html


def test_logout_passes_hidden_fields(render: Render) -> None:
    context, _, _ = PAGES["logout.html"]
    page = parse(render("logout.html", **context))
    hidden = {e.attrs["name"]: e.attrs["value"] for e in page.find("input", type="hidden")}
    assert hidden["post_logout_redirect_uri"] == "https://rp.example/bye"
    assert hidden["state"] == "abc"
    assert hidden["csrf_token"]


def test_labels_translate(app: Flask, translations_dir: Path) -> None:
    cases = {
        "zh_Hans_CN": ("姓名（经办人）", "基本信息", "统一社会信用代码", "企业名称"),
        "en": (
            "Name (acting person)",
            "Basic profile",
            "Unified social credit code",
            "Enterprise name",
        ),
    }
    for babel_locale, (act_name, profile, uscc, ent_name) in cases.items():
        app.config["TEST_LOCALE"] = babel_locale
        try:
            with app.test_request_context("/"):
                assert labels.claim_label("act.name") == act_name
                assert labels.scope_label("profile") == profile
                assert labels.claim_label("uscc") == uscc
                assert labels.claim_label("name", enterprise=True) == ent_name
                assert labels.claim_label("no_such_claim") == "no_such_claim"
                assert labels.scope_label("no_such_scope") == "no_such_scope"
                assert labels.claim_label("act.") == "act."
        finally:
            app.config["TEST_LOCALE"] = "zh_Hans_CN"


def test_social_insurance_labels_and_masked_codes(app: Flask) -> None:
    # An employer's code is shown masked in the wallet like the enterprise's own; the claim's
    # label says whose months an enterprise login releases.
    with app.test_request_context("/"):
        assert labels.field_value("employer_uscc", "91110000600037341L") == "911100********341L"
        assert labels.field_value("contribution_amount", "2816.5") == "2816.5"
        assert labels.claim_label("social_insurance").startswith("本人逐月社保缴费记录")
        enterprise = labels.claim_label("social_insurance", enterprise=True)
        assert enterprise.startswith("企业逐月社保缴费记录")


def test_labels_cover_every_scope_and_claim() -> None:
    assert set(labels.SCOPE_LABELS) == set(SCOPE_CLAIMS)
    assert set(SUPPORTED_CLAIMS) <= set(labels.CLAIM_LABELS)
    assert labels.SENSITIVE_SCOPES.issubset(labels.SCOPE_LABELS)
    assert set(labels.PROFILE_LABELS) == set(fapi2.PROFILES)


# --------------------------------------------------------------------------- catalogue


def read_catalogue() -> Any:
    with PO_FILE.open("rb") as f:
        return read_po(f)


def test_every_msgid_is_translated() -> None:
    catalog = read_catalogue()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_catalogue_covers_templates_and_labels() -> None:
    catalog = read_catalogue()
    used: set[str] = set()
    for path in sorted(TEMPLATES.glob("**/*.html")):
        used |= {m[1] for m in extract_from_file("jinja2", str(path)) if isinstance(m[1], str)}
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    for module in sorted(WEB.glob("**/*.py")):
        used |= {
            m[1]
            for m in extract_from_file("python", str(module), keywords=keywords)
            if isinstance(m[1], str)
        }
    assert len(used) > 40
    missing = sorted(m for m in used if m not in catalog or not catalog[m].string)
    assert missing == []


def test_placeholders_survive_translation() -> None:
    for message in read_catalogue():
        if not message.id:
            continue
        names = sorted(re.findall(r"%\((\w+)\)s|\{(\w+)\}", message.id))
        assert sorted(re.findall(r"%\((\w+)\)s|\{(\w+)\}", message.string)) == names, message.id


def test_no_identity_numbers_in_templates() -> None:
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\d{17}[\dXx]", text), path.name
