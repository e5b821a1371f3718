"""The e-certificate endpoints: the trust list and status lists verifiers cache, and the OAuth-
protected API through which the wallet and other apps list certificates, get a c_nonce, issue QR
credentials bound to a key they prove they hold, and (for operators) revoke them. Every identifier
travels in a JSON body, never in a URL. The API's guard is UserInfo's: a DPoP-bound token (RFC
9449 7) is taken only with the DPoP scheme and a proof by its key for this request."""

from __future__ import annotations

import base64
import time
from typing import Any

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, jsonify
from yihao.wire.fields import CredentialType
from yihao.wire.trust_list import MEDIA_TYPE as TRUST_LIST_MEDIA_TYPE

from idp.credentials.certificates import Held, find_by_identifier, held_by, holders_of
from idp.credentials.issuance import Audience, IssuanceError, holder_point, issue
from idp.credentials.openid4vci import ProofError, new_nonce, single_jwt_proof, verify_proof
from idp.credentials.status import (
    BY_CLIENT,
    REASONS,
    Revoker,
    forget_cached,
    revoke,
    status_token,
)
from idp.credentials.trust import signed_trust_list
from idp.oauth.principal import Principal
from idp.oauth.rfc9449 import offer_nonce
from idp.oauth.userinfo import protector
from idp.services import services
from idp.store.models import Token
from idp.web.json_body import json_object

bp = Blueprint("credentials_api", __name__)
bp.after_request(offer_nonce)  # RFC 9449 9: DPoP-bound tokens are taken here as at UserInfo
_guard = protector()
ISSUE_SCOPE = "credentials"
REVOKE_SCOPE = "credentials.revoke"


def _error(status: int, code: str, description: str) -> Response:
    response = jsonify(error=code, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/credentials/trust")
def trust() -> Response:
    response = Response(signed_trust_list(services()), mimetype=TRUST_LIST_MEDIA_TYPE)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/sl/<int:list_id>")
def status_list(list_id: int) -> Response:
    svc = services()
    token = status_token(svc, list_id) if list_id < 2**31 else None
    if token is None:
        return _error(404, "not_found", "no such status list")
    response = Response(token, mimetype="application/statuslist+cwt")
    response.cache_control.public = True
    response.cache_control.max_age = min(svc.settings.status_list_ttl, 60)
    return response


def _principal() -> Principal | None:
    token: Token = current_token
    return Principal.load(token.person_id, token.enterprise_id)


def _held(principal: Principal) -> list[Held]:
    svc = services()
    return [h for holder in holders_of(svc, principal) for h in held_by(svc, holder)]


def _describe(held: Held) -> dict[str, Any]:
    svc = services()
    certificate = held.certificate
    type_ = svc.catalogue.types[CredentialType(certificate.credential_type)]
    return {
        "identifier": certificate.identifier,
        "type": type_.name,
        "label_zh": type_.label_zh,
        "label_en": type_.label_en,
        "holder": certificate.holder_masked,
        "valid_until": certificate.valid_until.date().isoformat()
        if certificate.valid_until
        else None,
        "profiles": [p.name for p in svc.catalogue.profiles_for(type_.type)],
    }


@bp.route("/credentials", methods=["GET"])
@_guard(ISSUE_SCOPE)  # type: ignore[untyped-decorator]
def list_certificates() -> Response:
    principal = _principal()
    if principal is None:
        return _error(403, "insufficient_scope", "this token does not belong to a person")
    response = jsonify(certificates=[_describe(h) for h in _held(principal)])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/credentials/nonce", methods=["POST"])
@_guard(ISSUE_SCOPE)  # type: ignore[untyped-decorator]
def nonce() -> Response:
    """OpenID4VCI 1.0 §7.2: a fresh c_nonce, never cached."""
    fresh = new_nonce()
    response = jsonify(c_nonce=fresh.value, c_nonce_expires_in=fresh.expires_in)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/credentials/issue", methods=["POST"])
@_guard(ISSUE_SCOPE)  # type: ignore[untyped-decorator]
def issue_credential() -> Response:
    principal, body = _principal(), json_object()
    if principal is None:
        return _error(403, "insufficient_scope", "this token does not belong to a person")
    svc = services()
    held = next(
        (h for h in _held(principal) if h.certificate.identifier == body.get("identifier")), None
    )
    profile = svc.catalogue.profile_named(str(body.get("profile", "")))
    if held is None:
        return _error(404, "not_found", "you hold no certificate with this identifier")
    if profile is None:
        return _error(400, "invalid_request", "unknown profile")
    client_id = current_token.client_id
    try:
        key = verify_proof(single_jwt_proof(body), svc.settings.issuer, client_id)
        issued = issue(
            svc,
            held,
            profile,
            holder_point(key),
            Audience(principal.person.id, _enterprise_of(principal, held), client_id),
        )
    except (ProofError, IssuanceError) as exc:
        return _error(400, exc.code, str(exc))
    response = jsonify(
        credential=base64.urlsafe_b64encode(issued.credential).rstrip(b"=").decode(),
        expires_at=issued.expires,
        identifier=held.certificate.identifier,
        profile=profile.name,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _enterprise_of(principal: Principal, held: Held) -> int | None:
    """The enterprise a business licence is released for, for the audit record."""
    if held.certificate.holder_code_type != "uscc":
        return None
    index = held.certificate.holder_index
    return next((e.id for e in principal.person.enterprises if e.uscc_index == index), None)


@bp.route("/credentials/revoke", methods=["POST"])
@_guard(REVOKE_SCOPE)  # type: ignore[untyped-decorator]
def revoke_certificate() -> Response:
    token: Token = current_token
    body = json_object()
    if token.person_id is not None:
        return _error(403, "insufficient_scope", "revocation is for operator clients")
    if not isinstance(body.get("identifier"), str):
        return _error(400, "invalid_request", 'send {"identifier": ..., "reason": ...}')
    reason = str(body.get("reason") or "unspecified")
    if reason not in REASONS:
        return _error(400, "invalid_request", f"reason is one of {', '.join(REASONS)}")
    certificate = find_by_identifier(body["identifier"][:200])
    if certificate is None:
        return _error(404, "not_found", "no certificate with this identifier")
    changed = revoke(certificate, reason, Revoker(BY_CLIENT, token.client_id))
    forget_cached()
    response = jsonify(
        identifier=certificate.identifier,
        revoked=True,
        already_revoked=not changed,
        at=int(time.time()),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
