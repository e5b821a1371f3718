"""Drawing and reading QR codes: the size a presentation costs, and reading what was drawn."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from yihao import qr

TEXT = "YH1:" + "6BF/ $%*+-.:XYZ0123456789" * 8


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_render_and_read_bytes() -> None:
    assert qr.read(png(qr.render(TEXT))) == TEXT


def test_read_a_path_and_an_image(tmp_path: Path) -> None:
    image = qr.render(TEXT)
    image.save(tmp_path / "code.png")

    assert qr.read(tmp_path / "code.png") == TEXT
    assert qr.read(str(tmp_path / "code.png")) == TEXT
    assert qr.read(image) == TEXT


def test_read_a_photo_like_image() -> None:
    """A JPEG of a small code scaled up and rotated, roughly what a counter camera delivers."""
    image = (
        qr.render(TEXT, box_size=3).convert("RGB").resize((700, 700)).rotate(7, fillcolor="white")
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)

    assert qr.read(out.getvalue()) == TEXT


def test_version_is_the_smallest_alphanumeric_at_level_m() -> None:
    # Version 10 holds 311 alphanumeric characters at level M; byte mode would need version 13
    # and level L would fit version 9, so version 10 proves both the mode and the level.
    assert qr.version_of("YH1:" + "A" * 307) == 10
    assert qr.version_of("YH1:" + "A" * 308) == 11
    assert qr.version_of("YH1:") == 1


@pytest.mark.parametrize(("box_size", "border"), [(4, 4), (2, 1)])
def test_render_size_follows_the_version(box_size: int, border: int) -> None:
    modules = 17 + 4 * qr.version_of(TEXT) + 2 * border

    assert qr.render(TEXT, box_size, border).size == (modules * box_size,) * 2


def test_svg_draws_the_same_code() -> None:
    drawing = qr.svg(TEXT, border=0)
    modules = 17 + 4 * qr.version_of(TEXT)

    assert drawing.startswith("<svg") and f'viewBox="0 0 {modules} {modules}"' in drawing


def test_image_without_a_code() -> None:
    assert qr.read(png(Image.new("RGB", (300, 300), "white"))) is None


@pytest.mark.parametrize("data", [b"", os.urandom(2000), b"GIF89a" + bytes(30)])
def test_data_that_is_not_an_image(data: bytes) -> None:
    with pytest.raises(ValueError):
        qr.read(data)


def test_image_too_large_to_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qr, "MAX_PIXELS", 100 * 100)

    with pytest.raises(ValueError, match="too large"):
        qr.read(png(Image.new("L", (101, 100), 255)))
