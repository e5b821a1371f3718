"""Token signing keys and issuer keys (``idp.admin.keys``)."""

from __future__ import annotations

from typing import Any

from idp.admin import keys
from idp.admin.roles import Operator
from idp.web.admin_api.operations import operation
from idp.web.admin_api.schemas import NULLABLE_TIME, TIME, closed

_KID_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_SIGNING_KEY = closed(
    {
        "kid": {"type": "string"},
        "alg": {"type": "string", "enum": ["RS256", "ES256"]},
        "state": {"type": "string", "enum": ["active", "retired", "withdrawn"]},
        "created_at": TIME,
        "retired_at": NULLABLE_TIME,
        "withdrawn_at": NULLABLE_TIME,
    },
    "kid",
    "alg",
    "state",
    "created_at",
    "retired_at",
    "withdrawn_at",
)
_ISSUER_KEY = closed(
    {
        "kid": {"type": "string"},
        "purpose": {"type": "string", "enum": ["issuer", "trust_list"]},
        "alg": {"type": "string", "enum": ["ES256"]},
        "state": {"type": "string", "enum": ["active", "retired"]},
        "created_at": TIME,
        "retired_at": NULLABLE_TIME,
        "not_after": TIME,
    },
    "kid",
    "purpose",
    "alg",
    "state",
    "created_at",
    "retired_at",
    "not_after",
)


@operation(
    "GET",
    "/keys",
    calls=keys.list_keys,
    tag="keys",
    summary="Every token signing key, issuer key and trust-list key, with its state",
    response=closed(
        {
            "signing_keys": {"type": "array", "items": _SIGNING_KEY},
            "issuer_keys": {"type": "array", "items": _ISSUER_KEY},
            "trust_list_keys": {"type": "array", "items": _ISSUER_KEY},
        },
        "signing_keys",
        "issuer_keys",
        "trust_list_keys",
    ),
)
def list_keys(operator: Operator) -> Any:
    return keys.list_keys(operator)


@operation(
    "POST",
    "/keys/signing/rotate",
    calls=keys.rotate_signing_keys,
    tag="keys",
    summary="Retire the active token signing keys; the old stay published until expiry",
    response=closed({"new_keys": _KID_LIST}, "new_keys"),
)
def rotate_signing_keys(operator: Operator) -> Any:
    return keys.rotate_signing_keys(operator)


@operation(
    "POST",
    "/keys/issuer/rotate",
    calls=keys.rotate_issuer_key,
    tag="keys",
    summary="Retire the issuer key and certify a successor with the root on this server",
    response=closed({"issuer_kid": {"type": "string"}}, "issuer_kid"),
)
def rotate_issuer_key(operator: Operator) -> Any:
    return keys.rotate_issuer_key(operator)


@operation(
    "POST",
    "/keys/signing/{kid}/withdraw",
    calls=keys.withdraw_signing_key,
    tag="keys",
    summary="Withdraw a compromised token signing key at once (replaced first if active)",
    response=closed({"key": _SIGNING_KEY, "new_keys": _KID_LIST}, "key", "new_keys"),
)
def withdraw_signing_key(operator: Operator, kid: str) -> Any:
    return keys.withdraw_signing_key(operator, kid)
