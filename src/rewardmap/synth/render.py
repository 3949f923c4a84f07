"""Draw a `SynthCity` as a transit diagram with Pillow: lines, stations, labels, badges, legend.

The map is drawn straight into a palette ("P") image: shapes need no antialiasing at these
widths, and a palette PNG encodes several times faster than RGB. Text is antialiased
anyway by writing glyph coverage through small colour ramps of the palette.

Labels are placed greedily, line by line, on pixel occupancy masks (everything drawn so
far plus placed labels). Each station tries the eight compass positions, across its line
first, near before far, then slid sideways, then a two-line wrap, then smaller fonts; a
spot must be free and closer to its own station than to any other. With no such spot the
label may push one to three blocking labels elsewhere; failing that it moves further out,
then further still with a thin leader line to its station that crosses nothing. Past that,
`strict` rendering gives the layout up (`Crowded`: `synth.city.draw_city` lays the city out
again); otherwise the label may cross a line, and only as a last resort overlaps: a label
is never dropped.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from collections import defaultdict

import numpy as np
from PIL import Image, ImageDraw

from . import clutter
from .colors import hex_to_rgb
from .frame import TRANSFER_ENTRY, Box, Frame, map_frame
from .text import block_size, glyph_font, text_block

Point = tuple[int, int]

WHITE, WATER, PARK = (255, 255, 255), (214, 233, 247), (228, 241, 220)
INK, OUTLINE, BORDER = (28, 28, 32), (36, 36, 40), (150, 150, 150)
LEADER = (96, 96, 104)  # the thin line from a crowded station to its label set apart
LEADER_REACHES = (1.6, 2.4, 3.2, 4.2, 5.4)  # in text heights beyond the station's clearance
FREE_INDICES = 3  # palette indices 0-2 are background: labels may cover them

# Compass directions in screen coordinates (y grows downwards), in default preference order.
COMPASS = ((1, 0), (0, -1), (1, -1), (1, 1), (0, 1), (-1, 0), (-1, -1), (-1, 1))


class _Palette:
    """Palette indices handed out on first use, with ramps for antialiased text."""

    def __init__(self):
        self.colours = [WHITE, WATER, PARK, WHITE]  # background entries, then a white that counts as drawn
        self.white = 3
        self._index = {WATER: 1, PARK: 2, WHITE: 3}
        self._ramps: dict[tuple, np.ndarray] = {}

    def add(self, rgb: tuple[int, int, int]) -> int:
        if rgb not in self._index:
            self.colours.append(rgb)
            self._index[rgb] = len(self.colours) - 1
        return self._index[rgb]

    def ramp(self, fg: tuple[int, int, int], bg: tuple[int, int, int], levels: int = 8) -> np.ndarray:
        """Lookup table coverage (0-255) -> palette index of fg blended over bg."""
        if (fg, bg, levels) in self._ramps:
            return self._ramps[fg, bg, levels]
        shades = [self.add(tuple(round(b + (f - b) * k / (levels - 1)) for f, b in zip(fg, bg)))
                  for k in range(levels)]
        ramp = self._ramps[fg, bg, levels] = np.array(shades, np.uint8)[(np.arange(256) * (levels - 1) + 127) // 255]
        return ramp

    def flat(self) -> list[int]:
        return [v for rgb in self.colours for v in rgb]


class _Canvas:
    """The palette image, its occupancy mask and the text waiting to be written."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.palette = _Palette()
        self.image = Image.new("P", (width, height), 0)
        self.draw = ImageDraw.Draw(self.image)
        # Per pixel, how many things cover it: anything drawn (labels avoid it if they can),
        # and only labels, symbols, badges and boxes (never covered).
        self.occupied: np.ndarray | None = None
        self.marked: np.ndarray | None = None
        self.texts: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # x, y, coverage, ramp

    def freeze_shapes(self) -> None:
        """Start the occupancy masks from everything drawn so far."""
        self.occupied = (np.asarray(self.image) >= FREE_INDICES).view(np.uint8)
        self.marked = np.zeros_like(self.occupied)

    def occupy(self, box: Box, count: int = 1) -> None:
        """Cover `box` (count=-1 uncovers a box covered before)."""
        x0, y0, x1, y1 = box
        for mask in (self.occupied, self.marked):
            mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] += np.uint8(count % 256)

    def is_free(self, box: Box, pad: int, strict: bool = True) -> bool:
        """Inside the image and clear of everything (strict) or of all but lines."""
        x0, y0, x1, y1 = box
        if x0 < pad or y0 < pad or x1 > self.width - pad or y1 > self.height - pad:
            return False
        mask = self.occupied if strict else self.marked
        return not np.count_nonzero(mask[y0 - pad:y1 + pad, x0 - pad:x1 + pad])

    def overlap(self, box: Box) -> int:
        x0, y0, x1, y1 = box
        inside = self.occupied[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
        outside = (x1 - x0) * (y1 - y0) - inside.size
        return int(np.count_nonzero(inside)) + 4 * outside

    def text(self, x: int, y: int, coverage: np.ndarray, ramp: np.ndarray) -> None:
        self.texts.append((x, y, coverage, ramp))

    def finish(self) -> Image.Image:
        pixels = np.array(self.image)
        for x, y, coverage, ramp in self.texts:
            h, w = coverage.shape
            cx, cy = max(0, -x), max(0, -y)
            region = pixels[y + cy:y + h, x + cx:x + w]
            cov = coverage[cy:cy + region.shape[0], cx:cx + region.shape[1]]
            ink = cov > 16
            region[ink] = ramp[cov[ink]]
        image = Image.fromarray(pixels, "P")
        image.putpalette(self.palette.flat())
        return image


def render_city(city, return_labels: bool = False):
    """The map as an RGB image (`city.width` x `city.height`); with `return_labels`, also each station's
    label box (x0, y0, x1, y1), exclusive ends."""
    image, labels, _, _ = render_palette(city)
    image = image.convert("RGB")
    return (image, labels) if return_labels else image


def render_palette(city, strict: bool = False) -> tuple[Image.Image, dict[str, Box], dict[str, tuple], list[Box]]:
    """The map as a palette image, each station's label box, the leader line (x0, y0, x1, y1
    from the station) of each label set apart from its crowded station, and the boxes no label may enter (title,
    legend, notes). `strict`: raise `Crowded` as soon as a label would have to cross a line,
    instead of drawing it so."""
    frame = city_frame(city)
    rng = random.Random(zlib.crc32(city.slug.encode()))
    canvas = _Canvas(frame.width, frame.height)
    _draw_scenery(canvas, rng, frame)
    if city.clutter:
        clutter.draw_rail(canvas, rng, frame)
    geometry = _Geometry(city, frame)
    ticks = rng.random() < 0.65
    _draw_lines(canvas, city, geometry)
    _draw_transfers(canvas, geometry)
    if not ticks:
        _draw_dots(canvas, geometry)
    canvas.freeze_shapes()
    for station in geometry.transfers + ([] if ticks else geometry.ordinary):
        canvas.occupy(geometry.symbol_box(station))
    _draw_title(canvas, frame)
    _draw_legend(canvas, city, frame)
    _draw_badges(canvas, city, frame, geometry)
    if ticks:
        for station in geometry.ordinary:
            for box in geometry.tick_boxes(station):
                canvas.occupy(box)
    reserved = [frame.title_box, frame.legend_box]
    if city.clutter:
        notes = clutter.draw_notes(canvas, rng, frame, city.style, city.positions)
        reserved += [notes] if notes else []
        clutter.draw_icons(canvas, rng, frame)
    labels, sides, leaders = _place_labels(canvas, city, frame, geometry, strict)
    if ticks:
        _draw_ticks(canvas, geometry, sides)
    return canvas.finish(), labels, leaders, reserved


def city_frame(city) -> Frame:
    """The sheet of CITY's map: its size and shape, title and legend (with the clutter's
    heading and entries when it has clutter)."""
    heading, extras, subtitle = clutter.sheet_words(city.style) if city.clutter else (None, [], None)
    return map_frame(city.size, city.name, city.slug, list(city.lines), city.aspect, heading, tuple(extras), subtitle)


def other_colours(city) -> list:
    """Colours no label may cover besides the metro lines': the clutter's rail and icons."""
    return [clutter.RAIL, clutter.ICON] if city.clutter else []


# --- geometry -------------------------------------------------------------------------------


def _unit(dx: float, dy: float) -> tuple[int, int]:
    return (dx > 0) - (dx < 0), (dy > 0) - (dy < 0)


class _Geometry:
    """Derived drawing geometry: per-edge line offsets, station directions and symbol sizes."""

    def __init__(self, city, frame: Frame):
        self.w = frame.line_width
        self.step = self.w + max(1, self.w // 4)  # distance between parallel lines
        self.tick = max(2, round(self.w * 0.8))
        self.dot = max(1.0, self.w * 0.3)
        self.positions = city.positions
        self.colour = {line: hex_to_rgb(c) for line, c in city.colors.items()}
        self.lines_of: dict[str, list[str]] = defaultdict(list)
        for line, stations in city.lines.items():
            for s in dict.fromkeys(stations):
                self.lines_of[s].append(line)
        self.transfers = [s for s, ls in self.lines_of.items() if len(ls) > 1]
        self.ordinary = [s for s, ls in self.lines_of.items() if len(ls) == 1]
        self.termini = {s for line, st in city.lines.items() if st[0] != st[-1] for s in (st[0], st[-1])}

        on_edge: dict[tuple[Point, Point], list[int]] = defaultdict(list)
        self.directions: dict[Point, set[tuple[int, int]]] = defaultdict(set)
        self.parallel: dict[Point, int] = defaultdict(int)
        self.paths = list(city.paths.values())
        for i, path in enumerate(self.paths):
            for a, b in zip(path, path[1:]):
                on_edge[min(a, b), max(a, b)].append(i)
                self.directions[a].add(_unit(b[0] - a[0], b[1] - a[1]))
                self.directions[b].add(_unit(a[0] - b[0], a[1] - b[1]))
        for (a, b), lines in on_edge.items():
            self.parallel[a] = max(self.parallel[a], len(lines))
            self.parallel[b] = max(self.parallel[b], len(lines))
        self.on_edge = on_edge

    def offsets(self, i: int) -> list[tuple[float, float]]:
        """Offset vector of line i on each of its edges: lines sharing an edge sit side by
        side, ordered across the travel direction of the first of them."""
        path, out = self.paths[i], []
        for a, b in zip(path, path[1:]):
            lines = self.on_edge[min(a, b), max(a, b)]
            if len(lines) == 1:
                out.append((0.0, 0.0))
                continue
            ref = self.paths[lines[0]]
            j = next(k for k, (p, q) in enumerate(zip(ref, ref[1:])) if {p, q} == {a, b})
            (rx, ry), (qx, qy) = ref[j], ref[j + 1]
            length = math.hypot(qx - rx, qy - ry)
            nx, ny = -(qy - ry) / length, (qx - rx) / length
            shift = (lines.index(i) - (len(lines) - 1) / 2) * self.step
            out.append((nx * shift, ny * shift))
        return out

    def transfer_radius(self, station: str) -> int:
        spread = (self.parallel[self.positions[station]] - 1) / 2 * self.step
        return round(max(self.w * 0.95, spread + self.w * 0.8))

    def clearance(self, station: str) -> float:
        """Distance from a station centre to where its label may start."""
        if len(self.lines_of[station]) > 1:
            return self.transfer_radius(station) + self.w * 0.35
        return self.w / 2 + self.tick + self.w * 0.45

    def across(self, station: str) -> tuple[float, float]:
        """A unit normal to the line at an ordinary station."""
        dx, dy = sorted(self.directions[self.positions[station]])[0]
        length = math.hypot(dx, dy)
        return -dy / length, dx / length

    def symbol_box(self, station: str) -> Box:
        """Box of a transfer circle, or of an ordinary station's dot."""
        x, y = self.positions[station]
        r = self.transfer_radius(station) if len(self.lines_of[station]) > 1 else self.dot
        return math.floor(x - r), math.floor(y - r), math.ceil(x + r) + 1, math.ceil(y + r) + 1

    def tick_boxes(self, station: str) -> list[Box]:
        """Boxes around the stub that may stick out of the line on either side."""
        x, y = self.positions[station]
        nx, ny = self.across(station)
        boxes = []
        for sign in (1, -1):
            (ax, ay), (bx, by) = ((x + sign * nx * r, y + sign * ny * r) for r in (self.w / 2, self.w / 2 + self.tick))
            boxes.append((math.floor(min(ax, bx)), math.floor(min(ay, by)),
                          math.ceil(max(ax, bx)) + 1, math.ceil(max(ay, by)) + 1))
        return boxes


# --- drawing --------------------------------------------------------------------------------


def _draw_scenery(canvas: _Canvas, rng: random.Random, frame: Frame) -> None:
    """Faint water and parks behind the network, for the look of a real map."""
    size = frame.size
    if rng.random() < 0.6:
        horizontal = rng.random() < 0.5
        across, along = (canvas.height, canvas.width) if horizontal else (canvas.width, canvas.height)
        t = rng.uniform(0.25, 0.75) * across
        points, pos = [], -along * 0.05
        while pos < along * 1.05:
            points.append((pos, t) if horizontal else (t, pos))
            step = rng.uniform(0.15, 0.35) * size
            pos += step
            t += rng.choice((-1, 0, 1)) * step * 0.5
        points.append((pos, t) if horizontal else (t, pos))
        canvas.draw.line(points, fill=1, width=round(size * rng.uniform(0.025, 0.045)), joint="curve")
    for _ in range(rng.randint(0, 3)):
        w, h = (round(rng.uniform(0.06, 0.13) * size) for _ in range(2))
        x = rng.randrange(frame.margin, canvas.width - frame.margin - w)
        y = rng.randrange(frame.margin, canvas.height - frame.margin - h)
        canvas.draw.rounded_rectangle((x, y, x + w, y + h), radius=min(w, h) // 4, fill=2)


def _polyline(path: list[Point], offsets: list[tuple[float, float]], closed: bool) -> list[tuple[float, float]]:
    """The drawn centre line of a line: straight runs shifted by their offset, joined at
    bends by intersecting the shifted runs and at a change of offset by a 45° jog."""
    runs: list[list] = []  # [start, end, direction, offset]
    for (a, b), off in zip(zip(path, path[1:]), offsets):
        d = _unit(b[0] - a[0], b[1] - a[1])
        if runs and runs[-1][2] == d and runs[-1][3] == off:
            runs[-1][1] = b
        else:
            runs.append([a, b, d, off])
    if closed and len(runs) > 1 and runs[0][2:] == runs[-1][2:]:
        runs[0][0] = runs.pop()[0]
    shifted = [((a[0] + o[0], a[1] + o[1]), (b[0] + o[0], b[1] + o[1]), d) for a, b, d, o in runs]
    joins = []
    for (a1, b1, d1), (a2, _, d2) in zip(shifted, shifted[1:] + shifted[:1] if closed else shifted[1:]):
        cross = d1[0] * d2[1] - d1[1] * d2[0]
        if cross:
            t = ((a2[0] - a1[0]) * d2[1] - (a2[1] - a1[1]) * d2[0]) / cross
            joins.append([(a1[0] + d1[0] * t, a1[1] + d1[1] * t)])
        else:
            jog = math.hypot(a2[0] - b1[0], a2[1] - b1[1]) / math.hypot(*d2)
            joins.append([b1, (a2[0] + d2[0] * jog, a2[1] + d2[1] * jog)])
    if closed:
        (a, b, _) = shifted[0]
        middle = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        return [middle] + [p for j in joins for p in j] + [middle]
    return [shifted[0][0]] + [p for j in joins for p in j] + [shifted[-1][1]]


def _draw_lines(canvas: _Canvas, city, geo: _Geometry) -> None:
    for i, (line, path) in enumerate(city.paths.items()):
        points = _polyline(path, geo.offsets(i), path[0] == path[-1])
        canvas.draw.line(points, fill=canvas.palette.add(geo.colour[line]), width=geo.w, joint="curve")


def _draw_transfers(canvas: _Canvas, geo: _Geometry) -> None:
    outline, edge = canvas.palette.add(OUTLINE), max(1, round(geo.w / 4))
    for station in geo.transfers:
        x, y = geo.positions[station]
        r = geo.transfer_radius(station)
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=canvas.palette.white, outline=outline, width=edge)


def _draw_dots(canvas: _Canvas, geo: _Geometry) -> None:
    r = geo.dot
    for station in geo.ordinary:
        x, y = geo.positions[station]
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=canvas.palette.white)


def _draw_ticks(canvas: _Canvas, geo: _Geometry, sides: dict[str, tuple[int, int]]) -> None:
    """A short stub towards the label; a bar across the line at a terminus."""
    width = max(1, round(geo.w * 0.55))
    reach = geo.w / 2 + geo.tick
    for station in geo.ordinary:
        x, y = geo.positions[station]
        nx, ny = geo.across(station)
        if station in geo.termini:
            start, end = (x - nx * reach, y - ny * reach), (x + nx * reach, y + ny * reach)
        else:
            sx, sy = sides[station]
            sign = 1 if nx * sx + ny * sy >= 0 else -1
            start, end = (x, y), (x + sign * nx * reach, y + sign * ny * reach)
        colour = canvas.palette.add(geo.colour[geo.lines_of[station][0]])
        canvas.draw.line([start, end], fill=colour, width=width)


def _grow(box: Box, by: int) -> Box:
    return box[0] - by, box[1] - by, box[2] + by, box[3] + by


def _draw_title(canvas: _Canvas, frame: Frame) -> None:
    x0, y0, _, _ = frame.title_box
    canvas.occupy(_grow(frame.title_box, frame.label_px // 2))
    title_font, ink = glyph_font(frame.title_px, True), canvas.palette.ramp(INK, WHITE)
    canvas.text(x0, y0, title_font.render(frame.title), ink)
    if frame.subtitle:  # a title block: the subtitle under a thin rule
        y = y0 + title_font.height + max(1, frame.label_px // 6)
        canvas.draw.line([(x0, y), (frame.title_box[2], y)], fill=canvas.palette.add(clutter.BORDER), width=1)
        canvas.text(x0, y + max(1, frame.label_px // 6), glyph_font(frame.label_px).render(frame.subtitle), ink)


def _draw_legend(canvas: _Canvas, city, frame: Frame) -> None:
    box = frame.legend_box
    x0, y0 = box[:2]
    pal, pad, row, w = canvas.palette, frame.legend_pad, frame.legend_row, frame.line_width
    canvas.draw.rectangle(box, fill=pal.white, outline=pal.add(BORDER), width=max(1, w // 6))
    canvas.occupy(_grow(box, pad))
    font, ink = glyph_font(frame.label_px), pal.ramp(INK, WHITE)
    swatch = 3 * frame.label_px
    entries = ([(line, hex_to_rgb(c)) for line, c in city.colors.items()] + [(TRANSFER_ENTRY, None)]
               + [(name, clutter.RAIL) for name in frame.legend_extras])
    if frame.legend_heading:
        bold = glyph_font(frame.label_px, True)
        canvas.text(x0 + pad, y0 + pad + (row - bold.height) // 2, bold.render(frame.legend_heading), ink)
        y0 += row
    for k, (name, rgb) in enumerate(entries):
        cy = y0 + pad + k * row + row // 2
        if rgb == clutter.RAIL:
            canvas.draw.line([(x0 + pad, cy), (x0 + pad + swatch, cy)], fill=pal.add(rgb), width=max(1, w // 3))
        elif rgb is None:
            r = round(w * 0.95)
            cx = x0 + pad + swatch // 2
            canvas.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=pal.white, outline=pal.add(OUTLINE),
                                width=max(1, round(w / 4)))
        else:
            canvas.draw.line([(x0 + pad, cy), (x0 + pad + swatch, cy)], fill=pal.add(rgb), width=w)
        canvas.text(x0 + 2 * pad + swatch, cy - font.height // 2, font.render(name), ink)


def _candidate(x: float, y: float, direction: tuple[int, int], gap: float, w: int, h: int,
               slide: float = 0.0) -> Box:
    """Box of size w x h beside (x, y) in `direction`, `gap` away from the point; a box
    straight above, below or beside the point may slide sideways by `slide` of its size."""
    dx, dy = direction
    k = gap * 0.75 if dx and dy else gap
    x0 = int(x + dx * k + (0 if dx > 0 else -w if dx < 0 else (slide - 0.5) * w) + 0.5)
    y0 = int(y + dy * k + (0 if dy > 0 else -h if dy < 0 else (slide - 0.5) * h) + 0.5)
    return x0, y0, x0 + w, y0 + h


def _draw_badges(canvas: _Canvas, city, frame: Frame, geo: _Geometry) -> None:
    """A rounded tag with the line's short name beyond each terminus (one for a loop)."""
    font = glyph_font(frame.label_px, True)
    pad = max(1, frame.label_px // 6)
    for line, path in city.paths.items():
        stations = city.lines[line]
        if stations[0] == stations[-1]:
            top = min(stations, key=lambda s: geo.positions[s][::-1])
            ends = [(top, (0, -1))]
        else:
            ends = [(stations[-1], _unit(path[-1][0] - path[-2][0], path[-1][1] - path[-2][1]))]
            if not line.endswith(" Branch"):
                ends.append((stations[0], _unit(path[0][0] - path[1][0], path[0][1] - path[1][1])))
        text = font.render(city.badges[line])
        h = font.height + 2 * pad
        w = max(h, text.shape[1] + 2 * pad + 2)
        colour = geo.colour[line]
        for station, out in ends:
            x, y = geo.positions[station]
            order = [_rotate(out, t) for t in (0, 1, -1, 2, -2, 3, -3, 4)]
            gap = geo.clearance(station) + pad
            boxes = [_candidate(x, y, d, gap, w, h) for d in order]
            box = next((b for b in boxes if canvas.is_free(b, pad)), None) or _inside(boxes[0], canvas)
            canvas.draw.rounded_rectangle((box[0], box[1], box[2] - 1, box[3] - 1), radius=h // 3,
                                          fill=canvas.palette.add(colour))
            canvas.occupy(box)
            canvas.text(box[0] + (w - text.shape[1]) // 2, box[1] + pad, text,
                        canvas.palette.ramp(WHITE, colour, 6))


def _inside(box: Box, canvas: _Canvas) -> Box:
    """`box` shifted as little as possible to lie within the image."""
    dx = max(0, -box[0]) - max(0, box[2] - canvas.width)
    dy = max(0, -box[1]) - max(0, box[3] - canvas.height)
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _rotate(d: tuple[int, int], eighths: int) -> tuple[int, int]:
    angle = math.atan2(d[1], d[0]) + eighths * math.pi / 4
    return round(math.cos(angle)), round(math.sin(angle))


def _across_first(c: tuple[int, int], d: tuple[int, int]) -> float:
    """|cos| of the angle between two compass directions: 0 across, 1 along."""
    return round(abs(c[0] * d[0] + c[1] * d[1]) / (math.hypot(*c) * math.hypot(*d)), 2)


_ALONG = {(c, d): _across_first(c, d) for c in COMPASS for d in COMPASS}


def _label_order(directions: set[tuple[int, int]], previous: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Compass directions, those across the line first, the previous station's side before
    its mirror image."""
    return sorted(COMPASS, key=lambda c: (max(_ALONG[c, d] for d in directions), c != previous,
                                          COMPASS.index(c)))


class _Labeller:
    """Greedy label placement with one step of repair.

    Stations are labelled line by line, so neighbours settle on matching sides. A label
    with no free spot may push aside the labels blocking one of its natural spots, if those
    then find free spots elsewhere.
    """

    def __init__(self, canvas: _Canvas, frame: Frame, geo: _Geometry, strict: bool = False):
        self.canvas, self.geo, self.strict = canvas, geo, strict
        sizes = dict.fromkeys((frame.label_px, max(5, round(frame.label_px * 0.85)),
                               max(5, round(frame.label_px * 0.72))))
        self.fonts = {bold: tuple(glyph_font(px, bold) for px in sizes) for bold in (False, True)}
        self.pad, self.space = max(1, frame.label_px // 6), frame.label_px // 3
        self.placed: dict[str, tuple] = {}  # station -> (box, direction, lines, font)
        self.bucket = max(16, frame.size // 16)  # stations by square of this side, for nearness tests
        self.stations_in: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
        for s, (x, y) in geo.positions.items():
            self.stations_in[x // self.bucket, y // self.bucket].append((x, y, s))
        self.previous: dict[str, tuple[int, int]] = {}  # line -> side of its last label
        self.leaders: dict[str, tuple[float, ...]] = {}  # station -> leader line (x0, y0, x1, y1), from the station

    def spots(self, station: str, reaches: tuple[float, ...] = (0.0, 0.35, 0.7)):
        """Candidate (box, direction, lines, font), best first: full size before wrapped
        before smaller, near before far (`reaches` in text heights beyond the station's
        clearance), centred before slid, across the line before along."""
        geo = self.geo
        x, y = geo.positions[station]
        text = station.removesuffix(" Station")
        words = text.split()
        wraps = [[text]] + ([[" ".join(words[:len(words) // 2]), " ".join(words[len(words) // 2:])]]
                            if len(words) > 1 else [])
        gap = geo.clearance(station)
        directions = _label_order(geo.directions[x, y], self.previous.get(geo.lines_of[station][0]))
        for font in self.fonts[len(geo.lines_of[station]) > 1]:
            for lines in wraps:
                w, h = block_size(lines, font)
                for g in (gap + font.height * r for r in reaches):
                    for slide in (0.0, 0.4, -0.4, 0.75, -0.75):
                        for d in directions:
                            if not (slide and d[0] and d[1]):
                                yield _candidate(x, y, d, g, w, h, slide), d, lines, font

    def _footprint(self, box: Box) -> Box:
        """What a label keeps to itself: its box widened so two labels never run on."""
        return box[0] - self.space, box[1], box[2] + self.space, box[3]

    def _put(self, station: str, spot: tuple) -> None:
        self.placed[station] = spot
        self.canvas.occupy(self._footprint(spot[0]))
        self.previous[self.geo.lines_of[station][0]] = spot[1]

    def _lift(self, station: str) -> tuple:
        spot = self.placed.pop(station)
        self.canvas.occupy(self._footprint(spot[0]), -1)
        return spot

    def _owned(self, box: Box, station: str) -> bool:
        """No other station is closer to the box than its own: the label is not ambiguous."""
        x0, y0, x1, y1 = box

        def distance2(x: int, y: int) -> int:
            dx, dy = max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1)
            return dx * dx + dy * dy

        own = distance2(*self.geo.positions[station])
        reach, b = math.isqrt(own) + 1, self.bucket
        for bx in range((x0 - reach) // b, (x1 + reach) // b + 1):
            for by in range((y0 - reach) // b, (y1 + reach) // b + 1):
                for x, y, other in self.stations_in.get((bx, by), ()):
                    if other != station and distance2(x, y) < own:
                        return False
        return True

    def _free_spot(self, station: str, strict: bool = True, reaches=(0.0, 0.35, 0.7)):
        return next((spot for spot in self.spots(station, reaches)
                     if self.canvas.is_free(spot[0], self.pad, strict) and self._owned(spot[0], station)), None)

    def place(self, station: str) -> None:
        spot = self._free_spot(station)
        if spot is None and self._repair(station):
            return
        if spot is None:
            spot = self._free_spot(station, reaches=(1.1, 1.6, 2.2, 2.8))
        if spot is None and self._lead(station):
            return
        if spot is None and self.strict:
            raise Crowded(station)
        if spot is None:  # across a line rather than onto another label
            spot = self._free_spot(station, strict=False, reaches=(0.0, 0.6, 1.6, 2.6))
        if spot is None:
            box, *rest = min(self.spots(station), key=lambda sp: self.canvas.overlap(sp[0]))
            spot = (_inside(box, self.canvas), *rest)
        self._put(station, spot)

    def _lead(self, station: str) -> bool:
        """A free spot further out, joined to its station by a thin leader line that crosses
        nothing: how real maps label a crowded junction."""
        x, y = self.geo.positions[station]
        gap = self.geo.clearance(station)
        for spot in self.spots(station, LEADER_REACHES):
            box = spot[0]
            if not self.canvas.is_free(box, self.pad):
                continue
            # from the symbol's edge towards the nearest point of the box, stopping short of it
            bx, by = min(max(x, box[0]), box[2] - 1), min(max(y, box[1]), box[3] - 1)
            length = math.hypot(bx - x, by - y)
            if length <= gap + self.pad:
                continue
            ux, uy = (bx - x) / length, (by - y) / length
            start, end = (x + ux * gap, y + uy * gap), (bx - ux * self.pad, by - uy * self.pad)
            if not self._clear_path(start, end, self.geo.symbol_box(station)) or self._nearest_to(start) != station:
                continue
            self._put(station, spot)
            self.leaders[station] = (*start, *end)
            for px, py in _samples(start, end):
                self.canvas.occupy((px - 1, py - 1, px + 2, py + 2))
            return True
        return False

    def _clear_path(self, start, end, own: Box) -> bool:
        """Nothing drawn on the segment beyond the station's own symbol (whose box it starts in)."""
        mask = self.canvas.occupied
        return all(not mask[py, px] for px, py in _samples(start, end)
                   if not (own[0] <= px < own[2] and own[1] <= py < own[3]))

    def _nearest_to(self, point) -> str:
        px, py = point
        return min(self.geo.positions, key=lambda s: (self.geo.positions[s][0] - px) ** 2
                   + (self.geo.positions[s][1] - py) ** 2)

    def _repair(self, station: str) -> bool:
        """Take one of the first natural spots by moving the one to three labels on it."""
        for spot in itertools.islice(self.spots(station), 24):
            if not self._owned(spot[0], station):
                continue
            x0, y0, x1, y1 = _grow(spot[0], self.pad)
            blockers = [s for s, (b, *_) in self.placed.items()
                        if b[0] - self.space < x1 and x0 < b[2] + self.space and b[1] < y1 and y0 < b[3]]
            if not 0 < len(blockers) <= 3:
                continue
            lifted = {s: self._lift(s) for s in blockers}
            if self.canvas.is_free(spot[0], self.pad):
                self._put(station, spot)
                moved = []
                for s in blockers:
                    new = self._free_spot(s)
                    if new is None:
                        break
                    self._put(s, new)
                    moved.append(s)
                else:
                    return True
                for s in [station, *moved]:
                    self._lift(s)
            for s, old in lifted.items():
                self._put(s, old)
        return False

    def write(self, ink: np.ndarray) -> None:
        for box, d, lines, font in self.placed.values():
            align = "left" if d[0] > 0 else "right" if d[0] < 0 else "center"
            self.canvas.text(box[0], box[1], text_block(lines, font, align), ink)


def _samples(start, end) -> list[Point]:
    """The pixels a one-pixel segment from START to END passes."""
    steps = max(1, math.ceil(max(abs(end[0] - start[0]), abs(end[1] - start[1]))))
    return list(dict.fromkeys((round(start[0] + (end[0] - start[0]) * k / steps),
                               round(start[1] + (end[1] - start[1]) * k / steps)) for k in range(steps + 1)))


class Crowded(Exception):
    """A label found no spot clear of lines (raised by `render_palette(strict=True)`)."""


def _place_labels(canvas: _Canvas, city, frame: Frame, geo: _Geometry, strict: bool = False):
    """Label every station; return the label boxes, the side each label went, and the
    leader lines of labels set apart from their station."""
    labeller = _Labeller(canvas, frame, geo, strict)
    for station in dict.fromkeys(s for stations in city.lines.values() for s in stations):
        labeller.place(station)
    labeller.write(canvas.palette.ramp(INK, WHITE))
    leader = canvas.palette.add(LEADER)
    for line in labeller.leaders.values():
        canvas.draw.line(line, fill=leader, width=1)
    return ({s: spot[0] for s, spot in labeller.placed.items()},
            {s: spot[1] for s, spot in labeller.placed.items()}, dict(labeller.leaders))
