"""E-certificates end to end inside one process: registry record -> OAuth token with the
``credentials`` scope -> issuance API -> holder presentation -> QR image drawn with ``qrcode`` ->
read back with zxing-cpp -> the SDK's offline verifier, fed only with what the provider publishes.
"""

from __future__ import annotations

import base64
import calendar
import getpass
import io
import json
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey
from yihao import qr
from yihao.holder import Holder
from yihao.trust import TrustAnchors
from yihao.verifier import Result, Verifier
from yihao.wire.errors import Failure
from yihao.wire.identifier import is_valid_identifier
from yihao.wire.trust_list import parse_trust_list

from idp.cli import main
from idp.cli.dev_pki import ensure_pki
from idp.credentials.certificates import find_by_identifier
from idp.credentials.openid4vci import NONCE_TTL_SECONDS, nonce_key
from idp.credentials.registries import parse_row
from idp.keys.pki import ROOT_CERT_FILE, generate_root
from idp.services import services
from idp.store.db import db, utcnow
from idp.store.models import Certificate, Enterprise, Person, Release, SeenValue
from idp.store.purge import PURGE_MARGIN_SECONDS, purge_expired
from idp.store.registry import upsert_record
from idp.store.subjects import enterprise_uscc
from tests.conftest import Citizen, RegisteredClient, make_citizen, make_client, make_enterprise
from tests.support.browser import Browser, csrf_of
from tests.support.identities import new_id_number, new_uscc
from tests.support.oidc import client_auth, tokens_for

ADDRESS = "广东省广州市天河区体育西路1号"


@dataclass
class Holding:
    token: str
    citizen: Citizen
    identifier: str
    issuer: str  # the audience of every key proof


def _register_id_card(app: Flask, citizen: Citizen, valid_until: str = "2040-01-01") -> None:
    cells = {
        "id_number": citizen.number,
        "name": citizen.name,
        "ethnicity": "汉",
        "address": ADDRESS,
        "issuing_authority": "广州市公安局天河分局",
        "valid_from": "2020-01-01",
        "valid_until": valid_until,
    }
    with app.app_context():
        upsert_record(services().cipher, parse_row("resident_id", cells))
        db.session.commit()


@pytest.fixture()
def wallet_rp(app: Flask) -> RegisteredClient:
    with app.app_context():
        ensure_pki(services())  # another test may have moved the issuer to a root of its own
    return make_client(app, scope="openid credentials", allowed_reserved=frozenset({"credentials"}))


def _holding(
    app: Flask,
    browser: Browser,
    rp: RegisteredClient,
    name: str = "欧阳明月",
    number: str | None = None,
) -> Holding:
    citizen = make_citizen(app, name=name, number=number)
    _register_id_card(app, citizen)
    token = tokens_for(browser, rp, citizen, scope="openid credentials")["access_token"]
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200, listing.get_json()
    (card,) = listing.get_json()["certificates"]
    assert card["type"] == "id_card" and "id_card.housing_fund" in card["profiles"]
    return Holding(token, citizen, card["identifier"], app.extensions["yihao"].settings.issuer)


def _nonce(browser: Browser, holding: Holding) -> str:
    response = browser.http.post(
        "/credentials/nonce", headers={"Authorization": f"Bearer {holding.token}"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return str(response.get_json()["c_nonce"])


def _issue(
    browser: Browser, holding: Holding, holder: Holder, profile: str, proof: str | None = None
) -> Any:
    if proof is None:
        proof = holder.proof(_nonce(browser, holding), holding.issuer)
    return browser.http.post(
        "/credentials/issue",
        json={"identifier": holding.identifier, "profile": profile, "proofs": {"jwt": [proof]}},
        headers={"Authorization": f"Bearer {holding.token}"},
    )


def _credential(browser: Browser, holding: Holding, holder: Holder, profile: str) -> bytes:
    response = _issue(browser, holding, holder, profile)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return _decode(response.get_json()["credential"])


def _decode(encoded: str) -> bytes:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


class Counter:
    """A counter's verifier, loaded only from the provider's public endpoints."""

    def __init__(self, app: Flask, browser: Browser, clock: list[float]) -> None:
        root_pem = (app.extensions["yihao"].settings.certs_dir / ROOT_CERT_FILE).read_bytes()
        self.verifier = Verifier(TrustAnchors.from_pem(root_pem), clock=lambda: clock[0])
        self.browser = browser

    def refresh(self) -> None:
        signed = self.browser.get("/credentials/trust").data
        self.verifier.load_trust_list(signed)
        for uri in parse_trust_list(signed).document["status_lists"]:
            response = self.browser.get(uri.removeprefix("http://localhost"))
            assert response.mimetype == "application/statuslist+cwt"
            self.verifier.load_status_list(response.data)

    def verify(self, text: str) -> Result:
        return self.verifier.verify(text)


@pytest.fixture()
def clock() -> list[float]:
    return [time.time()]


@pytest.fixture()
def counter(app: Flask, browser: Browser, clock: list[float]) -> Counter:
    return Counter(app, browser, clock)


def test_round_trip_through_a_qr_image(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    counter.refresh()
    png = io.BytesIO()
    qr.render(holder.present(credential)).save(png, format="PNG")
    result = counter.verifier.verify_image(png.getvalue())
    assert result.valid, result.details
    assert result.fields == {"name": "欧阳明月", "id_number": holding.citizen.number}
    assert result.identifier == holding.identifier
    assert result.profile_name == "id_card.housing_fund"


def test_the_housing_fund_code_fits_version_12_at_level_m(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp, name="欧阳明月")
    holder = Holder()
    text = holder.present(_credential(browser, holding, holder, "id_card.housing_fund"))
    assert qr.version_of(text) <= 12


@pytest.mark.parametrize("age", [30, 10])
def test_age_check_reveals_only_the_answer(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter, age: int
) -> None:
    born = date.today().replace(year=date.today().year - age, day=1)
    holding = _holding(app, browser, wallet_rp, number=new_id_number(born))
    holder = Holder()
    response = _issue(browser, holding, holder, "id_card.age_check")
    credential = _decode(response.get_json()["credential"])
    counter.refresh()
    result = counter.verify(holder.present(credential))
    assert result.valid, result.details
    assert result.fields == {"over_18": age >= 18}
    if age < 18:  # "not yet 18" stops being true on the 18th birthday
        adult_on = born.replace(year=born.year + 18)
        assert response.get_json()["expires_at"] <= calendar.timegm(adult_on.timetuple())


def _tampered(credential: bytes) -> bytes:
    """Another name of the same length: well-formed, so only the issuer signature can tell."""
    original, forged = "欧阳明月".encode(), "欧阳明日".encode()
    assert credential.count(original) == 1
    return credential.replace(original, forged)


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ("tampered", Failure.ISSUER_SIGNATURE),
        ("expired", Failure.EXPIRED),
        ("stale", Failure.STALE),
        ("other_holder", Failure.HOLDER_SIGNATURE),
    ],
)
def test_each_bad_presentation_fails_for_its_own_reason(
    app: Flask,
    browser: Browser,
    wallet_rp: RegisteredClient,
    counter: Counter,
    clock: list[float],
    case: str,
    failure: Failure,
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    counter.refresh()
    now = clock[0]
    text = {
        "tampered": lambda: holder.present(_tampered(credential), now),
        "expired": lambda: holder.present(credential, now + 8 * 86400),
        "stale": lambda: holder.present(credential, now - 120),
        "other_holder": lambda: Holder().present(credential, now),
    }[case]()
    if case == "expired":
        clock[0] = now + 8 * 86400
    result = counter.verify(text)
    assert not result.valid
    assert failure in result.failures


def test_a_replayed_code_fails_the_second_time(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    counter.refresh()
    text = holder.present(credential)
    assert counter.verify(text).valid
    assert counter.verify(text).failures == (Failure.REPLAY,)


def test_a_foreign_issuer_is_not_trusted(
    app: Flask,
    browser: Browser,
    wallet_rp: RegisteredClient,
    counter: Counter,
    clock: list[float],
) -> None:
    """A credential from a provider whose issuer chains to another root never verifies here."""
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    svc = app.extensions["yihao"]
    with app.app_context():
        other_root = generate_root("Another province")
        svc.issuer.rotate(*other_root, **_profile(svc))
        try:
            foreign = _credential(browser, holding, holder, "id_card.housing_fund")
        finally:
            ensure_pki(svc)
    counter.refresh()
    assert counter.verify(holder.present(credential)).valid
    result = counter.verify(holder.present(foreign))
    assert set(result.failures) & {Failure.UNKNOWN_KEY, Failure.CHAIN}


def _profile(svc: Any) -> dict[str, Any]:
    settings = svc.settings
    return {
        "name": settings.issuer_name,
        "issuer_code": settings.issuer_code,
        "issuer_url": settings.issuer,
        "valid_days": 30,
    }


def _admin_token(browser: Browser, app: Flask) -> str:
    admin = make_client(app, scope="credentials.revoke", grant_types=["client_credentials"])
    response = browser.http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "credentials.revoke"},
        auth=client_auth(admin),
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def test_revocation_through_the_admin_api_reaches_the_counter(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    counter.refresh()
    assert counter.verify(holder.present(credential, time.time() - 30)).valid
    token = _admin_token(browser, app)
    response = browser.http.post(
        "/credentials/revoke",
        json={"identifier": holding.identifier, "reason": "data_error"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["already_revoked"] is False
    counter.refresh()
    result = counter.verify(holder.present(credential))
    assert result.failures == (Failure.REVOKED,)
    refused = _issue(browser, holding, holder, "id_card.housing_fund")
    assert refused.status_code == 400


def test_revocation_through_the_cli(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    env = _cli_env(app)
    runner = CliRunner()
    shown = runner.invoke(main, ["credentials", "show", holding.identifier, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert holding.citizen.number not in shown.output
    revoked = runner.invoke(main, ["credentials", "revoke", holding.identifier], env=env)
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(main, ["credentials", "revoke", holding.identifier, "--json"], env=env)
    assert '"already_revoked": true' in again.output
    record = json.loads(
        runner.invoke(main, ["credentials", "show", holding.identifier, "--json"], env=env).output
    )
    assert (record["revoked_by"], record["revoked_by_id"]) == ("operator", getpass.getuser())
    assert record["revoke_reason"] == "unspecified" and record["revoked_at"]
    bad = runner.invoke(main, ["credentials", "revoke", holding.identifier[:-1] + "0"], env=env)
    assert bad.exit_code == 2
    time.sleep(1.1)  # the provider re-signs its lists after IDP_KEY_CACHE_SECONDS (1 s in tests)
    counter.refresh()
    assert Failure.REVOKED in counter.verify(holder.present(credential)).failures


def _cli_env(app: Flask) -> dict[str, str]:
    settings = app.extensions["yihao"].settings
    return {
        "IDP_ENV": "testing",
        "IDP_DATABASE_URL": settings.database_url,
        "IDP_ISSUER": settings.issuer,
        "IDP_INSTANCE_DIR": str(settings.instance_dir),
        "IDP_SECRET_KEY": settings.secret_key,
        "IDP_DATA_KEY": base64.urlsafe_b64encode(settings.data_key).decode(),
        "IDP_INDEX_KEY": base64.urlsafe_b64encode(settings.index_key).decode(),
        "IDP_CERTS_DIR": str(settings.certs_dir),
    }


def test_changed_registry_data_supersedes_the_certificate(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    _register_id_card(app, holding.citizen, valid_until="2041-06-30")
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {holding.token}"})
    (card,) = listing.get_json()["certificates"]
    assert card["identifier"] != holding.identifier
    assert card["identifier"].split(".")[-2] == "002"
    assert card["valid_until"] == "2041-06-30"
    with app.app_context():
        old = Certificate.query.filter_by(identifier=holding.identifier).one()
        assert (old.revoke_reason, old.revoked_by, old.revoked_by_id) == (
            "superseded",
            "system",
            None,
        )


def test_a_legal_representative_holds_the_business_licence(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)  # an ID card of their own
    enterprise_id = make_enterprise(app, holding.citizen, name="广州一号科技有限公司")
    with app.app_context():
        svc = services()
        enterprise = db.session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        uscc = enterprise_uscc(svc.cipher, enterprise)
        row = parse_row(
            "business",
            {
                "uscc": uscc,
                "enterprise_name": "广州一号科技有限公司",
                "enterprise_type": "有限责任公司",
                "legal_representative": holding.citizen.name,
                "registered_capital": "5000000",
                "established": "2019-09-09",
                "address": ADDRESS,
                "business_status": "存续",
            },
        )
        upsert_record(svc.cipher, row)
        db.session.commit()
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {holding.token}"})
    cards = {c["type"]: c for c in listing.get_json()["certificates"]}
    assert set(cards) == {"id_card", "business_licence"}
    assert uscc not in listing.get_data(as_text=True)
    licence = Holding(
        holding.token, holding.citizen, cards["business_licence"]["identifier"], holding.issuer
    )
    holder = Holder()
    credential = _credential(browser, licence, holder, "business_licence.financing")
    counter.refresh()
    result = counter.verify(holder.present(credential))
    assert result.valid, result.details
    assert result.fields["uscc"] == uscc
    assert result.fields["registered_capital"] == 5_000_000
    with app.app_context():
        release = Release.query.filter_by(
            person_id=holding.citizen.person_id, enterprise_id=enterprise_id
        ).one()
        assert release.channel == "credential"


def test_a_month_of_social_insurance_is_a_certificate_a_counter_verifies(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    # Wire type 5 (docs/formats.md): one month's record, issued and verified like the others.
    holding = _holding(app, browser, wallet_rp)
    employer = new_uscc()
    with app.app_context():
        svc = services()
        row = parse_row(
            "social_insurance",
            {
                "id_number": holding.citizen.number,
                "name": holding.citizen.name,
                "period": "2026-10",
                "employer_uscc": employer,
                "insurance_types": "养老保险;医疗保险",
                "contribution_base": "6500",
                "contribution_amount": "1358.5",
            },
        )
        upsert_record(svc.cipher, row)
        db.session.commit()
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {holding.token}"})
    cards = {c["type"]: c for c in listing.get_json()["certificates"]}
    assert set(cards) == {"id_card", "social_insurance"}
    month = Holding(
        holding.token, holding.citizen, cards["social_insurance"]["identifier"], holding.issuer
    )
    holder = Holder()
    credential = _credential(browser, month, holder, "social_insurance.full")
    counter.refresh()
    result = counter.verify(holder.present(credential))
    assert result.valid, result.details
    assert result.fields["period"] == "2026-10" and result.fields["employer_uscc"] == employer
    assert result.fields["insurance_types"] == ["养老保险", "医疗保险"]
    assert result.fields["contribution_amount"] == "1358.5"


def test_issuance_is_recorded_as_a_release(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    _credential(browser, holding, Holder(), "id_card.housing_fund")
    with app.app_context():
        release = Release.query.filter_by(
            person_id=holding.citizen.person_id, channel="credential"
        ).one()
        assert release.client_id == wallet_rp.client_id
        assert release.claims == "id_number name"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"profile": "id_card.housing_fund"}, 404, "not_found"),
        ({"profile": "no_such.profile"}, 400, "invalid_request"),
        ({"profile": "household.enrolment"}, 400, "invalid_request"),
        (
            {"profile": "id_card.full", "proofs": None, "holder_key": {"kty": "EC"}},
            400,
            "invalid_proof",
        ),
        ({"profile": "id_card.full", "proofs": {"jwt": []}}, 400, "invalid_proof"),
        ({"profile": "id_card.full", "proofs": {"jwt": ["a.b.c", "d.e.f"]}}, 400, "invalid_proof"),
        ({"profile": "id_card.full", "proofs": {"jwt": ["not a jws"]}}, 400, "invalid_proof"),
        ({"profile": "id_card.full", "proofs": {"jwt": [7]}}, 400, "invalid_proof"),
    ],
)
def test_bad_issuance_requests_get_clear_errors(
    app: Flask,
    browser: Browser,
    wallet_rp: RegisteredClient,
    body: dict[str, Any],
    status: int,
    error: str,
) -> None:
    holding = _holding(app, browser, wallet_rp)
    proof = Holder().proof(_nonce(browser, holding), holding.issuer)
    payload = {"identifier": holding.identifier, "proofs": {"jwt": [proof]}, **body}
    if status == 404:
        payload["identifier"] = holding.identifier[:-1] + "Z"
    response = browser.http.post(
        "/credentials/issue", json=payload, headers={"Authorization": f"Bearer {holding.token}"}
    )
    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert holding.citizen.number not in response.get_data(as_text=True)


def _forged_proof(nonce: str, audience: str, case: str) -> tuple[Holder, str]:
    """A holder and its proof, wrong in exactly one way, signed with joserfc like a wallet's."""
    key = ec.generate_private_key(ec.SECP256R1())
    holder = Holder(key)
    header: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": "ES256"}
    header["jwk"] = holder.public_jwk()
    claims: dict[str, Any] = {"aud": audience, "iat": int(time.time()), "nonce": nonce}
    signer = ECKey.import_key(key)
    if case == "another_key":  # names the holder's key, signed by someone else's
        signer = ECKey.generate_key("P-256")
    elif case == "wrong_aud":
        claims["aud"] = "https://id.another-province.gov.cn"
    elif case == "stale_iat":
        claims["iat"] -= 600
    elif case == "future_iat":
        claims["iat"] += 600
    elif case == "wrong_typ":
        header["typ"] = "JWT"
    elif case == "private_jwk":
        header["jwk"] = signer.as_dict(private=True)
    elif case == "no_nonce":
        del claims["nonce"]
    elif case == "wrong_iss":
        claims["iss"] = "another-app"
    return holder, jwt.encode(header, claims, signer, algorithms=["ES256"])


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("another_key", "invalid_proof"),
        ("wrong_aud", "invalid_proof"),
        ("stale_iat", "invalid_proof"),
        ("future_iat", "invalid_proof"),
        ("wrong_typ", "invalid_proof"),
        ("private_jwk", "invalid_proof"),
        ("wrong_iss", "invalid_proof"),
        ("no_nonce", "invalid_nonce"),
    ],
)
def test_a_bad_proof_issues_nothing(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, case: str, error: str
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder, proof = _forged_proof(_nonce(browser, holding), holding.issuer, case)
    refused = _issue(browser, holding, holder, "id_card.housing_fund", proof)
    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["error"] == error
    assert "credential" not in refused.get_json()
    assert _releases(app, holding) == 0


def _releases(app: Flask, holding: Holding) -> int:
    with app.app_context():
        return Release.query.filter_by(
            person_id=holding.citizen.person_id, channel="credential"
        ).count()


def test_a_nonce_is_spent_once(app: Flask, browser: Browser, wallet_rp: RegisteredClient) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    proof = holder.proof(_nonce(browser, holding), holding.issuer)
    assert _issue(browser, holding, holder, "id_card.housing_fund", proof).status_code == 200
    again = _issue(browser, holding, holder, "id_card.housing_fund", proof)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_nonce"
    # A proof over a fresh nonce by the same key is fine: one nonce per request, not per key.
    assert _issue(browser, holding, holder, "id_card.age_check").status_code == 200
    assert _releases(app, holding) == 2


def test_an_unknown_or_expired_nonce_is_refused(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    made_up = holder.proof("a-nonce-the-provider-never-gave", holding.issuer)
    assert _issue(browser, holding, holder, "id_card.full", made_up).get_json()["error"] == (
        "invalid_nonce"
    )
    nonce = _nonce(browser, holding)
    with app.app_context():  # the nonce outlives NONCE_TTL_SECONDS
        row = db.session.get(SeenValue, nonce_key(nonce))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    expired = _issue(browser, holding, holder, "id_card.full", holder.proof(nonce, holding.issuer))
    assert expired.status_code == 400
    assert expired.get_json()["error"] == "invalid_nonce"
    # `idp db purge` removes spent-by-time nonces like other one-time values
    with app.app_context():
        purge_expired(
            app.extensions["yihao"].settings.session_ttl,
            now=time.time() + NONCE_TTL_SECONDS + PURGE_MARGIN_SECONDS + 1,
            history_days=app.extensions["yihao"].settings.sign_in_history_days,
        )
        assert db.session.get(SeenValue, nonce_key(nonce)) is None


def test_the_credential_is_bound_to_the_key_that_proved_itself(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient, counter: Counter
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    counter.refresh()
    assert Failure.HOLDER_SIGNATURE in counter.verify(Holder().present(credential)).failures
    assert counter.verify(holder.present(credential)).valid


def test_a_nonce_needs_the_credentials_scope(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    other = make_client(app, scope="openid profile")
    token = tokens_for(browser, other, holding.citizen, scope="openid profile")["access_token"]
    assert browser.http.post("/credentials/nonce").status_code == 401
    denied = browser.http.post("/credentials/nonce", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403


def test_the_api_needs_the_right_token(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    assert browser.get("/credentials").status_code == 401
    holding = _holding(app, browser, wallet_rp)
    other = make_client(app, scope="openid profile")
    token = tokens_for(browser, other, holding.citizen, scope="openid profile")["access_token"]
    denied = browser.get("/credentials", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    person_revokes = browser.http.post(
        "/credentials/revoke",
        json={"identifier": holding.identifier},
        headers={"Authorization": f"Bearer {holding.token}"},
    )
    assert person_revokes.status_code == 403
    assert browser.http.post("/credentials/issue", data="x").status_code == 401


def test_status_lists_and_trust_list_are_public_and_cacheable(browser: Browser) -> None:
    document = browser.get("/credentials/trust")
    assert document.status_code == 200
    assert document.headers["Cache-Control"].startswith("public")
    assert document.mimetype == "application/cose"
    body = parse_trust_list(document.data).document
    assert body["issuer_certificates"] and body["profiles"]["1"]["fields"] == ["name", "id_number"]
    assert browser.get("/sl/999999").status_code == 404
    assert browser.get("/sl/99999999999").status_code == 404


def test_certificates_carry_valid_gbt_36904_identifiers(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    assert is_valid_identifier(holding.identifier)
    parts = holding.identifier.split(".")
    assert parts[5] == "11100000000013338W011"
    assert parts[6] == app.extensions["yihao"].settings.issuer_code


def _revoke_from(browser: Browser, page_path: str, identifier: str, **confirm: str) -> Any:
    """What a citizen does on the account or wallet page: Revoke, then confirm on the next page."""
    page = browser.get(page_path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="{identifier}"' in html
    back = "wallet" if page_path == "/wallet" else "account"
    first = browser.http.post(
        "/account/certificates/revoke",
        data={"csrf_token": csrf_of(html), "identifier": identifier, "back": back},
    )
    if first.status_code != 200:
        return first
    assert "/account/certificates/revoke" in first.get_data(as_text=True)
    return browser.http.post(
        "/account/certificates/revoke",
        data={
            "csrf_token": csrf_of(first.get_data(as_text=True)),
            "identifier": identifier,
            "back": back,
            "confirm": "yes",
            **confirm,
        },
    )


@pytest.mark.parametrize("page_path", ["/account", "/wallet"])
def test_a_holder_revokes_their_own_certificate(
    app: Flask,
    browser: Browser,
    wallet_rp: RegisteredClient,
    counter: Counter,
    page_path: str,
) -> None:
    holding = _holding(app, browser, wallet_rp)
    holder = Holder()
    credential = _credential(browser, holding, holder, "id_card.housing_fund")
    if page_path == "/wallet":  # the wallet is a client of its own: consent, then its page
        consent = browser.follow(browser.get("/wallet"))
        assert 'name="decision"' in consent.get_data(as_text=True)
        assert browser.follow(browser.submit(consent, decision="allow")).status_code == 200
    unconfirmed = _revoke_from(browser, page_path, holding.identifier)
    with app.app_context():  # the confirmation page alone revokes nothing
        assert find_by_identifier(holding.identifier).revoked_at is None  # type: ignore[union-attr]
    done = _revoke_from(browser, page_path, holding.identifier, reason="key_compromise")
    assert unconfirmed.status_code == 200
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{page_path}?revoked=1")
    with app.app_context():
        certificate = find_by_identifier(holding.identifier)
        assert certificate is not None and certificate.revoked_at is not None
        assert (certificate.revoked_by, certificate.revoke_reason) == ("holder", "key_compromise")
        person = db.session.get(Person, holding.citizen.person_id)
        assert person is not None and certificate.revoked_by_id == person.public_id
    counter.refresh()
    assert counter.verify(holder.present(credential)).failures == (Failure.REVOKED,)
    shown = CliRunner().invoke(
        main, ["credentials", "show", holding.identifier, "--json"], env=_cli_env(app)
    )
    record = json.loads(shown.output)
    assert record["revoked_by"] == "holder" and record["revoke_reason"] == "key_compromise"
    assert record["revoked_at"]
    # The new phone gets a fresh certificate of the same record version, under a new serial.
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {holding.token}"})
    (card,) = listing.get_json()["certificates"]
    assert card["identifier"] != holding.identifier
    assert card["identifier"].split(".")[-2] == holding.identifier.split(".")[-2]
    renewed = Holding(holding.token, holding.citizen, card["identifier"], holding.issuer)
    new_phone = Holder()
    fresh = _credential(browser, renewed, new_phone, "id_card.housing_fund")
    counter.refresh()
    assert counter.verify(new_phone.present(fresh)).valid
    # The page shows the revocation: by whom and when.
    again = browser.get("/account").get_data(as_text=True)
    assert "由您本人于" in again  # "revoked by you on <date>", in the default zh-CN


def test_a_person_cannot_revoke_another_persons_certificate(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    victim = _holding(app, browser, wallet_rp, name="王秀英")
    other_browser = Browser(app.test_client())
    _holding(app, other_browser, wallet_rp, name="李四")
    page = other_browser.get("/account").get_data(as_text=True)
    assert victim.identifier not in page
    for confirm in ({}, {"confirm": "yes", "reason": "key_compromise"}):
        refused = other_browser.http.post(
            "/account/certificates/revoke",
            data={"csrf_token": csrf_of(page), "identifier": victim.identifier, **confirm},
        )
        assert refused.status_code == 404
    with app.app_context():
        certificate = find_by_identifier(victim.identifier)
        assert certificate is not None and certificate.revoked_at is None


def test_revoking_needs_a_signed_in_person_and_the_form_token(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    forged = browser.http.post(
        "/account/certificates/revoke",
        data={"identifier": holding.identifier, "confirm": "yes", "reason": "key_compromise"},
    )
    assert forged.status_code == 400  # no CSRF token
    stranger = Browser(app.test_client())
    signed_out = stranger.http.post(
        "/account/certificates/revoke",
        data={"identifier": holding.identifier, "confirm": "yes", "reason": "key_compromise"},
    )
    assert signed_out.status_code in (302, 400)
    with app.app_context():
        certificate = find_by_identifier(holding.identifier)
        assert certificate is not None and certificate.revoked_at is None


def test_the_revoke_api_records_the_client(
    app: Flask, browser: Browser, wallet_rp: RegisteredClient
) -> None:
    holding = _holding(app, browser, wallet_rp)
    admin = make_client(app, scope="credentials.revoke", grant_types=["client_credentials"])
    response = browser.http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "credentials.revoke"},
        auth=client_auth(admin),
    )
    token = response.get_json()["access_token"]
    revoked = browser.http.post(
        "/credentials/revoke",
        json={"identifier": holding.identifier, "reason": "withdrawn"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert revoked.status_code == 200
    with app.app_context():
        certificate = find_by_identifier(holding.identifier)
        assert certificate is not None
        assert (certificate.revoked_by, certificate.revoked_by_id) == ("client", admin.client_id)
        assert certificate.revoke_reason == "withdrawn"
    # An operator's or a client's revocation stands: no fresh certificate replaces it.
    listing = browser.get("/credentials", headers={"Authorization": f"Bearer {holding.token}"})
    assert [c["identifier"] for c in listing.get_json()["certificates"]] == [holding.identifier]
