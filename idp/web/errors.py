"""Error pages for people, JSON errors for programs; never a traceback, nor a 500 for bad input."""

from __future__ import annotations

import logging
from typing import cast

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from idp.observability import metrics
from idp.observability.http import UNMATCHED
from idp.observability.logs import REQUEST_ID
from idp.store.db import connection_lost, db
from idp.web.admin_api import problems
from idp.web.admin_api.operations import PREFIX as ADMIN_API
from idp.web.json_body import JsonBodyError

log = logging.getLogger(__name__)

_API_PREFIXES = (
    "/token",
    "/par",
    "/userinfo",
    "/revoke",
    "/introspect",
    "/connect/",
    "/jwks.json",
    "/.well-known",
    "/credentials",
    "/sl/",
    "/healthz",
    "/readyz",
)


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def _wants_json() -> bool:
    return request.path.startswith(_API_PREFIXES)


def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
    original = getattr(exc, "original_exception", None)
    if isinstance(original, DBAPIError):  # raised after the view (saving the session): Flask's 500
        return _database_error(original)
    if request.path.startswith(ADMIN_API):
        return problems.from_http(exc)
    if _wants_json() and type(exc).get_body is not HTTPException.get_body:
        # An exception that renders its own body (Authlib's resource protector: the RFC 6750 3.1
        # error and its WWW-Authenticate challenge) is already the right answer.
        return cast(Response, exc.get_response())
    status = exc.code or 500
    if _wants_json():
        # RFC 6749 5.2 shape, so programs get one error format from every endpoint.
        body = jsonify(
            error="invalid_request" if status < 500 else "server_error", error_description=exc.name
        )
        body.status_code = status
        return body
    return error_page(status, exc.name, exc.description or "")


def _json_body_error(exc: JsonBodyError) -> Response:
    # RFC 6749 5.2 shape: only programs send JSON bodies.
    body = jsonify(error="invalid_request", error_description=exc.description)
    body.status_code = 400
    body.headers["Cache-Control"] = "no-store"
    return body


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return error_page(
        400, _("The form has expired"), _("Please go back, reload the page and try again.")
    )


#: RFC 9110 10.2.3: when to try again after the database dropped the request's connection.
RETRY_AFTER_SECONDS = 1


def _database_error(exc: DBAPIError) -> Response | tuple[str, int]:
    """A statement whose connection died answers 503 with ``Retry-After``, never 500.

    The request is not retried here, not even its reads: by then it may have written (an
    autocommitted token INSERT whose COMMIT's answer was lost may or may not have happened) or
    used up one-time state outside the database (a DPoP ``jti``, a throttle count), so only the
    client knows whether sending it again is safe. The dead connection never reaches the next
    request: SQLAlchemy invalidated it, and idle pooled connections the server ended are
    replaced at checkout (``idp.store.engine``), so the provider recovers by itself.
    """
    if not connection_lost(exc):
        return _unexpected(exc)
    db.session.rollback()  # else anything after this handler finds the session unusable
    endpoint = request.endpoint or UNMATCHED
    metrics.connection_lost(endpoint)
    # The driver's class name only: the message holds the statement and its parameters.
    log.warning(
        "database connection lost (%s) on %s (request %s): answered 503",
        type(exc.orig).__name__,
        endpoint,
        g.get(REQUEST_ID),
    )
    answer = _unavailable()
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _unavailable() -> Response:
    if request.path.startswith(ADMIN_API):
        return problems.problem(503, "unavailable", "Service unavailable", "try again shortly")
    if _wants_json():
        # RFC 6749 4.1.2.1's code for a passing overload; the token endpoint has none of its own.
        body = jsonify(
            error="temporarily_unavailable", error_description="the database is unavailable"
        )
        body.status_code = 503
        return body
    page, status = error_page(503, _("Temporarily unavailable"), _("Please try again in a moment."))
    return Response(page, status, mimetype="text/html")


def _unexpected(exc: Exception) -> Response | tuple[str, int]:
    if request.path.startswith(ADMIN_API):
        return problems.unexpected(exc)
    # Logged without request data: form fields may hold identity numbers.
    log.exception(
        "unhandled error on %s %s (request %s)", request.method, request.path, g.get(REQUEST_ID)
    )
    if _wants_json():
        body = jsonify(error="server_error")
        body.status_code = 500
        return body
    return error_page(500, _("Something went wrong"), _("Please try again later."))


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(JsonBodyError, _json_body_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)
