"""Every line the provider logs is one JSON object naming its request.

Security events are already JSON (``idp.auth.events``, written as ``security {json}``); errors,
warnings and the background threads' lines go through ``JsonLines``, so the operator's log
pipeline parses one shape and finds every line of a request by the id a citizen or a service
quotes from ``X-Request-Id``. Messages name people by row id or masked number only; a formatter
cannot mask what a message already holds, so that rule stays with whoever writes the message.
"""

from __future__ import annotations

import json
import logging

from flask import g, has_request_context

#: The attribute of ``flask.g`` holding the request's id (set by ``idp.web.request_id``).
REQUEST_ID = "request_id"
#: The logger every module's ``logging.getLogger(__name__)`` sits under.
ROOT = "idp"


def current_request_id() -> str | None:
    """The id of the request being answered, or None outside a request (a background thread)."""
    if not has_request_context():
        return None
    found = g.get(REQUEST_ID)
    return str(found) if found is not None else None


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str | None] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            REQUEST_ID: current_request_id(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, sort_keys=True)


def init_logs() -> None:
    """Warnings and errors of ``idp.*`` to standard error as JSON lines (``idp serve``)."""
    log = logging.getLogger(ROOT)
    if any(isinstance(handler.formatter, JsonLines) for handler in log.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
