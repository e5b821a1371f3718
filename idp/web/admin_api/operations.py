"""Declaring an admin API operation: the Flask route and its OpenAPI 3.1 description at once.

A view receives the ``Operator`` (authenticated, with the task's permission already checked),
its path parameters, its query parameters (parsed and checked against their schemas) and, for
an operation with a request schema, ``body`` (a JSON object checked against it, with JSON
Schema 2020-12, the dialect of OpenAPI 3.1; or, for another ``request_media`` such as a CSV
upload, the raw bytes, of that media type and at most ``max_body`` long). It returns what the
response schema describes: JSON, or the text of another ``response_media`` (a CSV export).
No library turns Flask routes into OpenAPI 3.1 with this little; hence this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, json, request
from jsonschema import Draft202012Validator
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from idp.admin.errors import Invalid
from idp.admin.roles import Permission, permission_of, require
from idp.web.admin_api.auth import current_operator
from idp.web.json_body import json_object

Schema = dict[str, Any]
View = Callable[..., Any]

PREFIX = "/admin/api"
JSON = "application/json"
bp = Blueprint("admin_api", __name__, url_prefix=PREFIX)


@dataclass(frozen=True)
class Operation:
    method: str
    #: OpenAPI form, relative to ``PREFIX``: ``/clients/{client_id}``
    path: str
    name: str
    summary: str
    permission: Permission
    tag: str
    request: Schema | None = None
    response: Schema = field(default_factory=dict)
    status: int = 200
    query: dict[str, Schema] = field(default_factory=dict)
    request_media: str = JSON
    response_media: str = JSON
    #: the largest body accepted, in bytes, for a ``request_media`` other than JSON
    max_body: int | None = None

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


#: Every declared operation, in declaration order (``openapi.py`` describes these).
OPERATIONS: list[Operation] = []


def operation(
    method: str,
    path: str,
    *,
    calls: Callable[..., Any],
    summary: str,
    tag: str,
    response: Schema,
    request_schema: Schema | None = None,
    status: int = 200,
    query: dict[str, Schema] | None = None,
    request_media: str = JSON,
    response_media: str = JSON,
    max_body: int | None = None,
) -> Callable[[View], View]:
    """Declare the operation whose view calls the admin task ``calls`` (whose permission it
    checks before reading any input, so a caller without the role learns nothing of the rules)."""

    def register(view: View) -> View:
        declared = Operation(
            method=method.upper(),
            path=path,
            name=view.__name__,
            summary=summary,
            permission=permission_of(calls),
            tag=tag,
            request=request_schema,
            response=response,
            status=status,
            query=query or {},
            request_media=request_media,
            response_media=response_media,
            max_body=max_body,
        )
        OPERATIONS.append(declared)
        bp.add_url_rule(
            re.sub(r"\{(\w+)\}", r"<\1>", path),
            view.__name__,
            _endpoint(declared, view),
            methods=[declared.method],
        )
        return view

    return register


def _endpoint(declared: Operation, view: View) -> Callable[..., Response]:
    body_rule = _validator(declared.request) if declared.request is not None else None
    raw = declared.request_media != JSON
    if raw and declared.max_body is None:
        raise ValueError(f"{declared.name}: a {declared.request_media} body needs max_body")
    query_rules = {name: _validator(schema) for name, schema in declared.query.items()}

    def endpoint(**path_values: str) -> Response:
        operator = current_operator()
        require(operator, declared.permission)
        _without_nul(path_values)
        arguments: dict[str, Any] = {**path_values, **_query(query_rules)}
        if raw:
            arguments["body"] = _raw_body(declared.request_media, declared.max_body or 0)
        elif body_rule is not None:
            arguments["body"] = _checked(body_rule, json_object(), "")
        result = view(operator, **arguments)
        if declared.response_media == JSON:
            result = json.dumps(result, ensure_ascii=False)
        response = Response(result, declared.status, mimetype=declared.response_media)
        if declared.response_media != JSON:
            name = declared.path.rsplit("/", 1)[-1]
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    return endpoint


def _raw_body(media_type: str, limit: int) -> bytes:
    """The body as sent, refused before it is read whole when it is over ``limit`` bytes."""
    if request.mimetype != media_type:
        raise UnsupportedMediaType(f"send the body as {media_type}")
    too_large = RequestEntityTooLarge(f"the body is over the limit of {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = request.stream.read(limit + 1)  # a chunked body has no Content-Length
    if len(data) > limit:
        raise too_large
    return data


def _validator(schema: Schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)  # a wrong schema fails at start-up, not per request
    return Draft202012Validator(schema)


def _without_nul(path_values: dict[str, str]) -> None:
    """Refuse a NUL character in a path or query parameter: no valid value holds one, and
    PostgreSQL's text cannot (a lookup with one would be a 500, not a 404)."""
    named = [("{" + k + "}", v) for k, v in path_values.items()]
    named += [("?" + k, v) for k, v in request.args.items(multi=True)]
    found = [where for where, value in named if "\x00" in value]
    if found:
        raise Invalid(
            "a parameter holds a NUL character",
            errors=[{"pointer": where, "detail": "holds a NUL character"} for where in found],
        )


def _query(rules: dict[str, Draft202012Validator]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, rule in rules.items():
        raw = request.args.get(name)
        if raw is None:
            continue
        value: Any = raw
        if rule.schema.get("type") == "integer":
            if not re.fullmatch(r"-?\d{1,9}", raw):
                raise Invalid(
                    "a query parameter is not a whole number",
                    errors=[{"pointer": "?" + name, "detail": "not a whole number"}],
                )
            value = int(raw)
        values[name] = _checked(rule, value, "?" + name)
    return values


def _checked(rule: Draft202012Validator, value: Any, where: str) -> Any:
    """``value`` if it meets the schema, else ``Invalid`` listing each failure by JSON pointer.

    The detail names the rule, never the value: jsonschema's own messages quote the input,
    which may be an identity number.
    """
    failures = sorted(rule.iter_errors(value), key=lambda e: [str(p) for p in e.path])
    if failures:
        raise Invalid(
            "the request does not meet the schema",
            errors=[
                {
                    "pointer": where + "".join(f"/{p}" for p in e.path),
                    "detail": f"fails {e.validator}: {json.dumps(e.validator_value)[:120]}",
                }
                for e in failures[:20]
            ],
        )
    return value
