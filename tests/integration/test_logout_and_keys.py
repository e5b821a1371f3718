"""RP-Initiated Logout 1.0 and signing-key rotation (OIDC Core 10.1, RFC 7517)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.test import TestResponse

from idp.keys.ring import PUBLISH_AHEAD
from idp.services import services
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client
from tests.support.browser import Authorization, Browser, csrf_of, location_params
from tests.support.oidc import id_token_claims, id_token_header, tokens_for

BYE = "https://rp.example/bye"


def logout(browser: Browser, **params: str) -> TestResponse:
    return browser.http.get("/logout?" + urlencode(params))


def silent_result(browser: Browser, rp: RegisteredClient) -> dict[str, str]:
    """What prompt=none returns now: a code while signed in, login_required after logout."""
    response = browser.authorize(
        Authorization(rp.client_id, rp.redirect_uri, extra={"prompt": "none"})
    )
    assert response.status_code == 302
    return location_params(response)


# --- RP-initiated logout ----------------------------------------------------------------------


def test_logout_with_id_token_hint_redirects_with_state(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 2 and 3: redirect to the registered URI, state included.
    id_token = tokens_for(browser, rp, citizen)["id_token"]
    assert "code" in silent_result(browser, rp)
    response = logout(
        browser, id_token_hint=id_token, post_logout_redirect_uri=BYE, state="bye-state"
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(BYE + "?")
    assert location_params(response)["state"] == "bye-state"
    assert silent_result(browser, rp)["error"] == "login_required"


def test_logout_with_id_token_hint_and_client_id(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 2: client_id, when sent, must match the token's aud.
    id_token = tokens_for(browser, rp, citizen)["id_token"]
    response = logout(
        browser, id_token_hint=id_token, client_id=rp.client_id, post_logout_redirect_uri=BYE
    )
    assert response.status_code == 302 and response.headers["Location"] == BYE
    assert silent_result(browser, rp)["error"] == "login_required"


def test_logout_with_a_mismatched_client_id_is_refused(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 2: the OP MUST verify client_id matches aud; 4: no redirect.
    id_token = tokens_for(browser, rp, citizen)["id_token"]
    other = make_client(app)
    response = logout(
        browser, id_token_hint=id_token, client_id=other.client_id, post_logout_redirect_uri=BYE
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert "code" in silent_result(browser, rp)


def test_unregistered_post_logout_redirect_uri_is_not_followed(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 3: no redirection unless the URI exactly matches.
    id_token = tokens_for(browser, rp, citizen)["id_token"]
    for uri in ("https://evil.example/bye", BYE + "/", BYE + "?x=1"):
        response = logout(browser, id_token_hint=id_token, post_logout_redirect_uri=uri)
        assert response.status_code == 200, uri
        assert "Location" not in response.headers
        assert 'href="https://evil.example' not in response.get_data(as_text=True)


def test_forged_id_token_hint_is_refused(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 2: the OP MUST validate it issued the ID token; 4.
    tokens_for(browser, rp, citizen)
    header, payload, _sig = tokens_for(browser, rp, citizen)["id_token"].split(".")
    forged = f"{header}.{payload}.{'A' * 342}"
    response = logout(browser, id_token_hint=forged, post_logout_redirect_uri=BYE)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "code" in silent_result(browser, rp)


def test_logout_without_hint_needs_a_confirmed_csrf_checked_post(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 6: without id_token_hint, ask the End-User first.
    tokens_for(browser, rp, citizen)
    page = logout(browser, client_id=rp.client_id, post_logout_redirect_uri=BYE, state="s")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<form" in html and "Location" not in page.headers
    assert "code" in silent_result(browser, rp)

    forged = browser.http.post("/logout", data={"confirm": "1", "client_id": rp.client_id})
    assert forged.status_code == 400
    assert "code" in silent_result(browser, rp)

    # The form's hidden fields carry the request on; Browser.submit adds only the CSRF token.
    hidden = {"confirm": "1", "client_id": rp.client_id, "post_logout_redirect_uri": BYE}
    assert all(f'name="{k}" value="{v}"' in html for k, v in hidden.items())
    done = browser.submit(page, **hidden, state="s")
    assert done.status_code == 200  # no redirect: nothing proved the request came from the RP
    assert "Location" not in done.headers
    assert silent_result(browser, rp)["error"] == "login_required"


def test_account_sign_out_ends_the_session(
    browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 3.1.2.6: after signing out, prompt=none reports login_required.
    tokens_for(browser, rp, citizen)
    account = browser.get("/account")
    html = account.get_data(as_text=True)
    assert browser.http.post("/account/logout", data={}).status_code == 400  # CSRF
    response = browser.http.post("/account/logout", data={"csrf_token": csrf_of(html)})
    assert response.status_code == 302
    assert silent_result(browser, rp)["error"] == "login_required"


# --- signing keys ------------------------------------------------------------------------------


def jwks_kids(browser: Browser) -> set[str]:
    return {key["kid"] for key in browser.get("/jwks.json").get_json()["keys"]}


def test_key_rotation_keeps_old_tokens_verifiable(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # OIDC Core 10.1.1: a rotated-out key stays in the JWKS while tokens it signed are valid.
    period = app.extensions["yihao"].settings.key_cache_seconds
    # Let a rotation by an earlier test (the admin API's) settle: every key old enough to sign.
    time.sleep(PUBLISH_AHEAD * period + 0.1)
    old_token = tokens_for(browser, rp, citizen)["id_token"]
    old_kid = id_token_header(old_token)["kid"]
    assert old_kid in jwks_kids(browser)

    with app.app_context():
        new_kids = services().keys.rotate()
    assert old_kid not in new_kids

    # Published within one cache period; signing only after PUBLISH_AHEAD periods, so no token
    # names a key that some node's JWKS does not list yet.
    time.sleep(period + 0.1)
    kids = jwks_kids(browser)
    assert old_kid in kids and set(new_kids) <= kids
    assert id_token_header(tokens_for(browser, rp, citizen)["id_token"])["kid"] == old_kid
    time.sleep((PUBLISH_AHEAD - 1) * period + 0.1)
    new_token = tokens_for(browser, rp, citizen)["id_token"]
    assert id_token_header(new_token)["kid"] in new_kids
    assert id_token_header(new_token)["kid"] != old_kid

    keys = KeySet.import_key_set(browser.get("/jwks.json").get_json())
    assert jwt.decode(old_token, keys, algorithms=["RS256", "ES256"]).claims["sub"]
    assert id_token_claims(browser, new_token)["sub"] == id_token_claims(browser, old_token)["sub"]

    # An ID token from before the rotation is still a valid id_token_hint (logout, section 2).
    response = logout(browser, id_token_hint=old_token, post_logout_redirect_uri=BYE)
    assert response.status_code == 302 and response.headers["Location"] == BYE


def test_every_published_key_is_public_and_identified(browser: Browser) -> None:
    # RFC 7517 4.5 (kid), RFC 7518 6: the JWKS holds public parameters only.
    keys = browser.get("/jwks.json").get_json()["keys"]
    assert keys and all(k.get("kid") and k.get("use") == "sig" for k in keys)
    private_members = {"d", "p", "q", "dp", "dq", "qi"}
    assert all(not private_members & set(k) for k in keys)
    assert {k["alg"] for k in keys} >= {"RS256", "ES256"}


# --- an id_token_hint of another session ------------------------------------------------------


def test_a_hint_of_another_person_asks_before_signing_out(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    # RP-Initiated Logout 1.0 section 6: a hint not about this session is no proof of intent.
    someone_else = Browser(app.test_client())
    their_token = tokens_for(someone_else, rp, make_citizen(app, name="李四"))["id_token"]
    tokens_for(browser, rp, citizen)
    page = logout(browser, id_token_hint=their_token, post_logout_redirect_uri=BYE, state="s")
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    assert "code" in silent_result(browser, rp)  # still signed in
    hidden = {"confirm": "1", "id_token_hint": their_token, "post_logout_redirect_uri": BYE}
    assert all(f'name="{k}" value="{v}"' in page.get_data(as_text=True) for k, v in hidden.items())
    done = browser.submit(page, **hidden, state="s")
    assert done.status_code == 302 and done.headers["Location"].startswith(BYE)
    assert silent_result(browser, rp)["error"] == "login_required"
    assert "code" in silent_result(someone_else, rp)  # their session was never at stake


def test_a_hint_of_the_same_person_on_another_device_asks_too(
    app: Flask, browser: Browser, rp: RegisteredClient, citizen: Citizen
) -> None:
    phone = Browser(app.test_client())
    phone_token = tokens_for(phone, rp, citizen)["id_token"]
    own_token = tokens_for(browser, rp, citizen)["id_token"]
    page = logout(browser, id_token_hint=phone_token, post_logout_redirect_uri=BYE)
    assert page.status_code == 200 and "code" in silent_result(browser, rp)
    silent = logout(browser, id_token_hint=own_token, post_logout_redirect_uri=BYE)
    assert silent.status_code == 302  # this session's own token signs out at once
