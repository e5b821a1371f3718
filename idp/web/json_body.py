"""The one way the provider reads a JSON request body: bounded in size and in nesting depth.

Python's ``json`` module recurses once per nesting level, so ``[[[...]]]`` a thousand deep raises
``RecursionError`` rather than a decoding error. The depth is therefore measured before decoding,
by a scan that skips string contents and counts brackets; no JSON library offers that bound.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

#: The largest JSON body accepted; the biggest real one (an issuance request) is under 2 KiB.
MAX_JSON_BYTES = 64 * 1024
#: The deepest nesting accepted; the deepest real body (a JWK inside an object) is 2 levels.
MAX_JSON_DEPTH = 16

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JsonBodyError(BadRequest):
    """A request body that is not a JSON object within the bounds; answered 400 invalid_request."""


def nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting outside strings (an upper bound for malformed input)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or ``JsonBodyError`` with a description for programs."""
    if not request.is_json:
        raise JsonBodyError("send a JSON object (Content-Type: application/json)")
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise JsonBodyError(f"the body is larger than {MAX_JSON_BYTES} bytes")
    raw = request.stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise JsonBodyError(f"the body is larger than {MAX_JSON_BYTES} bytes")
    if nesting_depth(raw) > MAX_JSON_DEPTH:
        raise JsonBodyError(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError: not UTF-8
        raise JsonBodyError("send a JSON object") from None
    if not isinstance(body, dict):
        raise JsonBodyError("send a JSON object")
    return body
