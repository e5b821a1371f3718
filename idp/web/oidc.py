"""The protocol endpoints programs call: token, userinfo, revocation, introspection, dynamic
client registration and its management. Each is a thin adapter onto the Authlib server built in
``idp.oauth.server``. Discovery and the JWKS are served before Flask, by ``idp.web.documents``."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, current_app, jsonify, request

from idp.oauth import rfc9126, rfc9449
from idp.oauth.endpoints import ENDPOINTS, PAR_ENDPOINT
from idp.oauth.rfc7591 import PATH as REGISTER_PATH
from idp.oauth.rfc7591 import Registration, json_request
from idp.oauth.rfc7592 import Configuration
from idp.oauth.server import YihaoServer
from idp.oauth.userinfo import protector, userinfo_claims
from idp.web.json_body import JsonBodyError, json_object
from idp.web.reflected import overlong

bp = Blueprint("oidc", __name__)
bp.after_request(rfc9449.offer_nonce)  # RFC 9449 8.2, 9: at /token and UserInfo
_guard = protector()


def _server() -> YihaoServer:
    found: YihaoServer = current_app.extensions["yihao_server"]
    return found


@bp.route("/token", methods=["POST"])
def token() -> Response:
    try:
        rfc9449.bind_token_request()  # RFC 9449 5: a DPoP header binds what is issued
    except rfc9449.DPoPError as exc:
        refused = jsonify(rfc9449.error_body(exc))
        refused.status_code = 400
        return _no_store(refused)
    return _no_store(_server().create_token_response())


@bp.route(ENDPOINTS[PAR_ENDPOINT], methods=["POST"])
def pushed_authorization_request() -> Response:
    """RFC 9126 2: the client pushes its authorization request and gets a request_uri."""
    name = overlong(request.form.to_dict(flat=True))
    if name is not None:  # the bounds /authorize holds its parameters to
        refused = jsonify(error="invalid_request", error_description=f"{name[:64]} is too long")
        refused.status_code = 400
        return _no_store(refused)
    status, body, headers = rfc9126.push(_server())
    answer = jsonify(body)
    answer.status_code = status
    answer.headers.extend(h for h in headers if h[0].lower() != "content-type")
    return _no_store(answer)


@bp.route("/revoke", methods=["POST"])
def revoke() -> Response:
    return _no_store(_server().create_endpoint_response("revocation"))


@bp.route("/introspect", methods=["POST"])
def introspect() -> Response:
    return _no_store(_server().create_endpoint_response("introspection"))


@bp.route(REGISTER_PATH, methods=["POST"])
def register_client() -> Response:
    """RFC 7591 3 (not /register, where citizens register themselves)."""
    found = json_request(_json_body)
    return _no_store(_server().create_endpoint_response(Registration.ENDPOINT_NAME, found))


@bp.route(REGISTER_PATH + "/<client_id>", methods=["GET", "PUT", "DELETE"])
def client_configuration(client_id: str) -> Response:
    """RFC 7592 2: the client reads, replaces or deletes its own registration."""
    found = json_request(_json_body)
    return _no_store(_server().create_endpoint_response(Configuration.ENDPOINT_NAME, found))


def _json_body() -> dict[str, Any]:
    try:
        return json_object()
    except JsonBodyError as exc:
        raise ValueError(exc.description) from None


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
