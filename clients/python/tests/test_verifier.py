"""The verifier: each check on its own, all of them together, and the caches around them."""

from __future__ import annotations

import base64
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import base45
import cbor2
import pytest
import requests
from PIL import Image
from sdk_world import (
    ISSUER_NAME,
    LIST_SIZE,
    LIST_URL,
    NAME,
    REVOKED_INDEX,
    TTL,
    VALID_INDEX,
    Clock,
    Served,
    World,
)
from stdnum.iso7064 import mod_37_36
from yihao import qr
from yihao import verifier as verifier_module
from yihao.pki import generate_root
from yihao.verifier import Result, Verifier
from yihao.wire.cose import sign1
from yihao.wire.credential import CLAIM_YIHAO, StatusRef, encode_claims
from yihao.wire.errors import Failure, FormatError
from yihao.wire.fields import BY_NAME, CredentialType
from yihao.wire.presentation import STEP_SECONDS


def only(result: Result, failure: Failure) -> None:
    assert result.failures == (failure,), result.details
    assert not result.valid
    assert len(result.details) == 1


def test_valid_presentation(world: World) -> None:
    result = world.verifier().verify(world.text())

    assert result.valid, result.details
    assert result.failures == () and result.details == ()
    assert result.fields == {"name": NAME, "id_number": world.id_number}
    assert result.type is CredentialType.ID_CARD
    assert (result.profile, result.profile_name) == (1, "id_card.housing_fund")
    assert result.issuer == ISSUER_NAME
    assert (result.serial, result.version, result.step) == (42, 1, world.step)
    assert result.expires == world.now + 30 * 86400


def test_identifier_follows_gb_t_36904(world: World) -> None:
    body = world.type_code + world.issuer.code + "0000000042" + "001"
    expected = (
        f"1.2.156.3005.2.{world.type_code}.{world.issuer.code}.0000000042.001."
        + mod_37_36.calc_check_digit(body)
    )

    assert world.verifier().verify(world.text()).identifier == expected
    assert mod_37_36.is_valid(body + expected[-1])


def test_identifier_needs_the_type_code(world: World) -> None:
    verifier = world.verifier()
    trust = world.trust_document(sequence=2)
    trust["types"] = {}
    verifier.load_trust_list(world.sign_trust(trust))

    assert verifier.verify(world.text()).identifier is None


def test_valid_presentation_through_an_image(world: World) -> None:
    png = io.BytesIO()
    qr.render(world.text()).save(png, format="PNG")

    result = world.verifier().verify_image(png.getvalue())

    assert result.valid, result.details
    assert result.fields == {"name": NAME, "id_number": world.id_number}


def test_tampered_payload_fails_the_issuer_signature(world: World) -> None:
    tag = cbor2.loads(world.credential())
    protected, unprotected, payload, signature = tag.value
    changed = payload.replace(NAME.encode(), "李四丰".encode())
    assert changed != payload and len(changed) == len(payload)
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, changed, signature]))

    result = world.verifier().verify(world.text(forged))

    only(result, Failure.ISSUER_SIGNATURE)
    assert result.fields == {}  # decoded, but nobody vouches for it: never handed out


def test_signature_by_another_holder_fails(world: World) -> None:
    credential = world.credential()
    world.holder = type(world.holder)()

    only(world.verifier().verify(world.text(credential)), Failure.HOLDER_SIGNATURE)


@pytest.mark.parametrize("steps", [-3, 3, 40])
def test_time_step_outside_the_window_is_stale(world: World, steps: int) -> None:
    text = world.text(at=world.now + steps * STEP_SECONDS)

    only(world.verifier().verify(text), Failure.STALE)


@pytest.mark.parametrize("steps", [-2, -1, 1, 2])
def test_time_step_inside_the_window_is_accepted(world: World, steps: int) -> None:
    text = world.text(at=world.now + steps * STEP_SECONDS)

    assert world.verifier().verify(text).valid


def test_same_presentation_twice_is_a_replay(world: World) -> None:
    verifier, text = world.verifier(), world.text()

    assert verifier.verify(text).valid
    only(verifier.verify(text), Failure.REPLAY)
    assert verifier.verify(world.text(at=world.now + STEP_SECONDS)).valid


def test_an_invalid_presentation_is_not_recorded(world: World) -> None:
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(world.trust_list())
    text = world.text()

    only(verifier.verify(text), Failure.STATUS_UNKNOWN)
    verifier.load_status_list(world.status_list())
    assert verifier.verify(text).valid


def test_replays_are_forgotten_once_stale(world: World) -> None:
    clock = Clock(world.now)
    verifier, text = world.verifier(clock), world.text()
    assert verifier.verify(text).valid

    clock.now += 3 * STEP_SECONDS
    only(verifier.verify(text), Failure.STALE)
    assert verifier._replays._seen == {}  # pruned, so the cache stays small


def test_concurrent_replays_accept_exactly_one(world: World) -> None:
    verifier, text = world.verifier(), world.text()
    start = threading.Barrier(8)

    def attempt(_: int) -> Result:
        start.wait()
        return verifier.verify(text)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))

    assert sum(r.valid for r in results) == 1
    assert all(r.failures == (Failure.REPLAY,) for r in results if not r.valid)


def test_revoked_bit(world: World) -> None:
    credential = world.credential(status=StatusRef(REVOKED_INDEX, "sl/1"))

    only(world.verifier().verify(world.text(credential)), Failure.REVOKED)


def test_absolute_status_uri(world: World) -> None:
    credential = world.credential(status=StatusRef(REVOKED_INDEX, LIST_URL))

    only(world.verifier().verify(world.text(credential)), Failure.REVOKED)


def test_no_status_list_is_status_unknown(world: World) -> None:
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(world.trust_list())

    only(verifier.verify(world.text()), Failure.STATUS_UNKNOWN)


def test_status_list_at_another_uri_is_status_unknown(world: World) -> None:
    credential = world.credential(status=StatusRef(VALID_INDEX, "sl/2"))

    only(world.verifier().verify(world.text(credential)), Failure.STATUS_UNKNOWN)


def test_status_index_beyond_the_list_is_status_unknown(world: World) -> None:
    credential = world.credential(status=StatusRef(LIST_SIZE + 8, "sl/1"))

    only(world.verifier().verify(world.text(credential)), Failure.STATUS_UNKNOWN)


def test_status_list_older_than_its_ttl(world: World) -> None:
    clock = Clock(world.now)
    verifier = world.verifier(clock)

    clock.now = world.now + TTL
    assert verifier.verify(world.text(at=clock.now)).valid
    clock.now = world.now + TTL + 1
    only(verifier.verify(world.text(at=clock.now)), Failure.STATUS_UNKNOWN)


def test_status_list_past_its_exp(world: World) -> None:
    clock = Clock(world.now)
    verifier = world.verifier(clock)
    newer = world.status_list(ttl=None, expires=world.now + 100, issued_at=world.now + 1)
    verifier.load_status_list(newer)

    clock.now = world.now + 100
    assert verifier.verify(world.text(at=clock.now)).valid
    clock.now = world.now + 101
    only(verifier.verify(world.text(at=clock.now)), Failure.STATUS_UNKNOWN)


def test_status_list_signed_by_a_stranger_is_refused(world: World) -> None:
    verifier = world.verifier()

    with pytest.raises(FormatError) as caught:
        verifier.load_status_list(world.status_list(world.new_issuer(), revoked=[VALID_INDEX]))

    assert caught.value.failure is Failure.STATUS_UNKNOWN
    assert verifier.verify(world.text()).valid


def test_garbage_status_list_is_refused(world: World) -> None:
    with pytest.raises(FormatError) as caught:
        world.verifier().load_status_list(b"\x00not a token")

    assert caught.value.failure is Failure.STATUS_UNKNOWN


def test_an_older_status_list_does_not_replace_a_newer_one(world: World) -> None:
    verifier = world.verifier()
    verifier.load_status_list(world.status_list(revoked=[VALID_INDEX], issued_at=world.now + 10))
    verifier.load_status_list(world.status_list(revoked=[]))

    only(verifier.verify(world.text()), Failure.REVOKED)


def test_a_newer_status_list_replaces_the_cached_one(world: World) -> None:
    verifier = world.verifier()
    verifier.load_status_list(world.status_list(revoked=[VALID_INDEX], issued_at=world.now + 10))

    only(verifier.verify(world.text()), Failure.REVOKED)


def test_expired_credential(world: World) -> None:
    verifier = world.verifier()

    only(verifier.verify(world.text(world.credential(expires=world.now - 61))), Failure.EXPIRED)
    assert verifier.verify(world.text(world.credential(expires=world.now - 60))).valid


def test_credential_not_yet_valid(world: World) -> None:
    verifier = world.verifier()
    early = world.credential(not_before=world.now + 61)

    only(verifier.verify(world.text(early)), Failure.NOT_YET_VALID)
    assert verifier.verify(world.text(world.credential(not_before=world.now + 60))).valid


def test_unknown_key_id(world: World) -> None:
    credential = world.credential(world.new_issuer())

    result = world.verifier().verify(world.text(credential))

    only(result, Failure.UNKNOWN_KEY)
    assert result.issuer is None and result.identifier is None


def test_issuer_from_a_foreign_root_is_a_chain_failure(world: World) -> None:
    foreign = world.new_issuer(generate_root("Foreign Root"))
    verifier = world.verifier()
    verifier.load_trust_list(world.trust_list(world.issuer, foreign))

    result = verifier.verify(world.text(world.credential(foreign)))

    only(result, Failure.CHAIN)
    assert "pinned root" in result.details[0]
    assert verifier.verify(world.text()).valid


def test_issuer_certificate_expired_at_verify_time(world: World) -> None:
    short = world.new_issuer(valid_days=2)
    clock = Clock(world.now)
    verifier = world.verifier(clock)
    verifier.load_trust_list(world.trust_list(short))
    credential = world.credential(short)

    clock.now = short.certificate.not_valid_after_utc.timestamp() + 1
    result = verifier.verify(world.text(credential, at=clock.now))

    assert Failure.CHAIN in result.failures
    assert Failure.UNKNOWN_KEY not in result.failures


def test_fields_outside_the_profile(world: World) -> None:
    credential = world.credential(fields={"name": NAME})

    only(world.verifier().verify(world.text(credential)), Failure.CLAIMS)


def test_type_outside_the_profile(world: World) -> None:
    credential = world.credential(type=CredentialType.HOUSEHOLD)

    only(world.verifier().verify(world.text(credential)), Failure.CLAIMS)


def test_profile_unknown_to_the_trust_list_is_not_checked(world: World) -> None:
    result = world.verifier().verify(world.text(world.credential(profile=99, fields={"sex": 1})))

    assert result.valid
    assert (result.profile, result.profile_name) == (99, None)


@pytest.mark.parametrize(
    ("text", "failure"),
    [
        ("XH1:ABC", Failure.PREFIX),
        ("", Failure.PREFIX),
        ("YH1:", Failure.BASE45),
        ("YH1:abc", Failure.BASE45),
        ("YH1:" + "A" * 4293, Failure.TOO_LONG),
        ("YH1:" + base45.b45encode(b"\x78\x9cgarbage").decode(), Failure.ZLIB),
        ("YH1:" + base45.b45encode(b"\x83\x01").decode(), Failure.CBOR),
    ],
)
def test_undecodable_text(world: World, text: str, failure: Failure) -> None:
    result = world.verifier().verify(text)

    only(result, failure)
    assert result.fields == {} and result.type is None


def test_credential_with_malformed_claims(world: World) -> None:
    credential = sign1(cbor2.dumps({4: 1}), world.issuer.kid, world.issuer.key)

    only(world.verifier().verify(world.text(credential)), Failure.CLAIMS)


def test_every_failure_is_reported_in_order(world: World) -> None:
    credential = world.credential(expires=world.now - 3600, status=StatusRef(REVOKED_INDEX, "sl/1"))

    result = world.verifier().verify(world.text(credential, at=world.now - 300))

    assert result.failures == (Failure.EXPIRED, Failure.STALE, Failure.REVOKED)
    assert len(result.details) == 3
    for detail in result.details:
        assert NAME not in detail and world.id_number not in detail


def test_issuer_signature_is_checked_once_per_credential(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bytes] = []
    real = verifier_module.verify_sign1

    def counting(*args: object) -> bool:
        calls.append(b"")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(verifier_module, "verify_sign1", counting)
    verifier, credential = world.verifier(), world.credential()
    calls.clear()

    assert verifier.verify(world.text(credential)).valid
    assert verifier.verify(world.text(credential, at=world.now + STEP_SECONDS)).valid
    assert len(calls) == 1


def test_signature_cache_can_be_turned_off(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = verifier_module.verify_sign1

    def counting(*args: object) -> bool:
        calls.append(b"")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(verifier_module, "verify_sign1", counting)
    verifier, credential = world.verifier(cache_size=0), world.credential()
    calls.clear()

    verifier.verify(world.text(credential))
    verifier.verify(world.text(credential, at=world.now + STEP_SECONDS))
    assert len(calls) == 2


def test_signature_cache_does_not_outlive_trust(world: World) -> None:
    verifier, credential = world.verifier(), world.credential()
    assert verifier.verify(world.text(credential)).valid

    verifier.load_trust_list(world.trust_list(world.new_issuer()))

    only(verifier.verify(world.text(credential, at=world.now + 30)), Failure.UNKNOWN_KEY)


def test_cache_round_trip_verifies_offline(world: World) -> None:
    exported = json.loads(json.dumps(world.verifier().export_cache()))
    offline = Verifier(world.anchors, clock=Clock(world.now + 60))

    offline.import_cache(exported)

    assert offline.verify(world.text(at=world.now + 60)).valid
    revoked = world.credential(status=StatusRef(REVOKED_INDEX, "sl/1"))
    only(offline.verify(world.text(revoked, at=world.now + 60)), Failure.REVOKED)
    again = offline.export_cache()
    assert {**again, "replays": []} == exported
    assert len(again["replays"]) == 1  # the accepted one; the revoked one was never accepted


def test_replay_memory_survives_the_cache_and_expires_with_the_window(world: World) -> None:
    text = world.text()
    first = world.verifier()
    assert first.verify(text).valid
    exported = json.loads(json.dumps(first.export_cache()))

    second = Verifier(world.anchors, clock=Clock(world.now))
    second.import_cache(exported)
    only(second.verify(text), Failure.REPLAY)

    later = Verifier(world.anchors, clock=Clock(world.now + 3 * STEP_SECONDS))
    later.import_cache(exported)
    assert later.export_cache()["replays"] == []  # pruned on import: stale anyway by now


@pytest.mark.parametrize("replays", [[[1, "00"]], [["x", "00" * 32]], [1], "nope"])
def test_malformed_replay_memory_is_refused(world: World, replays: object) -> None:
    exported = {**world.verifier().export_cache(), "replays": replays}

    with pytest.raises(ValueError, match="malformed verifier cache"):
        Verifier(world.anchors).import_cache(exported)


def test_imported_lists_age_from_their_own_issued_at(world: World) -> None:
    exported = world.verifier().export_cache()
    offline = Verifier(world.anchors, clock=Clock(world.now + TTL + 1))

    offline.import_cache(exported)

    only(offline.verify(world.text(at=world.now + TTL + 1)), Failure.STATUS_UNKNOWN)


def test_an_old_list_fetched_now_is_stale(world: World) -> None:
    # Signed two ttls ago and still within exp: a counter fed it today must not trust it.
    clock = Clock(world.now)
    verifier = Verifier(world.anchors, clock=clock)
    verifier.load_trust_list(world.trust_list())
    verifier.load_status_list(world.status_list(issued_at=world.now - 2 * TTL, revoked=[]))

    only(verifier.verify(world.text()), Failure.STATUS_UNKNOWN)
    revoked = world.credential(status=StatusRef(REVOKED_INDEX, "sl/1"))
    assert Failure.REVOKED not in verifier.verify(world.text(revoked)).failures


def test_a_fresh_list_fetched_now_is_used(world: World) -> None:
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(world.trust_list())
    verifier.load_status_list(world.status_list(issued_at=world.now - TTL + 1))

    assert verifier.verify(world.text()).valid
    revoked = world.credential(status=StatusRef(REVOKED_INDEX, "sl/1"))
    only(verifier.verify(world.text(revoked)), Failure.REVOKED)


def test_a_list_issued_in_the_future_is_refused(world: World) -> None:
    verifier = world.verifier()
    future = world.status_list(issued_at=world.now + 61, revoked=[VALID_INDEX])

    with pytest.raises(FormatError, match="future"):
        verifier.load_status_list(future)

    assert verifier.verify(world.text()).valid  # the cached list stays, and is not displaced
    verifier.load_status_list(world.status_list(issued_at=world.now + 60, revoked=[VALID_INDEX]))
    only(verifier.verify(world.text()), Failure.REVOKED)


def test_cache_with_a_forged_status_list_leaves_it_out(world: World) -> None:
    exported = world.verifier().export_cache()
    token = bytearray(base64.b64decode(exported["status_lists"][0]["token"]))
    token[-1] ^= 1
    exported["status_lists"][0]["token"] = base64.b64encode(token).decode()
    offline = Verifier(world.anchors, clock=Clock(world.now))

    offline.import_cache(exported)

    only(offline.verify(world.text()), Failure.STATUS_UNKNOWN)


@pytest.mark.parametrize(
    "document",
    [{}, {"format": 2, "trust_list": "", "status_lists": []}, {"format": 1, "trust_list": {}}],
)
def test_malformed_cache_is_refused(world: World, document: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Verifier(world.anchors).import_cache(document)


@pytest.mark.parametrize(
    "change",
    [
        {"issuer_certificates": ["not base64!"]},
        {"issuer_certificates": None},
        {"profiles": {"x": {}}},
        {"types": {"1": {}}},
    ],
)
def test_malformed_trust_list_is_refused(world: World, change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Verifier(world.anchors).load_trust_list(
            world.sign_trust({**world.trust_document(), **change})
        )


def test_garbage_issuer_certificate_is_rejected_not_fatal(world: World) -> None:
    trust = world.trust_document()
    trust["issuer_certificates"].append(base64.b64encode(b"junk").decode())
    verifier = world.verifier()

    verifier.load_trust_list(world.sign_trust(trust))

    assert verifier.verify(world.text()).valid


def test_image_without_a_qr_code(world: World) -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")

    only(world.verifier().verify_image(blank.getvalue()), Failure.NO_QR)


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, bytes(range(256))])
def test_bytes_that_are_no_image(world: World, data: bytes) -> None:
    only(world.verifier().verify_image(data), Failure.NO_QR)


def test_missing_image_file(world: World, tmp_path: Path) -> None:
    only(world.verifier().verify_image(tmp_path / "missing.png"), Failure.NO_QR)


def test_image_of_a_foreign_qr_code(world: World) -> None:
    only(world.verifier().verify_image(qr.render("HTTPS://EXAMPLE.ORG")), Failure.PREFIX)


def test_refresh_fetches_the_trust_list_and_status_lists(world: World, server: Served) -> None:
    verifier = Verifier(world.anchors, clock=Clock(world.now))

    verifier.refresh(server.publish(world))

    assert verifier.verify(world.text()).valid
    revoked = world.credential(status=StatusRef(REVOKED_INDEX, "sl/1"))
    only(verifier.verify(world.text(revoked)), Failure.REVOKED)


def test_refresh_reports_a_missing_status_list(world: World, server: Served) -> None:
    url = server.publish(world)
    del server.routes["/sl/1"]

    with pytest.raises(requests.HTTPError):
        Verifier(world.anchors, clock=Clock(world.now)).refresh(url)


def test_another_issuer_cannot_stand_in_for_a_status_list(world: World) -> None:
    other = world.new_issuer(issuer_url="https://other.example")
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(world.trust_list(world.issuer, other))
    verifier.load_status_list(world.status_list(other, revoked=[], uri=LIST_URL))

    only(verifier.verify(world.text()), Failure.STATUS_UNKNOWN)
    verifier.load_status_list(world.status_list())
    revoking = world.status_list(
        other, revoked=[VALID_INDEX], uri=LIST_URL, issued_at=world.now + 9
    )
    verifier.load_status_list(revoking)
    assert verifier.verify(world.text(at=world.now + STEP_SECONDS)).valid


def test_status_list_from_an_expired_issuer_certificate_is_refused(world: World) -> None:
    short = world.new_issuer(valid_days=2)
    clock = Clock(world.now)
    verifier = world.verifier(clock)
    verifier.load_trust_list(world.trust_list(world.issuer, short))

    clock.now = short.certificate.not_valid_after_utc.timestamp() + 1
    with pytest.raises(FormatError):
        verifier.load_status_list(world.status_list(short, issued_at=world.now + 9))


@pytest.mark.parametrize("changes", [{"serial": 10**10}, {"version": 0}])
def test_no_identifier_for_numbers_outside_its_format(
    world: World, changes: dict[str, int]
) -> None:
    result = world.verifier().verify(world.text(world.credential(**changes)))

    assert result.valid and result.identifier is None


def test_identity_number_too_long_to_print_is_a_claims_failure(world: World) -> None:
    """Regression: decoding a 5,000-digit id_number raised ValueError out of ``verify``."""
    claims = cbor2.loads(encode_claims(world.claims()))
    claims[CLAIM_YIHAO][5][BY_NAME["id_number"].code] = 10**5000
    credential = sign1(cbor2.dumps(claims), world.issuer.kid, world.issuer.key)

    only(world.verifier().verify(world.text(credential)), Failure.CLAIMS)
