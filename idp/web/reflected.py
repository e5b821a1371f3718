"""Bounds on request parameters the provider echoes back: into a redirect (``state`` goes back
to the client, RFC 6749 4.1.2), into an ID token (``nonce``) or into a page (the logout form).

Without them a 70,000-character ``state`` posted to /authorize came back in a ``Location`` header
over 64 KB, which proxies refuse or truncate. An over-long value is told to the person, on a page:
the error redirect would have to carry the same value back.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from idp.web.errors import error_page

#: ``state`` and ``nonce``: 2 KiB, far above the 128-bit random value clients need (RFC 6749
#: 10.12, OIDC Core 15.5.2), and small enough for any redirect and any header.
MAX_ECHOED = 2048
#: Every other parameter of an authorization or logout request (an ``id_token_hint`` is a whole
#: ID token; the longest real ones are under 2 KiB).
MAX_PARAMETER = 8192
_ECHOED = frozenset({"state", "nonce"})


def overlong(params: Mapping[str, str]) -> str | None:
    """The name of the first parameter longer than its bound, or None."""
    for name, value in params.items():
        if len(value) > (MAX_ECHOED if name in _ECHOED else MAX_PARAMETER):
            return name
    return None


def refuse_overlong(params: Mapping[str, str]) -> tuple[str, int] | None:
    """The error page for a request with an over-long parameter; None when every one fits."""
    name = overlong(params)
    if name is None:
        return None
    message = _(
        "The service sent a value that is too long (%(name)s). Go back and try again.", name=name
    )
    return error_page(400, _("Invalid request"), message)
