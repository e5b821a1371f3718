"""Why an admin task did not happen, in the terms of RFC 9457 problem details.

The web layer renders these (``idp.web.admin_api.problems``, or a console page); here they are
plain exceptions so that the task functions know nothing of HTTP. A ``detail`` never holds an
identity number: say "no person with that number", never the number.
"""

from __future__ import annotations

from typing import Any


class AdminError(Exception):
    """RFC 9457 3.1: ``type`` is a URI naming the problem; ``title`` the same for every
    occurrence; ``detail`` this occurrence's explanation; extension members in ``extensions``."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(AdminError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Forbidden(AdminError):
    status = 403
    slug = "forbidden"
    title = "Not allowed for your roles"


class Unauthenticated(AdminError):
    status = 401
    slug = "unauthenticated"
    title = "Sign in, or send an admin-scoped bearer token"


class Invalid(AdminError):
    """The input breaks a rule; ``errors`` lists ``{"pointer": "/field", "detail": "..."}``."""

    status = 422
    slug = "invalid"
    title = "The request does not meet the rules"


class Conflict(AdminError):
    status = 409
    slug = "conflict"
    title = "The change conflicts with the current state"


#: Every kind, for the OpenAPI description and the console.
KINDS: tuple[type[AdminError], ...] = (
    AdminError,
    NotFound,
    Forbidden,
    Unauthenticated,
    Invalid,
    Conflict,
)
