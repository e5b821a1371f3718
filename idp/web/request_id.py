"""A request id on every response (``X-Request-Id``) and in every log line the request writes.

A citizen or a relying service quoting the id from a response header lets an operator find the
matching security events and errors without anyone reading out an identity number. Behind the
configured proxies (``IDP_PROXY_HOPS``) the proxy's own id (nginx ``$request_id``) is kept, so one
id follows a request through both logs; otherwise, or when it is not a plain token, a new one is
made.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, Response, g, request

from idp.observability.logs import REQUEST_ID
from idp.services import services

HEADER = "X-Request-Id"
#: What a proxy's id may look like to be kept: a plain token, nothing to inject into a log line.
PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _assign() -> None:
    offered = request.headers.get(HEADER, "")
    trusted = services().settings.proxy_hops > 0 and PLAIN_TOKEN.fullmatch(offered)
    setattr(g, REQUEST_ID, offered if trusted else secrets.token_hex(8))


def _send(response: Response) -> Response:
    response.headers[HEADER] = getattr(g, REQUEST_ID, "")
    return response


def init_request_id(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_send)
