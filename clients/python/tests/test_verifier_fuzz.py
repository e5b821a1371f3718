"""Whatever a camera or a keyboard hands the verifier, it answers with a named failure."""

from __future__ import annotations

import zlib

import base45
import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdk_world import World
from yihao.verifier import Result
from yihao.wire.qrtext import PREFIX

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
CBOR_ITEMS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.integers(), inner, max_size=6),
    max_leaves=20,
)
# Presentations whose parts are random: a credential that is a COSE_Sign1 only in shape.
SIGN1 = st.builds(
    lambda header, payload, sig: cbor2.dumps(
        cbor2.CBORTag(18, [cbor2.dumps(header), {}, cbor2.dumps(payload), sig])
    ),
    st.fixed_dictionaries({1: st.just(-7), 4: st.binary(min_size=8, max_size=8)}) | CBOR_ITEMS,
    CBOR_ITEMS,
    st.binary(max_size=70),
)
PRESENTATIONS = st.builds(
    lambda credential, step, sig: cbor2.dumps([credential, step, sig]),
    SIGN1 | st.binary(max_size=60),
    st.integers(min_value=-1, max_value=2**64),
    st.binary(min_size=63, max_size=65),
)
BODIES = st.binary(max_size=300) | st.builds(cbor2.dumps, CBOR_ITEMS) | PRESENTATIONS


def qr_text(body: bytes, packed: bool) -> str:
    data = zlib.compress(body) if packed else body
    return PREFIX + base45.b45encode(data).decode("ascii")


TEXTS = (
    st.text(max_size=5000)
    | st.binary(max_size=600).map(lambda b: b.decode("latin-1"))
    | st.text(alphabet=BASE45, max_size=600).map(lambda t: PREFIX + t)
    | st.builds(qr_text, BODIES, st.booleans())
)
FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_refused(result: Result) -> None:
    assert not result.valid
    assert result.failures
    assert len(result.details) == len(result.failures)
    assert len(set(result.failures)) == len(result.failures)


@FUZZ
@given(text=TEXTS)
def test_arbitrary_text_is_refused_with_a_failure(world: World, text: str) -> None:
    assert_refused(world.verifier().verify(text))


@FUZZ
@given(cut=st.integers(min_value=0))
def test_truncated_presentation_is_refused(world: World, cut: int) -> None:
    text = world.text()
    truncated = text[: cut % len(text)]

    assert_refused(world.verifier().verify(truncated))


@FUZZ
@given(position=st.integers(min_value=len(PREFIX)), char=st.sampled_from(BASE45))
def test_changed_character_is_refused(world: World, position: int, char: str) -> None:
    text = world.text()
    index = len(PREFIX) + position % (len(text) - len(PREFIX))
    changed = text[:index] + char + text[index + 1 :]
    if changed == text:
        return

    assert_refused(world.verifier().verify(changed))
