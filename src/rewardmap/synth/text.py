"""Fast text for map labels: DejaVu glyphs rasterised once per size and composed in numpy.

Pillow lays out and rasterises a whole string on every `draw.text` call (~0.1 ms per
label); a map has hundreds of labels and the text is measured many more times than it is
drawn while labels look for room. Caching each glyph's coverage mask and advance makes
measuring a sum and drawing one `hstack` of glyph strips. Kerning is not applied.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib is needed for its DejaVu fonts")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


class _Glyph(NamedTuple):
    advance: int
    strip: np.ndarray        # coverage clipped to the advance box, shape (height, advance)
    overhang: tuple | None   # (left, top, full mask) when ink leaves the advance box


class GlyphFont:
    """One face at one pixel size; `width` and `render` a single line of text."""

    def __init__(self, bold: bool, px: int):
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        self.font = ImageFont.truetype(str(_font_dir() / name), px, layout_engine=ImageFont.Layout.BASIC)
        ascent, descent = self.font.getmetrics()
        self.px, self.height = px, ascent + descent
        self._glyphs: dict[str, _Glyph] = {}
        self._widths: dict[str, int] = {}
        self._end = np.zeros((self.height, 1), np.uint8)

    def _glyph(self, ch: str) -> _Glyph:
        glyph = self._glyphs.get(ch)
        if glyph is None:
            advance = round(self.font.getlength(ch))  # hinted advances are whole pixels
            left, top, right, bottom = self.font.getbbox(ch)
            canvas = np.zeros((self.height + 2 * self.px, advance + 2 * self.px), np.uint8)
            overhang = None
            if right > left and bottom > top:
                image = Image.new("L", (right - left, bottom - top))
                ImageDraw.Draw(image).text((-left, -top), ch, font=self.font, fill=255)
                mask = np.asarray(image)
                canvas[self.px + top:self.px + bottom, self.px + left:self.px + right] = mask
                if left < 0 or right > advance or top < 0 or bottom > self.height:
                    overhang = (left, top, mask)
            strip = np.ascontiguousarray(canvas[self.px:self.px + self.height, self.px:self.px + advance])
            glyph = self._glyphs[ch] = _Glyph(advance, strip, overhang)
        return glyph

    def width(self, text: str) -> int:
        width = self._widths.get(text)
        if width is None:
            width = self._widths[text] = sum(self._glyph(ch).advance for ch in text) + 1
        return width

    def render(self, text: str) -> np.ndarray:
        """Coverage (0-255) of `text`, shape (height, width(text))."""
        glyphs = [self._glyph(ch) for ch in text]
        out = np.hstack([g.strip for g in glyphs] + [self._end])
        pen = 0
        for g in glyphs:
            if g.overhang is not None:
                left, top, mask = g.overhang
                x, y = pen + left, top
                mx, my = max(0, -x), max(0, -y)
                region = out[y + my:y + mask.shape[0], x + mx:x + mask.shape[1]]
                np.maximum(region, mask[my:my + region.shape[0], mx:mx + region.shape[1]], out=region)
            pen += g.advance
        return out


@lru_cache(maxsize=64)
def glyph_font(px: int, bold: bool = False) -> GlyphFont:
    return GlyphFont(bold, px)


def text_block(lines: list[str], font: GlyphFont, align: str = "left") -> np.ndarray:
    """Coverage of several lines stacked with tight leading; align "left", "right" or "center"."""
    rendered = [font.render(line) for line in lines]
    if len(rendered) == 1:
        return rendered[0]
    step = round(font.height * 0.92)
    width = max(r.shape[1] for r in rendered)
    out = np.zeros((step * (len(rendered) - 1) + font.height, width), np.uint8)
    for i, r in enumerate(rendered):
        x = {"left": 0, "right": width - r.shape[1]}.get(align, (width - r.shape[1]) // 2)
        region = out[i * step:i * step + r.shape[0], x:x + r.shape[1]]
        np.maximum(region, r, out=region)
    return out


def block_size(lines: list[str], font: GlyphFont) -> tuple[int, int]:
    """(width, height) that `text_block` will have."""
    return (max(font.width(line) for line in lines),
            round(font.height * 0.92) * (len(lines) - 1) + font.height)
