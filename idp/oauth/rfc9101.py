"""JWT-Secured Authorization Requests (JAR, RFC 9101): the ``request`` parameter, a request object
the client signed with a key it registered, whose parameters replace the query's.

Written by hand. Authlib's ``rfc9101.JWTAuthenticationRequest`` is a hook inside its grant lookup:
it would run after our interaction has been created and could not replace the parameters the
interaction keeps for later pages, and it checks none of ``typ``, ``iss``, ``aud``, ``exp``, ``nbf``
or ``jti`` and accepts HMAC. Only its error classes are used here. The rules are RFC 9101's and
FAPI 2.0 Message Signing 5.3.1's; ``unpack`` serves ``/authorize`` and the pushed authorization
request endpoint alike. Request objects are signed, never encrypted here (no JWE), and never
fetched from a URL: ``request_uri`` is only the reference a pushed request was given.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, TypeGuard

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc9101.errors import InvalidRequestObjectError, RequestUriNotSupportedError
from joserfc import jws
from joserfc.errors import JoseError

from idp.keys.ring import SUPPORTED_ALGS
from idp.oauth import fapi2
from idp.oauth.rfc7523 import registered_keys
from idp.services import services
from idp.store.db import utcnow
from idp.store.models import Client
from idp.store.replay import spend_once

#: The algorithms a client may sign with, the same list as its private_key_jwt assertions:
#: asymmetric only, no ``none`` and no MAC (RFC 9101 10.2, FAPI 2.0 Security Profile 5.4).
ALGORITHMS = SUPPORTED_ALGS
REQUEST_OBJECT_TYPE = "oauth-authz-req+jwt"  # RFC 9101 4
#: FAPI 2.0 Message Signing 5.3.1: ``exp`` at most 60 minutes after ``nbf``, and ``nbf`` at most
#: 60 minutes in the past.
MAX_LIFETIME_SECONDS = 3600
MAX_AGE_SECONDS = 3600
#: How far ahead of our clock a client's ``nbf`` may be, and how long past ``exp`` we accept.
CLOCK_SKEW_SECONDS = 10
#: RFC 9126 2.2: the reference a pushed authorization request gets; left to that endpoint's step.
PUSHED_REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: JWT claims of the request object itself (RFC 7519 4.1), not authorization parameters.
_JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti"})
_MAX_JTI_CHARS = 256


def refuse_external_request_uri(params: dict[str, str]) -> None:
    """OIDC Core 6.2: ``request_uri`` pointing anywhere but a pushed request is not supported
    (fetching a client's URL would let any client make this server call out)."""
    request_uri = params.get("request_uri")
    if request_uri is None or request_uri.startswith(PUSHED_REQUEST_URI_PREFIX):
        return
    raise RequestUriNotSupportedError(
        description="request_uri is supported only as the reference of a pushed request"
    )


def unpack(client: Client, params: dict[str, str]) -> dict[str, str]:
    """The authorization parameters of a request: those of its signed request object when it
    carries ``request`` (RFC 9101 6.3: the query's own are then ignored), else ``params``.

    Raises ``InvalidRequestObjectError`` for a request object that breaks any rule.
    """
    request_object = params.get("request")
    if request_object is None:
        return params
    if "request_uri" in params:  # RFC 9101 5: one or the other
        raise InvalidRequestError("request and request_uri cannot both be sent")
    claims = _verified_claims(client, request_object)
    _check_claims(client, params.get("client_id"), claims)
    return _authorization_parameters(claims)


_BAD_SIGNATURE = "the request object's signature does not verify with the client's keys"


def _invalid(description: str) -> InvalidRequestObjectError:
    return InvalidRequestObjectError(description=description)


def _verified_claims(client: Client, request_object: str) -> dict[str, Any]:
    header = _header(request_object)
    if header.get("alg") not in ALGORITHMS:  # RFC 9101 10.2; FAPI 2.0: no none, no MAC
        raise _invalid("the request object's alg must be one of " + " ".join(ALGORITHMS))
    if not fapi2.allows_alg(client, header.get("alg")):  # FAPI 2.0 SP 5.4.1
        raise _invalid(f"this client's request objects must be signed {fapi2.SIGNING_ALG}")
    if "typ" in header and header["typ"] != REQUEST_OBJECT_TYPE:  # RFC 9101 4
        raise _invalid(f"the request object's typ must be {REQUEST_OBJECT_TYPE}")
    keys = registered_keys(client)
    if keys is None:
        raise _invalid("the client has registered no keys to verify request objects with")
    try:
        signed = jws.deserialize_compact(request_object, keys, algorithms=[str(header["alg"])])
        claims = json.loads(signed.payload)
    except (JoseError, ValueError):
        raise _invalid(_BAD_SIGNATURE) from None
    if not isinstance(claims, dict):
        raise _invalid("the request object's payload is not a JSON object")
    return claims


def _header(request_object: str) -> dict[str, Any]:
    if request_object.count(".") == 4:  # RFC 7516 7.1: five parts is a JWE
        raise _invalid("encrypted request objects (JWE) are not supported: sign it, unencrypted")
    try:
        header = dict(jws.extract_compact(request_object.encode("ascii")).headers())
    except (JoseError, ValueError, UnicodeError):
        raise _invalid("the request parameter is not a signed JWT (compact JWS)") from None
    return header


def _check_claims(client: Client, outer_client_id: str | None, claims: dict[str, Any]) -> None:
    issuer = services().settings.issuer
    if claims.get("iss") != client.client_id:  # RFC 9101 4: iss is the client
        raise _invalid("the request object's iss must be the client_id")
    audience = claims.get("aud")
    if audience != issuer and not (isinstance(audience, list) and issuer in audience):
        raise _invalid("the request object's aud must be the issuer")  # RFC 9101 4
    if claims.get("client_id") != outer_client_id:  # RFC 9101 5 and 6.3
        raise _invalid("the request object's client_id must be the request's client_id")
    if "request" in claims or "request_uri" in claims:  # RFC 9101 4
        raise _invalid("a request object must not contain request or request_uri")
    exp = _check_times(claims)
    _spend_jti(client, claims.get("jti"), exp)


def _check_times(claims: dict[str, Any]) -> float:
    """FAPI 2.0 Message Signing 5.3.1: a short-lived request object; returns its ``exp``."""
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not _is_number(exp) or not _is_number(nbf):
        raise _invalid("the request object must carry exp and nbf")
    now = time.time()
    if exp <= now - CLOCK_SKEW_SECONDS:
        raise _invalid("the request object has expired")
    if exp - nbf > MAX_LIFETIME_SECONDS:
        raise _invalid(f"the request object's exp is more than {MAX_LIFETIME_SECONDS} s after nbf")
    if nbf > now + CLOCK_SKEW_SECONDS:
        raise _invalid("the request object's nbf is in the future")
    if nbf < now - MAX_AGE_SECONDS:
        raise _invalid(f"the request object's nbf is more than {MAX_AGE_SECONDS} s in the past")
    return float(exp)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _spend_jti(client: Client, jti: object, exp: float) -> None:
    """One use per request object, remembered while it could still be accepted (RFC 9101 10.8)."""
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI_CHARS or not _is_text(jti):
        raise _invalid("the request object must carry a jti")
    expires = utcnow() + timedelta(seconds=max(exp - time.time(), 0) + CLOCK_SKEW_SECONDS)
    if not spend_once("jar", f"{client.client_id}\x00{jti}", expires):
        raise _invalid("the request object's jti was already used")


def _authorization_parameters(claims: dict[str, Any]) -> dict[str, str]:
    """The request object's members as the query strings they stand for (RFC 9101 4): JSON
    numbers as digits, objects (``claims``) as compact JSON."""
    params: dict[str, str] = {}
    for name, value in claims.items():
        if name in _JWT_CLAIMS:
            continue
        if not _is_text(name):
            raise _invalid("the request object has a member name that is not text")
        params[name] = _as_parameter(name, value)
    return params


def _as_parameter(name: str, value: object) -> str:
    if isinstance(value, str) and _is_text(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))  # ASCII: any lone surrogate escaped
    raise _invalid(f"the request object's {name[:40]!r} is not a parameter value")


def _is_text(value: str) -> bool:
    """UTF-8 encodable: JSON allows lone surrogates, which no URL or database can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
