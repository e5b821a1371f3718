"""The OpenAPI 3.1 description of the admin API, built from the declared operations."""

from __future__ import annotations

from typing import Any

from flask import Response, json

from idp.admin.errors import KINDS
from idp.admin.roles import PERMISSIONS, ROLE_SCOPES
from idp.services import services
from idp.web.admin_api.operations import OPERATIONS, PREFIX, Operation, bp
from idp.web.admin_api.problems import MEDIA_TYPE, TYPE_BASE

OPENAPI_VERSION = "3.1.0"

_PROBLEM: dict[str, Any] = {
    # RFC 9457 3.1; the extension "errors" lists schema failures by JSON pointer.
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for declared in OPERATIONS:
        paths.setdefault(declared.path, {})[declared.method.lower()] = _operation(declared)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Yihao admin API",
            "version": "1",
            "description": "Clients, people, enterprises, certificates, keys, imports and audit. "
            "Errors are RFC 9457 problem details; problem types are under " + TYPE_BASE + ".",
        },
        "servers": [{"url": services().settings.issuer + PREFIX}],
        "paths": paths,
        "components": {
            "schemas": {"Problem": _PROBLEM},
            "securitySchemes": {
                "adminToken": {
                    "type": "oauth2",
                    "description": "A client-credentials token with admin:<role> scopes",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": services().settings.issuer + "/token",
                            "scopes": {
                                scope: f"act as {role.value}" for scope, role in ROLE_SCOPES.items()
                            },
                        }
                    },
                },
                "operatorSession": {"type": "apiKey", "in": "cookie", "name": "yihao_session"},
            },
        },
        "security": [{"adminToken": []}, {"operatorSession": []}],
    }


def _operation(declared: Operation) -> dict[str, Any]:
    roles = sorted(
        role.value for role, granted in PERMISSIONS.items() if declared.permission in granted
    )
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in declared.path_parameters
    ] + [{"name": name, "in": "query", "schema": schema} for name, schema in declared.query.items()]
    described: dict[str, Any] = {
        "operationId": declared.name,
        "summary": declared.summary,
        "tags": [declared.tag],
        "description": f"Permission `{declared.permission.value}`: roles {', '.join(roles)}.",
        "x-permission": declared.permission.value,
        "parameters": parameters,
        "responses": {
            str(declared.status): {
                "description": "done",
                "content": {declared.response_media: {"schema": declared.response}},
            },
            **{str(status): _problem(title) for status, title in _problems(declared)},
        },
    }
    if declared.request is not None:
        described["requestBody"] = {
            "required": True,
            "content": {declared.request_media: {"schema": declared.request}},
        }
    return described


def _problems(declared: Operation) -> list[tuple[int, str]]:
    """Every problem an operation may answer with: the task's kinds, and for a raw body its
    media type (415) and size (413) checks."""
    listed = [(kind.status, kind.title) for kind in KINDS]
    if declared.max_body is not None:
        listed += [(413, "Content too large"), (415, "Unsupported media type")]
    return listed


def _problem(title: str) -> dict[str, Any]:
    return {
        "description": title,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


@bp.route("/openapi.json")
def openapi_json() -> Response:
    """Public: it describes the API, and every operation still needs its credential."""
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")
