"""CSRF on every form: Flask-WTF's token, and one same-origin rule for HTTP and HTTPS alike.

Flask-WTF checks the ``Referer`` only on secure requests, against the request's own host, and
refuses a POST without one; a page sent with ``Referrer-Policy: no-referrer`` could therefore post
nothing behind TLS. Here its check is replaced by ours, applied to every request whose token it
accepted: the ``Origin`` header (or, when a browser sends none, a ``Referer``) must be the
origin of the configured issuer, whatever the scheme and whatever the proxy says the host is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from idp.services import services

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """The RFC 6454 origin of ``url`` as a browser serialises it (scheme://host[:port])."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    shown = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{parts.hostname}{shown}"


def require_same_origin() -> None:
    """Refuse a state-changing request that a page of another origin (or none) sent.

    RFC 6454 7 / Fetch: browsers send ``Origin`` with every POST; ``null`` (an opaque origin,
    e.g. a sandboxed frame) never matches. ``Referer`` is the fallback for agents that send no
    ``Origin``; our pages send it to ourselves (``Referrer-Policy: same-origin``).
    """
    expected = origin_of(services().settings.issuer)
    claimed = request.headers.get("Origin")
    if claimed is None:
        referrer = request.headers.get("Referer")
        if referrer is None:
            raise CSRFError("The request names no origin.")
        claimed = origin_of(referrer) or "null"
    if claimed.lower() != expected:
        raise CSRFError("The request comes from another site.")


class FormProtection(CSRFProtect):  # type: ignore[misc]
    """Flask-WTF's token check, then ours for the origin; one rule for every form."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Replaced by require_same_origin, which judges plain HTTP and HTTPS by one rule.
        app.config["WTF_CSRF_SSL_STRICT"] = False

    def protect(self, apply_exemptions: bool = False) -> None:
        super().protect(apply_exemptions)
        if g.get("csrf_valid"):
            require_same_origin()


def protect_form() -> None:
    """Check a form that a view decides to accept (the logout confirmation), as the rest are."""
    protection: FormProtection = current_app.extensions["csrf"]
    protection.protect()
