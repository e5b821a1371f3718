"""Security headers on every response the Flask app makes (discovery and the JWKS are answered
before Flask, by ``idp.web.documents``, and carry their own cache headers).

- ``Content-Security-Policy``: scripts, styles and connections from this origin only (no inline
  script, handler or style anywhere in the templates), no plugins, no ``<base>``, and no framing
  (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for older browsers). There is no
  ``form-action``: browsers apply it to the redirect after a form post too, and the consent form's
  answer is a redirect to the relying service's own address.
- ``Referrer-Policy: same-origin``: our own pages see where a post came from, relying services
  never see a provider URL.
- ``X-Content-Type-Options: nosniff`` on everything, HSTS when the issuer is https.
- ``Cache-Control: no-store`` on every page: each one shows personal data, a form or an outcome
  of a sign-in. A view that sets its own ``Cache-Control`` (the public trust list) keeps it.
"""

from __future__ import annotations

from flask import Flask, Response

from idp.services import services

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
#: One year, the value the HSTS preload list asks for (RFC 6797 6.1.1 leaves it to us).
HSTS_MAX_AGE = 365 * 24 * 3600


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if services().settings.issuer.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_headers(app: Flask) -> None:
    app.after_request(_secure)
