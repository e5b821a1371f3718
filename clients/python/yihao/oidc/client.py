"""The relying party: authorization code flow with PKCE, per this provider's integration guide.

Authlib's ``OAuth2Session`` does the OAuth wire work (authorization URL, token, refresh and
revocation requests, client authentication); this module adds what Authlib leaves to the caller
and what a government service must not forget: the RFC 9207 ``iss`` check, ID token validation
against a rotating key set, and the ``sub`` check on UserInfo.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.client import DEFAULT_HEADERS
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from yihao.oidc.client_auth import ClientAuth, SigningKey, client_auth
from yihao.oidc.discovery import Discovery, ProviderMetadata
from yihao.oidc.errors import (
    AuthorizationError,
    IdTokenError,
    IdTokenReason,
    OidcError,
    TokenError,
    UserInfoError,
)
from yihao.oidc.id_token import Expectations, IdTokenValidator
from yihao.oidc.jwks import JwksCache
from yihao.oidc.logout_token import LogoutRequest, LogoutTokenValidator
from yihao.oidc.rfc9449 import SCHEME as DPOP_SCHEME
from yihao.oidc.rfc9449 import USE_NONCE, DPoPKey
from yihao.oidc.subject import Subject
from yihao.oidc.tokens import Tokens

#: Every HTTP call to the provider gives up after this many seconds unless told otherwise.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class AuthorizationStart:
    """A pending authorization request: keep it for the browser that was sent to ``url``.

    It holds no personal data, so it may live in a signed cookie session; it must not be shared
    between browsers, since ``state`` is what ties the response to this one (RFC 6749 10.12).
    """

    url: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    max_age: int | None
    redirect_uri: str
    scope: str = "openid"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form, e.g. for a Flask session."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthorizationStart:
        max_age = data.get("max_age")
        return cls(
            url=str(data["url"]),
            state=str(data["state"]),
            nonce=str(data["nonce"]),
            code_verifier=str(data["code_verifier"]),
            max_age=int(max_age) if max_age is not None else None,
            redirect_uri=str(data["redirect_uri"]),
            scope=str(data.get("scope", "openid")),
        )


@dataclass(frozen=True)
class Login:
    """A completed sign-in; ``claims`` are the validated ID token claims (personal data)."""

    tokens: Tokens
    claims: dict[str, Any] = field(repr=False)
    subject: Subject


class RelyingParty:
    """One registered client of one issuer; thread-safe, meant to live as long as the process.

    It authenticates as it was registered: ``client_secret`` alone is ``client_secret_basic``
    (the provider's default), ``auth_method="client_secret_post"`` sends the secret in the form,
    and ``private_key`` (see ``yihao.oidc.load_private_key``) is ``private_key_jwt``; without
    either it is a public client. A combination that cannot work raises ``ConfigurationError``.

    A FAPI 2.0 client (``idp client add --profile fapi2``) also passes ``dpop`` (a ``DPoPKey``:
    its tokens are bound to that key, RFC 9449) and ``pushed=True`` (the authorization request
    goes to the provider first, RFC 9126, and the browser carries only its ``request_uri``).
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        redirect_uri: str,
        client_secret: str | None = None,
        scope: str = "openid",
        *,
        session: requests.Session | None = None,
        discovery_ttl: float = 300,
        leeway: int = 60,
        clock: Callable[[], float] = time.time,
        timeout: float = DEFAULT_TIMEOUT,
        auth_method: str | None = None,
        private_key: SigningKey | None = None,
        dpop: DPoPKey | None = None,
        pushed: bool = False,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self._auth: ClientAuth = client_auth(auth_method, client_secret, private_key)
        self._dpop = dpop
        self._pushed = pushed
        self._http = session if session is not None else requests.Session()
        self._ttl = discovery_ttl
        self._leeway = leeway
        self._clock = clock
        self._timeout = timeout
        self._discovery = Discovery(
            issuer, self._http, ttl=discovery_ttl, clock=clock, timeout=timeout
        )
        self._jwks: JwksCache | None = None
        self._jwks_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RelyingParty(issuer={self.issuer!r}, client_id={self.client_id!r})"

    @property
    def auth_method(self) -> str:
        """How this client authenticates at the token and revocation endpoints."""
        return self._auth.method

    @property
    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (cached for ``discovery_ttl`` seconds)."""
        return self._discovery.get()

    def start(
        self,
        *,
        scope: str | None = None,
        prompt: str | None = None,
        max_age: int | None = None,
        login_hint: str | None = None,
        ui_locales: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> AuthorizationStart:
        """A new authorization request with fresh state, nonce and PKCE S256 verifier.

        ``claims`` is OIDC Core 5.5's claims request (e.g. ``{"userinfo": {"verified_claims":
        ...}}`` for registry-verified data, OpenID Connect for Identity Assurance 1.0); it is
        sent as compact JSON, pushed with the rest when the request is pushed (RFC 9126)."""
        scope = scope or self.scope
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)  # RFC 7636 4.1: 43 to 128 characters, 256+ bits
        extra = {
            "nonce": nonce,
            "prompt": prompt,
            "max_age": str(max_age) if max_age is not None else None,  # "0" is meaningful
            "login_hint": login_hint,
            "ui_locales": ui_locales,
            "claims": json.dumps(claims, separators=(",", ":"), ensure_ascii=False)
            if claims
            else None,
        }
        url, _ = self._oauth(scope=scope, code_challenge_method="S256").create_authorization_url(
            self.metadata.authorization_endpoint,
            state=state,
            code_verifier=verifier,
            **{name: value for name, value in extra.items() if value is not None},
        )
        if self._pushed or self.metadata.document.get("require_pushed_authorization_requests"):
            url = self._push(url)
        return AuthorizationStart(
            url=url,
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            max_age=max_age,
            redirect_uri=self.redirect_uri,
            scope=scope,
        )

    def finish(self, callback: str | Mapping[str, str], started: AuthorizationStart) -> Login:
        """Check the authorization response, redeem the code and validate the ID token."""
        params = callback_params(callback)
        metadata = self.metadata
        _check_state(params, started)
        _check_issuer(params, metadata)
        if "error" in params:  # RFC 6749 4.1.2.1
            raise AuthorizationError(params["error"], params.get("error_description"))
        code = params.get("code")
        if not code:
            raise AuthorizationError("missing_code", "the response carries no code")
        tokens = self._redeem(code, started)
        if tokens.id_token is None:  # OIDC Core 3.1.3.3: required when openid was granted
            raise IdTokenError(IdTokenReason.MISSING)
        expect = Expectations(
            nonce=started.nonce, max_age=started.max_age, access_token=tokens.access_token
        )
        claims = self.validate_id_token(tokens.id_token, expect)
        return Login(tokens=tokens, claims=claims, subject=Subject.from_claims(claims))

    def validate_id_token(self, token: str, expect: Expectations | None = None) -> dict[str, Any]:
        """Validate an ID token from this issuer for this client (OIDC Core 3.1.3.7)."""
        return self._id_token_validator().validate(token, expect)

    def validate_logout_token(self, token: str) -> LogoutRequest:
        """Validate a back-channel logout token (Back-Channel Logout 1.0 section 2.6). Refusing
        a replayed ``jti`` is the caller's part: it needs memory shared by its processes."""
        return LogoutTokenValidator(self._id_token_validator()).validate(token)

    def _id_token_validator(self) -> IdTokenValidator:
        metadata = self.metadata
        return IdTokenValidator(
            self.issuer,
            self.client_id,
            self._key_cache(metadata.jwks_uri),
            algorithms=metadata.id_token_algs,
            leeway=self._leeway,
            clock=self._clock,
        )

    def userinfo(self, access_token: str, expected_sub: str | None = None) -> dict[str, Any]:
        """The UserInfo claims (OIDC Core 5.3); the provider records each call as a release."""
        url = self.metadata.require("userinfo_endpoint")
        with _provider_errors("UserInfo"):
            response = self.resource_request("GET", url, access_token)
        if response.status_code != 200:
            raise _bearer_error(response)
        try:
            claims = response.json()
        except ValueError as exc:  # a signed (application/jwt) response is not requested here
            raise UserInfoError("not a JSON object") from exc
        if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
            raise UserInfoError("no sub")
        if expected_sub is not None and claims["sub"] != expected_sub:  # OIDC Core 5.3.4
            raise UserInfoError("sub differs from the ID token's")
        return claims

    def resource_request(
        self, method: str, url: str, access_token: str, **kwargs: Any
    ) -> requests.Response:
        """Call a protected resource with ``access_token``: as a bearer token (RFC 6750 2.1), or
        with a proof of this client's DPoP key (RFC 9449 7.1), retried once with the nonce the
        resource asks for (RFC 9449 9)."""
        if self._dpop is None:
            oauth = self._oauth(token={"access_token": access_token, "token_type": "Bearer"})
            response: requests.Response = oauth.request(method, url, **kwargs)
            return response
        dpop, given = self._dpop, kwargs.pop("headers", {})
        for _attempt in range(2):
            headers = {
                **given,
                "Authorization": f"{DPOP_SCHEME} {access_token}",
                "DPoP": dpop.proof(method, url, access_token),
            }
            response = self._oauth().request(
                method, url, headers=headers, withhold_token=True, **kwargs
            )
            if not _asks_for_nonce(response):
                break
        return response

    def refresh(self, refresh_token: str, *, subject: str | None = None) -> Tokens:
        """New tokens for a refresh token, which is spent (RFC 6749 6; one use at this provider).

        Store the returned refresh token at once, replacing the old: presenting a spent one again
        revokes the whole grant (``TokenError("invalid_grant")`` from then on). ``scope`` of the
        result is the granted scope. A returned ID token is validated, and must name ``subject``
        when given (OIDC Core 12.2).
        """
        metadata = self.metadata
        # No scope is sent: the grant keeps its scope (RFC 6749 6), even if some were dropped.
        response = self._token_request(
            lambda oauth, headers: oauth.refresh_token(
                metadata.token_endpoint, refresh_token=refresh_token, headers=headers
            )
        )
        tokens = Tokens.from_response(response, now=self._clock(), scheme=self._token_type)
        if tokens.id_token is not None:
            expect = Expectations(access_token=tokens.access_token, subject=subject)
            self.validate_id_token(tokens.id_token, expect)
        return tokens

    def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """Revoke a token (RFC 7009); revoking a refresh token ends the whole grant here."""
        url = self.metadata.require("revocation_endpoint")
        with _provider_errors("revocation"):
            response = self._oauth().revoke_token(url, token=token, token_type_hint=token_type_hint)
        if response.status_code != 200:  # RFC 7009 2.2: 200 even for an unknown token
            raise _json_error(response)

    def logout_url(
        self,
        id_token_hint: str,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
    ) -> str:
        """Where to send the browser to end the provider session (RP-Initiated Logout 1.0, 2)."""
        endpoint = self.metadata.require("end_session_endpoint")
        params = {
            "id_token_hint": id_token_hint,
            "client_id": self.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "state": state,
        }
        query = urlencode({name: value for name, value in params.items() if value is not None})
        return endpoint + ("&" if "?" in endpoint else "?") + query

    def _redeem(self, code: str, started: AuthorizationStart) -> Tokens:
        response = self._token_request(
            lambda oauth, headers: oauth.fetch_token(
                self.metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=started.redirect_uri,
                code_verifier=started.code_verifier,  # RFC 7636 4.5
                headers=headers,
            )
        )
        return Tokens.from_response(
            response, now=self._clock(), requested_scope=started.scope, scheme=self._token_type
        )

    @property
    def _token_type(self) -> str:
        # RFC 9449 5: a token bound to the proof's key comes back as token_type DPoP; a Bearer
        # answer to a proof would be a downgrade, refused by ``Tokens.from_response``.
        return DPOP_SCHEME if self._dpop is not None else "Bearer"

    def _token_request(self, call: Callable[[Any, dict[str, str] | None], Any]) -> Any:
        """A token endpoint call, with a DPoP proof when this client has a key: retried once
        when the provider asks for its nonce (RFC 9449 8)."""
        url = self.metadata.token_endpoint
        with _token_errors():
            oauth = self._oauth()
            try:
                return call(oauth, self._proof_headers(url))
            except OAuthError as exc:
                if self._dpop is None or exc.error != USE_NONCE:
                    raise
                return call(oauth, self._proof_headers(url))

    def _proof_headers(self, url: str) -> dict[str, str] | None:
        if self._dpop is None:
            return None  # Authlib's defaults
        return {**DEFAULT_HEADERS, "DPoP": self._dpop.proof("POST", url)}

    def _push(self, url: str) -> str:
        """RFC 9126 2: post the authorization request, authenticated as at the token endpoint;
        the browser then carries only ``client_id`` and the ``request_uri`` (RFC 9126 4)."""
        endpoint = self.metadata.require("pushed_authorization_request_endpoint")
        oauth = self._oauth()
        params = dict(parse_qsl(urlsplit(url).query))
        with _provider_errors("pushed authorization request"):
            response = oauth.post(
                endpoint,
                data=params,
                auth=oauth.client_auth(self._auth.method),
                withhold_token=True,
            )
        request_uri = _pushed_request_uri(response)
        query = urlencode({"client_id": self.client_id, "request_uri": request_uri})
        authorize = self.metadata.authorization_endpoint
        return authorize + ("&" if "?" in authorize else "?") + query

    def _key_cache(self, jwks_uri: str) -> JwksCache:
        with self._jwks_lock:
            if self._jwks is None or self._jwks.uri != jwks_uri:
                self._jwks = JwksCache(
                    jwks_uri, self._http, ttl=self._ttl, clock=self._clock, timeout=self._timeout
                )
            return self._jwks

    def _oauth(self, **kwargs: Any) -> Any:
        """A short-lived Authlib session sharing our connection pool and transport settings."""
        auth = self._auth
        oauth = OAuth2Session(
            self.client_id,
            auth.credential,
            token_endpoint_auth_method=auth.method,
            revocation_endpoint_auth_method=auth.method,
            redirect_uri=self.redirect_uri,
            default_timeout=self._timeout,
            **kwargs,
        )
        if auth.method == "private_key_jwt":
            # OIDC Core 9: aud is the token endpoint, also for revocation (the provider accepts
            # the issuer or the token endpoint). No claims are passed: Authlib would keep the
            # jti it adds to a given dict and send the same one again, which the provider refuses.
            oauth.register_client_auth_method(
                PrivateKeyJWT(
                    self.metadata.token_endpoint, headers=auth.headers, alg=auth.algorithm
                )
            )
        for name in ("adapters", "verify", "cert", "proxies", "trust_env"):
            setattr(oauth, name, getattr(self._http, name))
        if self._dpop is not None:
            oauth.hooks["response"].append(self._dpop.remember_nonce)
        return oauth


def _asks_for_nonce(response: requests.Response) -> bool:
    """RFC 9449 9: a resource's 401 naming ``use_dpop_nonce``, with the nonce to use."""
    challenge = response.headers.get("WWW-Authenticate", "")
    asked = response.status_code == 401 and USE_NONCE in challenge
    return asked and "DPoP-Nonce" in response.headers


def _pushed_request_uri(response: requests.Response) -> str:
    """RFC 9126 2.2: 201 with ``request_uri``; an error is RFC 6749 5.2's JSON."""
    if response.status_code != 201:
        error = _json_error(response)
        raise AuthorizationError(error.error, error.description)
    try:
        request_uri = response.json().get("request_uri")
    except (ValueError, AttributeError) as exc:
        raise AuthorizationError("invalid_response", "the PAR response is not JSON") from exc
    if not isinstance(request_uri, str) or not request_uri:
        raise AuthorizationError("invalid_response", "the PAR response has no request_uri")
    return request_uri


def callback_params(callback: str | Mapping[str, str]) -> dict[str, str]:
    """The authorization response parameters from a callback URL or an already parsed query."""
    if not isinstance(callback, str):
        return {name: str(callback[name]) for name in callback}
    pairs = parse_qsl(urlsplit(callback).query, keep_blank_values=True)
    if len({name for name, _ in pairs}) != len(pairs):  # RFC 6749 3.1: no repeated parameters
        raise AuthorizationError("duplicate_parameter", "a response parameter is repeated")
    return dict(pairs)


def _check_state(params: Mapping[str, str], started: AuthorizationStart) -> None:
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), started.state.encode()):  # RFC 6749 10.12
        raise AuthorizationError("state_mismatch", "the response is not for this request")


def _check_issuer(params: Mapping[str, str], metadata: ProviderMetadata) -> None:
    issuer = params.get("iss")
    if issuer is None:
        if metadata.iss_parameter_supported:  # RFC 9207 2.4: required once advertised
            raise AuthorizationError("missing_issuer", "the response carries no iss")
        return
    if issuer != metadata.issuer:  # RFC 9207 2.4: exact comparison, against mix-up attacks
        raise AuthorizationError("issuer_mismatch", "the response comes from another issuer")


@contextmanager
def _token_errors() -> Iterator[None]:
    """Authlib's and requests' exceptions at the token endpoint, as ``TokenError``."""
    with _provider_errors("token"):
        try:
            yield
        except OAuthError as exc:  # RFC 6749 5.2 error response
            raise TokenError(str(exc.error), exc.description) from exc
        except ValueError as exc:  # a body that is not a JSON object
            raise TokenError("invalid_response", "the token response is not JSON") from exc


@contextmanager
def _provider_errors(endpoint: str) -> Iterator[None]:
    try:
        yield
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise TokenError("server_error", f"the {endpoint} endpoint answered {status}") from exc
    except requests.RequestException as exc:
        raise OidcError(f"could not reach the {endpoint} endpoint") from exc


def _json_error(response: requests.Response) -> TokenError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return TokenError(body["error"], description if isinstance(description, str) else None)
    return TokenError("server_error", f"HTTP {response.status_code}")


def _bearer_error(response: requests.Response) -> TokenError:
    """RFC 6750 3: the error from the body, or else from the WWW-Authenticate challenge."""
    error = _json_error(response)
    if error.error != "server_error":
        return error
    challenge = response.headers.get("WWW-Authenticate", "")
    for part in challenge.removeprefix("Bearer").split(","):
        name, _, value = part.strip().partition("=")
        if name == "error":
            return TokenError(value.strip('"'), f"HTTP {response.status_code}")
    return error
