"""Locale choice: zh-CN first, English on request (``ui_locales``, ``?lang=``, the browser)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, session
from flask_babel import Babel

from idp.web.reflected import overlong

SUPPORTED = {"zh-CN": "zh_Hans_CN", "en": "en"}
DEFAULT = "zh-CN"


def _match(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def remember_locale(tags: str | None) -> None:
    """Keep the first supported tag of ``tags`` (OIDC ``ui_locales`` is a preference list)."""
    for tag in (tags or "").split():
        if (found := _match(tag)) is not None:
            session["lang"] = found
            return


def current_locale() -> str:
    """The page language as a BCP 47 tag, remembered in the session once chosen."""
    remember_locale(request.args.get("lang") or request.args.get("ui_locales"))
    if (stored := session.get("lang")) in SUPPORTED:
        return str(stored)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return (_match(best) if best else None) or DEFAULT


def lang_url(tag: str) -> str:
    """This page in language ``tag``: its query again, unless a value is over-long (the page
    refusing it must not echo it twice in its links)."""
    args = {k: v for k, v in request.args.items() if k not in ("lang", "ui_locales")}
    return request.path + "?" + urlencode({**({} if overlong(args) else args), "lang": tag})


def init_i18n(app: Flask) -> None:
    Babel(app, locale_selector=lambda: SUPPORTED[current_locale()])
    app.context_processor(lambda: {"current_locale": current_locale(), "lang_url": lang_url})
