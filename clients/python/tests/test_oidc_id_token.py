"""``IdTokenValidator``: every check of OIDC Core 3.1.3.7 fails for its own reason.

Tokens are signed here with joserfc keys, and the key set is served over loopback HTTP by the
``server`` fixture (conftest.py), so the key cache's refetch on an unknown ``kid`` is exercised
for real.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OctKey, RSAKey
from sdk_world import Served
from yihao.oidc import (
    Expectations,
    IdTokenError,
    IdTokenReason,
    IdTokenValidator,
    JwksCache,
    LogoutTokenError,
    LogoutTokenValidator,
)
from yihao.oidc.id_token import half_hash

ISSUER = "https://id.example.gov.cn"
CLIENT = "client-1"
NOW = 1_800_000_000
LEEWAY = 60
JWKS_PATH = "/jwks.json"

RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


class Keys:
    """The served key set, and how many times the validator fetched it."""

    def __init__(self, server: Served) -> None:
        self.server = server
        self.fetches = 0
        self.http = requests.Session()
        self.http.hooks["response"].append(self._count)
        self.publish(RSA, EC)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.fetches += 1

    def publish(self, *keys: Key) -> None:
        document = {"keys": [key.as_dict(private=False) for key in keys]}
        self.server.json(JWKS_PATH, document)

    def validator(
        self, algorithms: tuple[str, ...] = ("RS256", "ES256"), now: float = NOW
    ) -> IdTokenValidator:
        cache = JwksCache(
            self.server.url + JWKS_PATH, self.http, ttl=300, clock=lambda: now, timeout=5
        )
        return IdTokenValidator(
            ISSUER, CLIENT, cache, algorithms=algorithms, leeway=LEEWAY, clock=lambda: now
        )


@pytest.fixture
def keys(server: Served) -> Keys:
    return Keys(server)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": [CLIENT],
        "azp": CLIENT,
        "sub": "pairwise-subject",
        "iat": NOW - 10,
        "exp": NOW + 590,
        "auth_time": NOW - 10,
        "nonce": "n-1",
        "entity_type": "person",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def sign(payload: dict[str, Any], key: Key = RSA, alg: str = "RS256", **header: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, payload, key, algorithms=[alg])


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def rejected(check: Callable[[], object]) -> IdTokenReason:
    with pytest.raises(IdTokenError) as caught:
        check()
    assert "pairwise-subject" not in str(caught.value)
    return caught.value.reason


def test_a_valid_token_of_either_algorithm_passes(keys: Keys) -> None:
    validator = keys.validator()
    for key, alg in ((RSA, "RS256"), (EC, "ES256")):
        got = validator.validate(sign(claims(), key, alg), Expectations(nonce="n-1", max_age=60))
        assert got["sub"] == "pairwise-subject"
    assert keys.fetches == 1  # the second token was checked from the cache


def test_none_hs256_and_unlisted_algorithms_are_refused(keys: Keys) -> None:
    body = f"{b64(json.dumps({'alg': 'none'}))}.{b64(json.dumps(claims()))}."
    assert rejected(lambda: keys.validator().validate(body)) is IdTokenReason.ALGORITHM
    secret = OctKey.generate_key(256)
    hs = jwt.encode({"alg": "HS256"}, claims(), secret, algorithms=["HS256"])
    assert rejected(lambda: keys.validator().validate(hs)) is IdTokenReason.ALGORITHM
    es = sign(claims(), EC, "ES256")
    only_rsa = keys.validator(algorithms=("RS256",))
    assert rejected(lambda: only_rsa.validate(es)) is IdTokenReason.ALGORITHM


def test_a_tampered_or_foreign_signature_is_refused(keys: Keys) -> None:
    header, _payload, signature = sign(claims()).split(".")
    other = sign(claims(sub="someone-else")).split(".")[1]
    tampered = f"{header}.{other}.{signature}"
    assert rejected(lambda: keys.validator().validate(tampered)) is IdTokenReason.SIGNATURE
    impostor = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})  # RSA's kid
    forged = sign(claims(), impostor)
    assert rejected(lambda: keys.validator().validate(forged)) is IdTokenReason.SIGNATURE


def test_garbage_is_malformed(keys: Keys) -> None:
    validator = keys.validator()
    for token in ("", "abc", "a.b.c", "ü.ü.ü"):
        with pytest.raises(IdTokenError) as caught:
            validator.validate(token)
        assert caught.value.reason is IdTokenReason.MALFORMED


def test_an_unknown_kid_is_fetched_once_then_refused(keys: Keys) -> None:
    validator = keys.validator()
    validator.validate(sign(claims()))
    assert keys.fetches == 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-unpublished"})
    token = sign(claims(), stranger)
    assert rejected(lambda: validator.validate(token)) is IdTokenReason.UNKNOWN_KEY
    assert keys.fetches == 2


def test_a_rotated_key_is_picked_up_without_a_new_validator(keys: Keys) -> None:
    validator = keys.validator()
    validator.validate(sign(claims()))
    successor = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    keys.publish(RSA, successor, EC)
    assert validator.validate(sign(claims(), successor))["sub"] == "pairwise-subject"
    assert keys.fetches == 2


def test_a_missing_kid_is_accepted_only_when_one_key_fits(keys: Keys) -> None:
    no_kid = jwt.encode({"alg": "RS256"}, claims(), RSA, algorithms=["RS256"])
    assert keys.validator().validate(no_kid)["sub"] == "pairwise-subject"
    keys.publish(RSA, RSAKey.generate_key(2048, parameters={"kid": "rsa-2"}))
    assert rejected(lambda: keys.validator().validate(no_kid)) is IdTokenReason.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": ISSUER + "/"}, IdTokenReason.ISSUER),
        ({"iss": None}, IdTokenReason.ISSUER),
        ({"aud": ["another-client"], "azp": None}, IdTokenReason.AUDIENCE),
        ({"aud": None}, IdTokenReason.AUDIENCE),
        ({"aud": [CLIENT, "another-client"], "azp": None}, IdTokenReason.AUTHORIZED_PARTY),
        ({"azp": "another-client"}, IdTokenReason.AUTHORIZED_PARTY),
        ({"exp": NOW - LEEWAY - 1}, IdTokenReason.EXPIRED),
        ({"exp": None}, IdTokenReason.EXPIRED),
        ({"exp": True}, IdTokenReason.EXPIRED),
        ({"iat": NOW + LEEWAY + 5}, IdTokenReason.ISSUED_AT),
        ({"iat": None}, IdTokenReason.ISSUED_AT),
        ({"sub": None}, IdTokenReason.SUBJECT),
        ({"sub": ""}, IdTokenReason.SUBJECT),
        ({"nonce": "n-2"}, IdTokenReason.NONCE),
        ({"nonce": None}, IdTokenReason.NONCE),
        ({"auth_time": None}, IdTokenReason.AUTH_TIME),
        ({"auth_time": NOW - 3600}, IdTokenReason.AUTH_TIME),
        ({"auth_time": "yesterday"}, IdTokenReason.AUTH_TIME),
    ],
)
def test_each_claim_check_fails_for_its_reason(
    keys: Keys, changes: dict[str, Any], reason: IdTokenReason
) -> None:
    token = sign(claims(**changes))
    expect = Expectations(nonce="n-1", max_age=300)
    assert rejected(lambda: keys.validator().validate(token, expect)) is reason


def test_leeway_and_optional_checks(keys: Keys) -> None:
    validator = keys.validator()
    late = sign(claims(exp=NOW - LEEWAY + 5, aud=CLIENT, azp=None))  # aud may be a string
    assert validator.validate(late)["sub"] == "pairwise-subject"
    several = sign(claims(aud=[CLIENT, "another-client"]))  # azp names us
    assert validator.validate(several)["azp"] == CLIENT
    no_auth_time = sign(claims(auth_time=None))  # auth_time only matters after max_age
    assert validator.validate(no_auth_time, Expectations(nonce="n-1"))["nonce"] == "n-1"


def test_at_hash_binds_the_access_token(keys: Keys) -> None:
    token = sign(claims(at_hash=half_hash("access-1")))
    assert keys.validator().validate(token, Expectations(access_token="access-1"))
    wrong = Expectations(access_token="access-2")
    assert rejected(lambda: keys.validator().validate(token, wrong)) is IdTokenReason.AT_HASH


def test_a_refreshed_token_must_name_the_same_subject(keys: Keys) -> None:
    token = sign(claims())
    assert keys.validator().validate(token, Expectations(subject="pairwise-subject"))
    other = Expectations(subject="someone-else")
    assert rejected(lambda: keys.validator().validate(token, other)) is IdTokenReason.SUBJECT


def test_the_reason_is_a_string_for_callers_that_compare_text(keys: Keys) -> None:
    token = sign(claims(nonce="n-2"))
    with pytest.raises(IdTokenError) as caught:
        keys.validator().validate(token, Expectations(nonce="n-1"))
    assert caught.value.reason == "nonce"
    assert str(caught.value) == "ID token rejected: nonce"
    assert token not in repr(caught.value)


# --- logout tokens (Back-Channel Logout 1.0 section 2.6) ------------------------------------------

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "pairwise-subject",
        "sid": "session-1",
        "iat": NOW - 5,
        "exp": NOW + 115,
        "jti": "jti-1",
        "events": {EVENT: {}},
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def sign_logout(payload: dict[str, Any], key: Key = RSA, **header: Any) -> str:
    return sign(payload, key, **{"typ": "logout+jwt", **header})


def logout_rejected(keys: Keys, token: str) -> str:
    with pytest.raises(LogoutTokenError) as caught:
        LogoutTokenValidator(keys.validator()).validate(token)
    return caught.value.reason


def test_a_valid_logout_token_names_the_session_and_subject(keys: Keys) -> None:
    token = sign_logout(logout_claims())
    ended = LogoutTokenValidator(keys.validator()).validate(token)
    assert (ended.sub, ended.sid, ended.jti) == ("pairwise-subject", "session-1", "jti-1")
    assert ended.expires_at == NOW + 115 + LEEWAY
    only_sid = LogoutTokenValidator(keys.validator()).validate(sign_logout(logout_claims(sub=None)))
    assert only_sid.sub is None and only_sid.sid == "session-1"


@pytest.mark.parametrize(
    ("changes", "header", "reason"),
    [
        ({"iss": "https://evil.example"}, {}, "iss"),
        ({"aud": "another-client"}, {}, "aud"),
        ({"iat": NOW + 3600}, {}, "iat"),
        ({"iat": None}, {}, "iat"),
        ({"exp": NOW - 3600}, {}, "exp"),
        ({"events": None}, {}, "events"),
        ({"events": {"http://schemas.openid.net/event/other": {}}}, {}, "events"),
        ({"events": {EVENT: "yes"}}, {}, "events"),
        ({"sub": None, "sid": None}, {}, "sub_or_sid"),
        ({"nonce": "n-1"}, {}, "nonce"),  # an ID token is not a logout token
        ({"jti": None}, {}, "jti"),
        ({}, {"typ": "at+jwt"}, "typ"),  # an RFC 9068 access token
    ],
)
def test_each_logout_token_rule_refuses_on_its_own(
    keys: Keys, changes: dict[str, Any], header: dict[str, Any], reason: str
) -> None:
    assert logout_rejected(keys, sign_logout(logout_claims(**changes), **header)) == reason


def test_a_logout_token_signed_by_another_key_is_refused(keys: Keys) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    assert logout_rejected(keys, sign_logout(logout_claims(), stranger)) == "signature"
