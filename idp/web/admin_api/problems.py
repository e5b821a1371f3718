"""RFC 9457 problem details for every error under ``/admin/api``, never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, g, json, request
from werkzeug.exceptions import HTTPException

from idp.admin.errors import AdminError
from idp.observability.logs import REQUEST_ID
from idp.web.admin_api.operations import PREFIX, bp
from idp.web.json_body import JsonBodyError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"  # RFC 9457 3
#: Problem type URIs (RFC 9457 3.1.1) are relative references under the API.
TYPE_BASE = PREFIX + "/problems/"


def problem(status: int, slug: str, title: str, detail: str, **extensions: Any) -> Response:
    body = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": g.get(REQUEST_ID),
        **extensions,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="yihao-admin"'  # RFC 6750 3
    return response


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError) -> Response:
    return problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extensions)


@bp.errorhandler(JsonBodyError)
def _json_body(exc: JsonBodyError) -> Response:
    return problem(400, "bad-request", "Bad request", exc.description or "send a JSON object")


@bp.errorhandler(HTTPException)
def from_http(exc: HTTPException) -> Response:
    """Also the answer to routing errors (an unknown path or method under the API), which
    Flask raises before any blueprint's handler could see them (``idp.web.errors``)."""
    status = exc.code or 500
    return problem(status, exc.name.lower().replace(" ", "-"), exc.name, exc.description or "")


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> Response:
    # Logged without the body: it may hold identity numbers.
    log.exception(
        "admin API error on %s %s (request %s)", request.method, request.path, g.get(REQUEST_ID)
    )
    return problem(500, "server-error", "Internal error", "logged under this request id")
