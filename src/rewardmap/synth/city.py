"""Synthetic cities: a named network at pixel positions, and the files written for it.

`generate_city` draws everything from `random.Random(seed)`: naming style, plan (lines,
loop, branches), layout and names, redrawing the plan until the city has the requested
map difficulty. `draw_city` lays the city out again (same name and level) until every label
fits; `write_city` writes the ReasonMap station file, the map PNG and a positions file
(station centres, label boxes and leader lines), each atomically.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import check_choice
from ..fileio import write_bytes_atomic, write_json_atomic
from ..network.difficulty import map_difficulty
from .clutter import sheet_words
from .frame import map_frame
from .layout import Network, build_network
from .legibility import label_problems
from .names import (
    STYLES,
    LineLabel,
    branch_label,
    city_name,
    line_labels,
    slugify,
    station_names,
)
from .render import Crowded, other_colours, render_palette

LEVELS = ("easy", "middle", "hard")
DIFFICULTIES = LEVELS + ("mixed",)
MIN_SIZE, MAX_SIZE = 256, 8192
TRANSFER_MARK = " (Transfer Station)"
GRID_NODES = {"easy": 25, "middle": 25, "hard": 27}  # along the longer side; odd: waypoints on even nodes
MIN_ASPECT = 0.4  # width / height from 0.4 (portrait) to 2.5 (landscape)
STATION_SPACING = 2  # stations 2-3 grid steps apart, closer only where lines meet
MAX_LAYOUTS = 64  # layouts `draw_city` tries for one whose labels all fit
# Below this longer side the labels' 6-pixel font floor makes them too large for the map to
# hold them all; such maps are drawn in their first layout (`data check` counts the rest).
LEGIBLE_SIZE = 512


@dataclass
class SynthCity:
    """A synthetic city; `badges` and `paths` are what the renderer needs beyond the files."""

    name: str                                  # readable city name, "Valmora"
    slug: str                                  # file-safe and unique per seed, "valmora_0042"
    country: str                               # always "synthetic"
    lines: dict[str, list[str]]                # line -> station names, no markers; loop repeats its first
    colors: dict[str, str]                     # line -> "#rrggbb"
    positions: dict[str, tuple[int, int]]      # station -> pixel centre
    size: int                                  # the image's longer side
    badges: dict[str, str]                     # line -> short terminus badge text: "1", "A", "M2", "R"
    paths: dict[str, list[tuple[int, int]]]    # line -> pixel centres of every grid node it passes
    aspect: float = 1.0                        # width / height
    style: str = "english"                     # naming style: the language of clutter's words
    clutter: bool = False                      # regional rail, icons, notes (`synth.clutter`)

    @property
    def width(self) -> int:
        return self.size if self.aspect >= 1 else round(self.size * self.aspect)

    @property
    def height(self) -> int:
        return self.size if self.aspect <= 1 else round(self.size / self.aspect)


@dataclass(frozen=True)
class CityFiles:
    station_file: Path
    map_file: Path
    positions_file: Path


def _check_args(seed: int, difficulty: str, size: int, aspect: float) -> None:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    check_choice("difficulty", difficulty, DIFFICULTIES, ValueError)
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} pixels, got {size!r}")
    if not isinstance(aspect, (int, float)) or not MIN_ASPECT <= aspect <= 1 / MIN_ASPECT:
        raise ValueError(f"aspect (width / height) must be from {MIN_ASPECT} to {1 / MIN_ASPECT}, got {aspect!r}")


def _plan(rng: random.Random, level: str, extra: int) -> list:
    """Kinds of lines to lay out: "line"/"loop" main lines, then branch main-line indices."""
    if level == "easy":
        keys = rng.choice((2, 3, 3))
        branches = int(keys == 3 and rng.random() < 0.3)
        loop = rng.random() < 0.1
    elif level == "middle":
        keys = rng.choice((4, 5))
        branches = int(rng.random() < 0.35)
        loop = rng.random() < 0.4
    else:
        keys = min(12, rng.choice((6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 10, 11, 12)) + extra)
        branches = rng.choice((0, 0, 1, 1, 2))
        loop = rng.random() < 0.5
    mains = keys - branches
    kinds: list = ["line"] * mains
    if loop:
        kinds[rng.randrange(mains)] = "loop"
    through = [i for i, k in enumerate(kinds) if k == "line"]
    return kinds + rng.sample(through, min(branches, len(through)))


def _transfers(net: Network) -> int:
    lines_at = Counter(node for stations in net.stations for node in set(stations))
    return sum(n > 1 for n in lines_at.values())


def generate_city(seed: int, difficulty: str = "mixed", size: int = 1024, layout: int = 0,
                  aspect: float = 1.0, clutter: bool = False) -> SynthCity:
    """A deterministic synthetic city for `seed` whose map has the requested difficulty, on
    an image whose longer side is `size` and whose width / height is `aspect`; `layout`
    above 0 lays the same city (name, style, level) out another way."""
    _check_args(seed, difficulty, size, aspect)
    rng = random.Random(seed)
    level = rng.choice(LEVELS) if difficulty == "mixed" else difficulty
    style = rng.choice(STYLES)
    name = city_name(rng, style)
    slug = f"{slugify(name)}_{seed:04d}" if difficulty == "mixed" else f"{slugify(name)}_{level}_{seed:04d}"
    if layout:
        rng.seed(f"{seed}/{layout}")
    for attempt in range(200):
        kinds = _plan(rng, level, extra=attempt // 20)
        mains = [k for k in kinds if isinstance(k, str)]
        labels = line_labels(rng, style, len(mains), mains.index("loop") if "loop" in mains else None)
        labels += [branch_label(labels[k]) for k in kinds[len(mains):]]
        heading, extras, subtitle = sheet_words(style) if clutter else (None, [], None)
        frame = map_frame(size, name, slug, [lb.name for lb in labels], aspect, heading, tuple(extras), subtitle)
        origin, cell, grid = frame.grid(GRID_NODES[level])
        net = build_network(rng, kinds, grid, _blocked(frame, grid, origin, cell), STATION_SPACING)
        if net is not None and map_difficulty(len(kinds), _transfers(net)) == level:
            city = _assemble(rng, name, slug, style, size, kinds, labels, net, origin, cell)
            city.aspect, city.style, city.clutter = aspect, style, clutter
            return city
    raise RuntimeError(f"no {level} city found for seed {seed}")  # never seen in practice


def _blocked(frame, grid: tuple[int, int], origin: tuple[int, int], cell: int) -> set:
    """Grid nodes too close to the title or legend for a line to pass."""
    pad = cell // 2 + frame.line_width
    blocked = set()
    for x0, y0, x1, y1 in (frame.title_box, frame.legend_box):
        xs = [g for g in range(grid[0]) if x0 - pad <= origin[0] + g * cell < x1 + pad]
        ys = [g for g in range(grid[1]) if y0 - pad <= origin[1] + g * cell < y1 + pad]
        blocked.update((x, y) for x in xs for y in ys)
    return blocked


def _assemble(rng: random.Random, name: str, slug: str, style: str, size: int, kinds: list,
              labels: list[LineLabel], net: Network, origin: tuple[int, int], cell: int) -> SynthCity:
    # A branch is listed right after its main line.
    mains = [i for i, k in enumerate(kinds) if isinstance(k, str)]
    order = [j for i in mains for j in [i] + [b for b, k in enumerate(kinds) if k == i]]
    nodes = list(dict.fromkeys(n for i in order for n in net.stations[i]))
    names = dict(zip(nodes, station_names(rng, style, len(nodes), [lb.name for lb in labels])))

    def pixel(node):
        return origin[0] + node[0] * cell, origin[1] + node[1] * cell

    return SynthCity(
        name=name, slug=slug, country="synthetic",
        lines={labels[i].name: [names[n] for n in net.stations[i]] for i in order},
        colors={labels[i].name: labels[i].colour for i in order},
        positions={names[n]: pixel(n) for n in nodes},
        size=size,
        badges={labels[i].name: labels[i].badge for i in order},
        paths={labels[i].name: [pixel(n) for n in net.paths[i]] for i in order},
    )


def transfer_stations(city: SynthCity) -> set[str]:
    """Stations on two or more lines (a branch counts as a line)."""
    lines_at = Counter(s for stations in city.lines.values() for s in set(stations))
    return {s for s, n in lines_at.items() if n > 1}


def station_file_mapping(city: SynthCity) -> dict[str, list[str]]:
    """The ReasonMap station-file object: transfer stations carry " (Transfer Station)"."""
    transfers = transfer_stations(city)
    return {line: [s + TRANSFER_MARK if s in transfers else s for s in stations]
            for line, stations in city.lines.items()}


@dataclass
class DrawnCity:
    """A city, its map, each station's label box and leader line, and what is left of label
    problems (`synth.legibility`; none unless every layout tried had some)."""

    city: SynthCity
    image: object
    labels: dict
    leaders: dict
    reserved: list
    problems: list


def draw(city: SynthCity, strict: bool = False) -> DrawnCity:
    """Render CITY and check its labels on the image (`strict`: see `render_palette`)."""
    image, labels, leaders, reserved = render_palette(city, strict)
    problems = label_problems(image, labels, city.positions, [*city.colors.values(), *other_colours(city)],
                              reserved, leaders)
    return DrawnCity(city, image, labels, leaders, reserved, problems)


def draw_city(seed: int, difficulty: str = "mixed", size: int = 1024, aspect: float = 1.0,
              clutter: bool = False) -> DrawnCity:
    """The city of SEED in the first of `MAX_LAYOUTS` layouts whose labels all fit (no line
    through a label, no overlap, none nearer another station); failing that, or for a map
    smaller than `LEGIBLE_SIZE`, its first layout, label problems and all."""
    for layout in range(MAX_LAYOUTS if size >= LEGIBLE_SIZE else 0):
        try:  # a layout is given up at its first label that cannot be placed clear of lines
            drawn = draw(generate_city(seed, difficulty, size, layout, aspect, clutter), strict=True)
        except Crowded:
            continue
        if not drawn.problems:
            return drawn
    return draw(generate_city(seed, difficulty, size, 0, aspect, clutter))  # `data check` counts its problems


def write_city(city: SynthCity | DrawnCity, root: Path) -> CityFiles:
    """Write stations/, maps/ and positions/ files under `root`/<kind>/synthetic/<slug>
    (a `SynthCity` is drawn first)."""
    drawn = city if isinstance(city, DrawnCity) else draw(city)
    city, image, labels, leaders = drawn.city, drawn.image, drawn.labels, drawn.leaders
    root = Path(root)
    files = CityFiles(root / "stations" / city.country / f"{city.slug}.json",
                      root / "maps" / city.country / f"{city.slug}.png",
                      root / "positions" / city.country / f"{city.slug}.json")
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=False, compress_level=1)
    write_json_atomic(files.station_file, station_file_mapping(city))
    write_bytes_atomic(files.map_file, png.getvalue())
    write_json_atomic(files.positions_file, {
        "size": city.size, "width": city.width, "height": city.height,
        "stations": {s: list(xy) for s, xy in city.positions.items()},
        "lines": dict(city.colors),
        "labels": {s: list(box) for s, box in labels.items()},  # what `legibility.label_problems` checks
        "leaders": {s: [round(v, 1) for v in line] for s, line in leaders.items()},
        "reserved": [list(box) for box in drawn.reserved],
        "other_colours": ["#%02x%02x%02x" % rgb for rgb in other_colours(city)],
    })
    return files
