"""End to end: the SDK as a bank's platform uses it, with sender-constrained tokens (RFC 9449)
and ``private_key_jwt``, against a real ``idp serve`` on plain HTTP and behind nginx.

What the tokens are worth without the key is checked with plain ``requests``, as an attacker who
copied them would use them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from yihao.oidc import RelyingParty, TokenError, load_private_key_file
from yihao.oidc.rfc9449 import DPoPKey

from tests.e2e.conftest import Provider
from tests.e2e.test_sdk_rp import REDIRECT_URI, Registered, person, register
from tests.support.client_keys import write_client_key

pytestmark = pytest.mark.e2e

SCOPES = "openid profile"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_client_key(tmp_path_factory.mktemp("bank-key"), "bank-1")


@pytest.fixture(scope="module")
def bank(shaped_provider: Provider, key_file: Path) -> Registered:
    return register(
        shaped_provider.env,
        *("--name", "Bank platform", "--scope", SCOPES, "--redirect-uri", REDIRECT_URI),
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *("--auth-method", "private_key_jwt", "--jwks-file", str(key_file.parent / "jwks.json")),
    )


def bank_rp(provider: Provider, bank: Registered, key_file: Path, dpop: DPoPKey) -> RelyingParty:
    return RelyingParty(
        provider.issuer,
        bank.client_id,
        REDIRECT_URI,
        scope=SCOPES,
        session=provider.http(),
        private_key=load_private_key_file(key_file),
        dpop=dpop,
    )


def test_dpop_bound_tokens_work_only_with_their_key(
    shaped_provider: Provider, bank: Registered, key_file: Path
) -> None:
    dpop = DPoPKey()
    rp = bank_rp(shaped_provider, bank, key_file, dpop)
    started = rp.start()
    signed_in = rp.finish(person(shaped_provider).sign_in(started.url), started)
    tokens = signed_in.tokens
    info = rp.userinfo(tokens.access_token, expected_sub=signed_in.subject.sub)
    assert info["sub"] == signed_in.subject.sub

    # RFC 9449 7.1: copied without the key, the token is refused as a bearer token.
    userinfo = rp.metadata.require("userinfo_endpoint")
    copied = requests.get(
        userinfo,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        verify=shaped_provider.verify,
        timeout=10,
    )
    assert copied.status_code == 401 and "DPoP" in copied.headers["WWW-Authenticate"]
    # ... and with a proof of another key (RFC 9449 4.3: jkt must match cnf).
    thief = bank_rp(shaped_provider, bank, key_file, DPoPKey())
    with pytest.raises(TokenError) as stolen:
        thief.userinfo(tokens.access_token)
    assert stolen.value.error == "invalid_token"

    assert tokens.refresh_token is not None
    fresh = rp.refresh(tokens.refresh_token, subject=signed_in.subject.sub)
    assert rp.userinfo(fresh.access_token)["sub"] == signed_in.subject.sub
