"""What real maps carry besides the metro, for `data synth --clutter`: a thinner grey
regional rail network named in the legend, a title block with a subtitle, a legend heading
and a notes box in the city's language, and service icons. None of it names a place, so nothing can be mistaken for a
station, and the metro is drawn over it unchanged: every question stays answerable.
"""

from __future__ import annotations

import random
import re

from .frame import Frame
from .text import block_size, glyph_font, text_block

RAIL = (140, 140, 140)   # regional rail: grey, never a metro line's colour
ICON = (44, 108, 176)    # service icons
BORDER = (150, 150, 150)  # box outlines, as the legend's
INK, WHITE = (28, 28, 32), (255, 255, 255)

# Per naming style: legend heading, the rail network's name, notes; and the title's subtitle.
SUBTITLES = {"english": "Metro and regional rail", "italian": "Metropolitana e ferrovie regionali",
             "iberian": "Metro e comboios regionais", "nordic": "Tunnelbana och pendeltåg",
             "malay": "Metro dan kereta api komuter", "pinyin": "Ditie yu shijiao tielu"}
LOCAL = {
    "english": ("Key", "Regional rail", ["Trains every 3-8 minutes", "First trains 05:30, last 00:30",
                                         "Step-free access at most stations"]),
    "italian": ("Legenda", "Ferrovia regionale", ["Treni ogni 3-8 minuti", "Primo treno 05:30, ultimo 00:30",
                                                  "Accesso senza gradini nella maggior parte delle fermate"]),
    "iberian": ("Legenda", "Comboios regionais", ["Comboios a cada 3-8 minutos", "Primeiro 05:30, último 00:30",
                                                  "Acesso sem degraus na maioria das paragens"]),
    "nordic": ("Teckenförklaring", "Pendeltåg", ["Tåg var 3-8 minut", "Första tåg 05:30, sista 00:30",
                                                 "Hiss vid de flesta hållplatser"]),
    "malay": ("Petunjuk", "Kereta api komuter", ["Tren setiap 3-8 minit", "Tren pertama 05:30, terakhir 00:30",
                                                 "Lif di kebanyakan hentian"]),
    "pinyin": ("Tuli", "Shijiao tielu", ["Xingche jiange 3-8 fenzhong", "Shouban 05:30, moban 00:30",
                                         "Duoshu chezhan you dianti"]),
}
ICONS = ("P", "i", "+")  # parking, information, first aid


def sheet_words(style: str) -> tuple[str, list[str], str]:
    """(legend heading, extra legend entries, title subtitle) in the city's language."""
    heading, rail, _ = LOCAL.get(style, LOCAL["english"])
    return heading, [rail], SUBTITLES.get(style, SUBTITLES["english"])


def draw_rail(canvas, rng: random.Random, frame: Frame) -> None:
    """One or two thin grey lines across the sheet with cross-ties, under the metro."""
    w = max(1, frame.line_width // 3)
    fill = canvas.palette.add(RAIL)
    for _ in range(rng.randint(1, 2)):
        horizontal = rng.random() < 0.5
        across, along = (frame.height, frame.width) if horizontal else (frame.width, frame.height)
        top = frame.title_box[3] + frame.margin if horizontal else frame.margin
        t = rng.uniform(top, across - frame.margin)
        bend = rng.uniform(0.3, 0.7) * along
        shift = rng.choice((-1, 1)) * rng.uniform(0.05, 0.15) * across
        t2 = min(max(t + shift, top), across - frame.margin)
        points = [(0, t), (bend, t), (bend + abs(t2 - t), t2), (along, t2)]
        if not horizontal:
            points = [(y, x) for x, y in points]
        canvas.draw.line(points, fill=fill, width=w)
        for (x0, y0), (x1, y1) in zip(points, points[1:]):  # cross-ties, as railways are drawn
            length = max(abs(x1 - x0), abs(y1 - y0))
            for k in range(int(length // (4 * frame.label_px))):
                f = (k + 0.5) * 4 * frame.label_px / length
                x, y = x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
                nx, ny = (0, 1) if abs(x1 - x0) >= abs(y1 - y0) else (1, 0)
                tie = frame.label_px // 3
                canvas.draw.line([(x - nx * tie, y - ny * tie), (x + nx * tie, y + ny * tie)], fill=fill, width=w)


def naming(texts, stations) -> list[str]:
    """The TEXTS that name none of STATIONS (a station's name, " Station" dropped, as a whole
    word in any case): nothing in the clutter may read as a station of the map."""
    names = [re.compile(rf"(?<!\w){re.escape(s.removesuffix(' Station'))}(?!\w)", re.IGNORECASE) for s in stations]
    return [t for t in texts if not any(n.search(t) for n in names)]


def draw_notes(canvas, rng: random.Random, frame: Frame, style: str, stations):
    """A notes box in a free corner of the sheet (none when no corner is free or every note
    would name a station); its box."""
    _, _, notes = LOCAL.get(style, LOCAL["english"])
    font = glyph_font(max(5, round(frame.label_px * 0.85)))
    lines = naming(notes[:rng.randint(2, 3)], stations)
    if not lines:
        return None
    w, h = block_size(lines, font)
    pad = frame.legend_pad
    w, h = w + 2 * pad, h + 2 * pad
    m = frame.margin // 2
    corners = [(m, frame.height - m - h), (frame.width - m - w, frame.height - m - h), (frame.width - m - w, m)]
    rng.shuffle(corners)
    for x0, y0 in corners:
        box = (x0, y0, x0 + w, y0 + h)
        if canvas.is_free(box, pad):
            canvas.draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=canvas.palette.white,
                                  outline=canvas.palette.add(BORDER), width=max(1, frame.line_width // 6))
            canvas.occupy((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
            canvas.text(x0 + pad, y0 + pad, text_block(lines, font), canvas.palette.ramp(INK, WHITE))
            return box
    return None


def draw_icons(canvas, rng: random.Random, frame: Frame) -> list:
    """Two to four service icons on free spots among the lines; their boxes."""
    font = glyph_font(frame.label_px, True)
    side = font.height + 4
    boxes = []
    for _ in range(rng.randint(2, 4)):
        for _ in range(60):
            x = rng.randrange(frame.margin, frame.width - frame.margin - side)
            y = rng.randrange(frame.margin, frame.height - frame.margin - side)
            box = (x, y, x + side, y + side)
            if canvas.is_free(box, frame.label_px):
                symbol = rng.choice(ICONS)
                canvas.draw.ellipse((x, y, x + side - 1, y + side - 1), fill=canvas.palette.add(ICON))  # round:
                # never taken for a line's (rounded-rectangle) badge
                glyph = font.render(symbol)
                canvas.text(x + (side - glyph.shape[1]) // 2, y + (side - glyph.shape[0]) // 2, glyph,
                            canvas.palette.ramp(WHITE, ICON, 6))
                canvas.occupy((x - 2, y - 2, x + side + 2, y + side + 2))
                boxes.append(box)
                break
    return boxes
