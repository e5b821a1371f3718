"""Rules of the authorization endpoint (RFC 6749 3.1 and 4.1, RFC 7636, OIDC Core 3.1.2): what it
refuses, where it sends the refusal, and when it asks the person to sign in or consent again."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client
from tests.support.browser import Authorization, Browser, location_params, pkce_pair
from tests.support.oidc import id_token_claims, login, redeem, tokens_for

ISSUER = "http://localhost"


def authorize_raw(
    browser: Browser, rp: RegisteredClient, drop: tuple[str, ...] = (), **params: str
) -> TestResponse:
    """One GET to /authorize with sensible defaults, ``params`` overriding, ``drop`` removed."""
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile",
        "state": "st-" + secrets.token_hex(4),
        "nonce": secrets.token_hex(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    for name in drop:
        query.pop(name, None)
    return browser.http.get("/authorize?" + urlencode(query))


def error_redirect(response: TestResponse, rp: RegisteredClient) -> dict[str, str]:
    """The error parameters of a redirect back to the client, checking it goes to the client."""
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    params = location_params(response)
    assert "code" not in params
    assert params["iss"] == ISSUER  # RFC 9207 2: error responses carry iss too
    return params


def is_login_page(response: TestResponse) -> bool:
    html = response.get_data(as_text=True)
    return response.status_code == 200 and 'name="password"' in html


def is_consent_page(response: TestResponse) -> bool:
    html = response.get_data(as_text=True)
    return response.status_code == 200 and 'name="decision"' in html and "password" not in html


# --- requests that must never be redirected ----------------------------------------------------


@pytest.mark.parametrize("client_id", ["no-such-client", "a\x00b", "c" * 500])
def test_unknown_client_gets_an_error_page_and_no_redirect(
    browser: Browser, rp: RegisteredClient, client_id: str
) -> None:
    # RFC 6749 4.1.2.1: with an invalid client_id the server MUST NOT redirect.
    response = authorize_raw(browser, rp, client_id=client_id)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


def test_missing_client_id_gets_an_error_page(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 6749 4.1.2.1: a missing client identifier is not redirected either.
    response = authorize_raw(browser, rp, drop=("client_id",))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    "variant",
    [
        lambda uri: uri + "/",  # trailing slash
        lambda uri: uri[:-1],  # prefix of the registered URI
        lambda uri: uri + "/more",  # registered URI as a prefix
        lambda uri: uri + "?next=1",  # extra query
        lambda uri: uri.upper(),  # case
        lambda uri: uri.replace("https://", "http://"),  # scheme downgrade
        lambda uri: "https://evil.example/cb",  # elsewhere entirely
    ],
    ids=["slash", "prefix", "longer", "query", "case", "http", "other-host"],
)
def test_redirect_uri_must_match_exactly(
    browser: Browser, rp: RegisteredClient, variant: object
) -> None:
    # RFC 6749 3.1.2.3 and 4.1.2.1, RFC 9700 2.1: exact match, else an error page, no redirect.
    assert callable(variant)
    response = authorize_raw(browser, rp, redirect_uri=variant(rp.redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_missing_redirect_uri_is_refused_when_several_are_registered(
    app: Flask, browser: Browser
) -> None:
    # RFC 6749 3.1.2.3: without redirect_uri the registered one is used only if it is the only one.
    rp = make_client(
        app,
        redirect_uris=["https://multi.example/a", "https://multi.example/b"],
    )
    response = authorize_raw(browser, rp, drop=("redirect_uri",), scope="profile")
    assert response.status_code == 400 and "Location" not in response.headers


def test_openid_requests_must_name_the_redirect_uri(browser: Browser, rp: RegisteredClient) -> None:
    # OIDC Core 3.1.2.1: redirect_uri is REQUIRED, even with a single registered one ...
    response = authorize_raw(browser, rp, drop=("redirect_uri",))
    assert response.status_code == 400 and "Location" not in response.headers
    # ... while a plain OAuth request may omit it then (RFC 6749 3.1.2.3) and goes on to login.
    oauth_only = authorize_raw(browser, rp, drop=("redirect_uri",), scope="profile")
    assert oauth_only.status_code == 302
    assert oauth_only.headers["Location"].startswith("/interaction/")


# --- errors redirected to the client -----------------------------------------------------------


def test_missing_code_challenge_is_invalid_request(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 7636 4.4.1 and RFC 9700 2.1.1: PKCE is required of every client.
    response = authorize_raw(browser, rp, drop=("code_challenge", "code_challenge_method"))
    params = error_redirect(response, rp)
    assert params["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["plain", None], ids=["plain", "absent"])
def test_only_s256_is_accepted(browser: Browser, rp: RegisteredClient, method: str | None) -> None:
    # RFC 7636 4.3 (absent means plain) and RFC 9700 2.1.1: only S256 is allowed.
    if method is None:
        response = authorize_raw(browser, rp, drop=("code_challenge_method",))
    else:
        response = authorize_raw(browser, rp, code_challenge_method=method)
    assert error_redirect(response, rp)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "code id_token", "banana", "\x1f", "code\n", "码"]
)
def test_unsupported_response_type(
    browser: Browser, rp: RegisteredClient, response_type: str
) -> None:
    # RFC 6749 4.1.2.1: unsupported_response_type, sent to the verified redirect URI.
    response = authorize_raw(browser, rp, response_type=response_type)
    params = error_redirect(response, rp)
    assert params["error"] == "unsupported_response_type"


def test_missing_response_type_is_an_error(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 6749 4.1.1: response_type is REQUIRED.
    response = authorize_raw(browser, rp, drop=("response_type",))
    assert error_redirect(response, rp)["error"] == "unsupported_response_type"


def test_unknown_scope_is_invalid_scope(browser: Browser, rp: RegisteredClient) -> None:
    # RFC 6749 4.1.2.1: invalid_scope for a scope the server does not know.
    response = authorize_raw(browser, rp, scope="openid admin")
    params = error_redirect(response, rp)
    assert params["error"] == "invalid_scope"


def test_state_is_echoed_exactly_on_errors_and_success(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 4.1.2 and 4.1.2.1: state is returned unchanged, success or error.
    odd_state = "a b/c?&=é+%"
    failed = authorize_raw(browser, rp, scope="openid nope", state=odd_state)
    assert error_redirect(failed, rp)["state"] == odd_state
    request = Authorization(rp.client_id, rp.redirect_uri, state=odd_state)
    params = browser.sign_in_and_consent(request, citizen.number, citizen.password)
    assert params["state"] == odd_state and "code" in params


# --- prompt, max_age, id_token_hint ------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(
    browser: Browser, rp: RegisteredClient
) -> None:
    # OIDC Core 3.1.2.6: prompt=none and no session -> login_required.
    params = error_redirect(authorize_raw(browser, rp, prompt="none", state="s1"), rp)
    assert params["error"] == "login_required" and params["state"] == "s1"


def test_prompt_none_without_consent_is_consent_required(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.6: prompt=none with a session but no consent -> consent_required.
    login(browser, rp, citizen)
    other = make_client(app, name="另一个服务 Another service")
    params = error_redirect(authorize_raw(browser, other, prompt="none"), other)
    assert params["error"] == "consent_required"
    # Also for a scope beyond the consent already given to the first client.
    params = error_redirect(
        authorize_raw(browser, rp, prompt="none", scope="openid profile phone"), rp
    )
    assert params["error"] == "consent_required"


def test_prompt_login_asks_again_despite_a_session(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: prompt=login -> the server MUST prompt for reauthentication.
    login(browser, rp, citizen)
    without = browser.follow(authorize_raw(browser, rp))
    assert without.status_code == 302 and "code=" in without.headers["Location"]
    again = browser.follow(authorize_raw(browser, rp, prompt="login"))
    assert is_login_page(again)
    # Signing in completes the request once, without looping back to the login page.
    done = browser.follow(browser.submit(again, username=citizen.number, password=citizen.password))
    assert done.status_code == 302 and "code" in location_params(done)


def test_prompt_login_is_not_satisfied_by_the_session_it_asked_about(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: only a new sign-in (a new sid) answers prompt=login; resuming the
    # request with the old session shows the login page again instead of issuing a code.
    login(browser, rp, citizen)
    asked = authorize_raw(browser, rp, prompt="login").headers["Location"]
    uid = asked.rsplit("/", 1)[-1]
    resumed = browser.follow(browser.get(f"/authorize/resume/{uid}"))
    assert is_login_page(resumed)


def test_prompt_consent_asks_again_despite_remembered_consent(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: prompt=consent -> the server MUST prompt for consent.
    login(browser, rp, citizen)
    assert browser.follow(authorize_raw(browser, rp)).status_code == 302
    page = browser.follow(authorize_raw(browser, rp, prompt="consent"))
    assert is_consent_page(page)


def test_max_age_zero_forces_a_fresh_login_and_newer_auth_time(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: when max_age has elapsed the server MUST reauthenticate; 2: auth_time.
    first = tokens_for(browser, rp, citizen)
    first_auth_time = id_token_claims(browser, first["id_token"])["auth_time"]
    time.sleep(1.1)
    request = Authorization(rp.client_id, rp.redirect_uri, extra={"max_age": "0"})
    page = browser.authorize(request)
    assert is_login_page(page)
    done = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    code = location_params(done)["code"]
    claims = id_token_claims(
        browser, redeem(browser, rp, code, request.verifier).get_json()["id_token"]
    )
    assert claims["auth_time"] > first_auth_time


def test_generous_max_age_does_not_ask_again(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: within max_age the existing session is used.
    login(browser, rp, citizen)
    response = browser.follow(authorize_raw(browser, rp, max_age="3600"))
    assert response.status_code == 302 and "code" in location_params(response)


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", " 5", "１"])
def test_malformed_max_age_is_invalid_request(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, max_age: str
) -> None:
    # OIDC Core 3.1.2.1: max_age is a non-negative integer; RFC 6749 4.1.2.1 invalid_request.
    fresh = error_redirect(authorize_raw(browser, rp, max_age=max_age), rp)
    assert fresh["error"] == "invalid_request"
    login(browser, rp, citizen)
    signed_in = error_redirect(authorize_raw(browser, rp, max_age=max_age), rp)
    assert signed_in["error"] == "invalid_request"


def test_id_token_hint_of_another_person_asks_to_sign_in(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: if the hinted End-User is not the one signed in, re-authenticate.
    other = make_citizen(app, name="李四")
    other_browser = Browser(app.test_client())
    other_token = tokens_for(other_browser, rp, other)["id_token"]
    own_token = tokens_for(browser, rp, citizen)["id_token"]

    same = browser.follow(authorize_raw(browser, rp, id_token_hint=own_token))
    assert same.status_code == 302 and "code" in location_params(same)
    different = browser.follow(authorize_raw(browser, rp, id_token_hint=other_token))
    assert is_login_page(different)
    silent = authorize_raw(browser, rp, id_token_hint=other_token, prompt="none")
    assert error_redirect(silent, rp)["error"] == "login_required"


def test_forged_id_token_hint_is_invalid_request(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: id_token_hint must be an ID token this server issued.
    login(browser, rp, citizen)
    params = error_redirect(authorize_raw(browser, rp, id_token_hint="e30.e30.sig"), rp)
    assert params["error"] == "invalid_request"


# --- the person's decisions and the pages -------------------------------------------------------


def test_denied_consent_is_access_denied_with_state(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RFC 6749 4.1.2.1: access_denied when the resource owner denies, with state.
    request = Authorization(rp.client_id, rp.redirect_uri, state="keep-me")
    page = browser.authorize(request)
    page = browser.follow(browser.submit(page, username=citizen.number, password=citizen.password))
    assert is_consent_page(page)
    params = error_redirect(browser.follow(browser.submit(page, decision="deny")), rp)
    assert params["error"] == "access_denied" and params["state"] == "keep-me"
    # Nothing was remembered: the next request asks again.
    assert is_consent_page(browser.follow(authorize_raw(browser, rp)))


def test_login_hint_prefills_the_username(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1: login_hint MAY be used to prefill the login identifier.
    first = authorize_raw(browser, rp, login_hint=citizen.number)
    # The hint, an identity number, does not travel on in the interaction URL.
    assert citizen.number not in first.headers["Location"]
    page = browser.follow(first)
    assert is_login_page(page)
    assert f'value="{citizen.number}"' in page.get_data(as_text=True)


def test_wrong_password_shows_the_login_page_again(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.3: the server authenticates the End-User before issuing a code.
    page = browser.follow(authorize_raw(browser, rp))
    failed = browser.submit(page, username=citizen.number, password="wrong password")
    assert failed.status_code == 401 and "Location" not in failed.headers
    assert 'name="password"' in failed.get_data(as_text=True)


def test_ui_locales_en_gives_an_english_page(browser: Browser, rp: RegisteredClient) -> None:
    # OIDC Core 3.1.2.1: ui_locales are the End-User's preferred languages for the UI.
    page = browser.follow(authorize_raw(browser, rp, ui_locales="fr en"))
    html = page.get_data(as_text=True)
    assert is_login_page(page)
    assert '<html lang="en">' in html and "Sign in" in html and "登录" not in html


def test_default_page_language_is_chinese(app: Flask, rp: RegisteredClient) -> None:
    # OIDC Core 3.1.2.1: without ui_locales the provider's default (zh-CN) is used.
    page = Browser(app.test_client())
    response = page.follow(authorize_raw(page, rp))
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def test_nonce_replay_is_refused(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.1 and 15.5.2: a nonce already bound to a code is a replay.
    nonce = "n-" + secrets.token_hex(6)
    _request, params = login(browser, rp, citizen, nonce=nonce)
    assert "code" in params
    replay = authorize_raw(browser, rp, nonce=nonce)
    assert error_redirect(replay, rp)["error"] == "invalid_request"
    # A fresh nonce works, and the same nonce at another client is not a replay there.
    fresh = browser.follow(authorize_raw(browser, rp, nonce="fresh-" + nonce))
    assert fresh.status_code == 302 and "code" in location_params(fresh)
    other = make_client(app)
    assert is_consent_page(browser.follow(authorize_raw(browser, other, nonce=nonce)))


@pytest.mark.parametrize("nonce", ["n" * 256, "a\x00b"], ids=["too-long", "nul"])
def test_unstorable_nonce_is_invalid_request(
    browser: Browser, rp: RegisteredClient, citizen: Citizen, nonce: str
) -> None:
    # OIDC Core 3.1.2.1 and RFC 6749 4.1.2.1: a nonce that cannot be bound to a code is refused.
    login(browser, rp, citizen)
    assert error_redirect(authorize_raw(browser, rp, nonce=nonce), rp)["error"] == "invalid_request"
    fine = browser.follow(authorize_raw(browser, rp, nonce="n" * 255))
    assert fine.status_code == 302 and "code" in location_params(fine)
