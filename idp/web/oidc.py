"""The protocol endpoints programs call: token, userinfo, revocation, introspection. Each is a thin
adapter onto the Authlib server built in ``idp.oauth.server``. Discovery and the JWKS are served
before Flask, by ``idp.web.documents``."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, current_app, jsonify

from idp.oauth.server import YihaoServer
from idp.oauth.userinfo import protector, userinfo_claims

bp = Blueprint("oidc", __name__)
_guard = protector()


def _server() -> YihaoServer:
    found: YihaoServer = current_app.extensions["yihao_server"]
    return found


@bp.route("/token", methods=["POST"])
def token() -> Response:
    return _no_store(_server().create_token_response())


@bp.route("/revoke", methods=["POST"])
def revoke() -> Response:
    return _no_store(_server().create_endpoint_response("revocation"))


@bp.route("/introspect", methods=["POST"])
def introspect() -> Response:
    return _no_store(_server().create_endpoint_response("introspection"))


@bp.route("/userinfo", methods=["GET", "POST"])
@_guard("openid")  # type: ignore[untyped-decorator]
def userinfo() -> Response:
    claims = userinfo_claims(current_token)
    if claims is None:
        response = jsonify(error="invalid_token")
        response.status_code = 401
        return response
    return _no_store(jsonify(claims))


def _no_store(response: Response) -> Response:
    # RFC 6749 5.1 and 5.2: token responses, including errors, must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
