"""QR images for presentation text: drawing one (the wallet page, tests) and reading one back.

Drawing uses ``qrcode`` at error correction M: the code is read off a phone screen, where glare
and scratches cost more than the extra modules. Reading uses zxing-cpp, which copes with camera
photographs (perspective, inverted screens) far better than a pure-Python reader.
"""

from __future__ import annotations

import io
import os

import qrcode
import zxingcpp
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage
from qrcode.util import QRData

#: A phone photo is ~12 Mpx; anything far larger is not a counter camera and would stall reading.
MAX_PIXELS = 50_000_000

ImageSource = bytes | str | os.PathLike[str] | Image.Image


def _code(text: str, box_size: int, border: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    # QRData picks the densest mode the text allows; presentation text (base45 behind "YH1:")
    # is all in the alphanumeric set, so this is alphanumeric mode, 5.5 bits per character.
    code.add_data(QRData(text))
    code.make(fit=True)
    return code


def render(text: str, box_size: int = 4, border: int = 4) -> Image.Image:
    """The smallest QR code that holds ``text``: fewer modules are easier for a camera to read."""
    image = _code(text, box_size, border).make_image().get_image()
    assert isinstance(image, Image.Image)
    return image


def svg(text: str, border: int = 4) -> str:
    """The same code as SVG, for a web page: it scales to any screen without blurring."""
    image = _code(text, 10, border).make_image(image_factory=SvgPathImage)
    drawing = image.to_string(encoding="unicode")
    assert isinstance(drawing, str)
    return drawing


def version_of(text: str) -> int:
    """The QR version ``render`` picks, so a format change can be checked against a size budget."""
    version = _code(text, 1, 0).version
    assert isinstance(version, int)
    return version


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def _grey(source: ImageSource) -> Image.Image:
    # Pillow raises a different exception type per format for hostile or truncated data
    # (OSError, SyntaxError, struct.error, DecompressionBombError, ...); a counter only needs
    # to know that the data is not a picture, so every one of them becomes one ValueError.
    try:
        image = _open(source)
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("the image is too large")
        return image.convert("L")
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError("not a readable image") from exc


def read(image: ImageSource) -> str | None:
    """The text of the first QR code in the image, or None when it holds none.

    Raises ValueError when the data is not a readable image at all (so a caller can tell "wrong
    file" from "no code in the picture").
    """
    found = zxingcpp.read_barcodes(
        _grey(image), formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain
    )
    return str(found[0].text) if found else None
