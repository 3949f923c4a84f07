"""The sheet around the network: sizes scaled to the image, the title and the legend box.

Layout keeps the network off the title and legend, and the renderer draws them in the same
boxes, so both compute them here from the same inputs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .text import glyph_font

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

TRANSFER_ENTRY = "Transfer station"


@dataclass(frozen=True)
class Frame:
    size: int            # the longer side
    width: int
    height: int
    margin: int
    label_px: int
    title_px: int
    line_width: int
    title: str
    title_box: Box
    legend_box: Box
    legend_row: int      # height of one legend row
    legend_pad: int
    legend_heading: str | None = None    # clutter: a heading in the city's language
    subtitle: str | None = None          # clutter: a line under the title, in the city's language
    legend_extras: tuple[str, ...] = ()  # clutter: entries after the metro (regional rail)

    def grid(self, nodes: int) -> tuple[tuple[int, int], int, tuple[int, int]]:
        """((x, y) origin, cell, (columns, rows)) in pixels of a grid of `nodes` nodes
        along the longer side and as many (an odd number) as fit across the shorter one."""
        cell = (self.size - 2 * self.margin) // (nodes - 1)
        counts = tuple(nodes if side == self.size else ((side - 2 * self.margin) // cell) // 2 * 2 + 1
                       for side in (self.width, self.height))
        origin = tuple((side - cell * (n - 1)) // 2 for side, n in zip((self.width, self.height), counts))
        return origin, cell, counts


def map_frame(size: int, city_name: str, slug: str, line_names: list[str], aspect: float = 1.0,
              heading: str | None = None, extras: tuple[str, ...] = (), subtitle: str | None = None) -> Frame:
    """Title at the top left; the legend in a corner that depends on the city (its slug).
    `size` is the longer side; `aspect` is width / height; `heading` and `extras` add a
    legend heading and entries after the metro's; `subtitle` a line under the title."""
    width, height = (size, round(size / aspect)) if aspect >= 1 else (round(size * aspect), size)
    margin = round(size * 0.05)
    label_px = max(6, round(size / 88))
    title_px = round(label_px * 2.2)
    title = f"{city_name} Metro"
    title_font = glyph_font(title_px, True)
    title_box = (margin, margin // 2, margin + title_font.width(title), margin // 2 + title_font.height)
    if subtitle:  # the title block grows by a line of label text
        sub_font = glyph_font(label_px)
        title_box = (title_box[0], title_box[1], max(title_box[2], margin + sub_font.width(subtitle)),
                     title_box[3] + round(sub_font.height * 1.3))

    font, pad = glyph_font(label_px), label_px // 2
    row = round(font.height * 1.35)
    entries = list(line_names) + [TRANSFER_ENTRY] + list(extras)
    box_w = 2 * pad + 3 * label_px + pad + max(font.width(e) for e in entries)
    if heading:
        box_w = max(box_w, 2 * pad + glyph_font(label_px, True).width(heading))
    box_h = 2 * pad + row * (len(entries) + bool(heading))
    corner = ("top right", "bottom left", "bottom right")[zlib.crc32(slug.encode()) % 3]
    x0 = width - margin // 2 - box_w if corner.endswith("right") else margin // 2
    y0 = margin // 2 if corner.startswith("top") else height - margin // 2 - box_h
    return Frame(size, width, height, margin, label_px, title_px, max(2, round(size / 128)), title, title_box,
                 (x0, y0, x0 + box_w, y0 + box_h), row, pad, heading, subtitle, tuple(extras))
