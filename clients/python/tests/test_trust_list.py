"""The signed trust list: who may sign it, and that a verifier never goes back to an older one."""

from __future__ import annotations

import time
from dataclasses import replace

import cbor2
import pytest
from sdk_world import Clock, World, make_issuer
from yihao.pki import generate_root
from yihao.verifier import Verifier
from yihao.wire.cose import loads_exact
from yihao.wire.errors import Failure
from yihao.wire.trust_list import TrustListError


def withdrawn(world: World) -> tuple[bytes, bytes]:
    """Sequence 1 lists the issuer; sequence 2 is the provider withdrawing its certificate."""
    return world.trust_list(sequence=1), world.trust_list(world.new_issuer(), sequence=2)


def test_a_newer_list_is_accepted(world: World) -> None:
    old, new = withdrawn(world)
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(old)
    verifier.load_trust_list(world.trust_list(sequence=1))  # the same sequence, re-signed

    verifier.load_trust_list(new)

    assert verifier.trust_list_sequence == 2
    assert verifier.verify(world.text()).failures[0] is Failure.UNKNOWN_KEY


def test_a_replayed_older_list_is_refused(world: World) -> None:
    old, new = withdrawn(world)
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(new)

    with pytest.raises(TrustListError, match="older"):
        verifier.load_trust_list(old)

    assert verifier.trust_list_sequence == 2
    assert Failure.UNKNOWN_KEY in verifier.verify(world.text()).failures


def test_an_older_cache_is_refused_by_a_verifier_holding_a_newer_list(world: World) -> None:
    old, new = withdrawn(world)
    stale = Verifier(world.anchors, clock=Clock(world.now))
    stale.load_trust_list(old)
    current = Verifier(world.anchors, clock=Clock(world.now))
    current.load_trust_list(new)

    with pytest.raises(TrustListError, match="older"):
        current.import_cache(stale.export_cache())

    fresh = Verifier(world.anchors, clock=Clock(world.now))
    fresh.import_cache(current.export_cache())
    assert fresh.trust_list_sequence == 2


def test_a_list_signed_by_a_credential_issuer_key_is_refused(world: World) -> None:
    with pytest.raises(TrustListError, match="not for signing trust lists"):
        Verifier(world.anchors).load_trust_list(
            world.sign_trust(world.trust_document(), world.issuer)
        )


def test_a_list_signed_under_another_root_is_refused(world: World) -> None:
    foreign = world.new_issuer(generate_root("Somebody else's root"), trust_list=True)

    with pytest.raises(TrustListError, match="not signed by a pinned root"):
        Verifier(world.anchors).load_trust_list(world.sign_trust(world.trust_document(), foreign))


def test_a_trust_list_certificate_cannot_sign_credentials(world: World) -> None:
    assert world.trust_signer is not None
    verifier = Verifier(world.anchors, clock=Clock(world.now))
    verifier.load_trust_list(world.trust_list(world.issuer, world.trust_signer))

    result = verifier.verify(world.text(world.credential(world.trust_signer)))

    assert result.failures[0] is Failure.CHAIN


def test_a_tampered_list_is_refused(world: World) -> None:
    protected, unprotected, payload, signature = loads_exact(world.trust_list()).value
    tampered = payload.replace(b'"sequence":1', b'"sequence":9')
    assert tampered != payload

    with pytest.raises(TrustListError, match="signature"):
        Verifier(world.anchors).load_trust_list(
            cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, tampered, signature]))
        )


@pytest.mark.parametrize("data", [b"", b"{}", b"\xd2\x84", cbor2.dumps({"sequence": 1})])
def test_garbage_is_refused(world: World, data: bytes) -> None:
    with pytest.raises(TrustListError):
        Verifier(world.anchors).load_trust_list(data)


def test_a_json_object_is_not_a_trust_list(world: World) -> None:
    with pytest.raises(TrustListError):
        Verifier(world.anchors).load_trust_list(world.trust_document())  # type: ignore[arg-type]


def test_keys_certified_just_now_verify_on_a_clock_a_minute_behind(world: World) -> None:
    """A counter whose clock runs behind still trusts a key rotated a moment ago: certificates
    start a little before they are made (yihao.pki.CLOCK_SKEW)."""
    made = int(time.time())
    fresh = make_issuer(world.root_key, world.root)
    trust_signer = make_issuer(world.root_key, world.root, trust_list=True)
    behind = replace(world, issuer=fresh, trust_signer=trust_signer, now=made - 60)
    assert behind.verifier().verify(behind.text()).valid
