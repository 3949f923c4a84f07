"""One check for every map image a command reads, whoever made it.

A map must open as an image, have at most `MAX_MAP_PIXELS` pixels by its header (checked
before a single pixel is decoded, so a decompression bomb costs nothing), and decode whole:
a PNG whose checksums are right but whose stream is not is caught only by decoding it.
Pillow's own warnings are kept from the user; what is wrong comes back as one sentence.
"""

from __future__ import annotations

import io
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

MAX_MAP_PIXELS = 200_000_000  # the largest real ReasonMap map has about 1.4e8 pixels


class ImageProblem(ValueError):
    """Why a file is not a usable map image, in one sentence."""


def check_map(source: str | os.PathLike | bytes) -> tuple[int, int]:
    """(width, height) of a sound map image (a path, or the file's bytes); else ImageProblem."""
    from PIL import Image, UnidentifiedImageError

    with quiet_pillow():
        try:
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
        except UnidentifiedImageError:
            raise ImageProblem("not an image file") from None
        except Exception as e:  # noqa: BLE001  a plugin's own: OSError, SyntaxError, NotImplementedError (DDS), ...
            raise ImageProblem(f"cannot be opened ({_sentence(e)})") from None
        with image:
            width, height = image.size
            if width * height > MAX_MAP_PIXELS:
                raise ImageProblem(f"{width}x{height} pixels, more than the {MAX_MAP_PIXELS:,} allowed")
            if width < 1 or height < 1:
                raise ImageProblem("has no pixels")
            try:
                image.load()
            except Exception as e:  # noqa: BLE001  OSError, EOFError, TypeError (a TIFF's float strip offsets), ...
                raise ImageProblem(f"does not decode ({_sentence(e)})") from None
    return width, height


@contextmanager
def quiet_pillow():
    """Pillow's own bomb guard off (`check_map` bounds the pixels from the header, before
    decoding, and names the size), and none of its warnings on the user's screen: for
    reading an image `check_map` has passed."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _sentence(error: BaseException) -> str:
    return " ".join(str(error).split())[:160] or type(error).__name__
