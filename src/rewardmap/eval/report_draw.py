"""Maps for the evaluation report: thumbnails as data URLs, and a predicted and a reference
route drawn on a synthetic map whose station positions are known.

A route is drawn section by section: when the departure and the arrival are both on the
section's line (or, failing a line of that name, on some line of the station file), the
stops ridden between them are visited in the file's order; otherwise the two stops are
joined by a straight dashed segment. Stops are matched to positions by `eclean`ed name.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from ..answers.route import lenient_fields
from ..fileio import is_file
from ..network import Network, StationFiles, eclean

REFERENCE_COLOUR = (0, 200, 255)   # cyan: the reference route (drawn wide, underneath)
PREDICTED_COLOUR = (255, 0, 200)   # magenta: the model's route (drawn narrow, on top)
THUMB_MAX = 480                    # longest side of a map thumbnail, pixels

Section = tuple[str, str, str]     # (line name, departure, arrival) as written
Point = tuple[float, float]


def data_url(image: Image.Image, max_side: int = THUMB_MAX) -> str:
    """A downscaled copy of `image` as a PNG (or JPEG, when smaller) data URL."""
    image = image.copy()
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    png, jpeg = io.BytesIO(), io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    image.save(jpeg, format="JPEG", quality=85)
    kind, data = min((("png", png.getvalue()), ("jpeg", jpeg.getvalue())), key=lambda kv: len(kv[1]))
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def png_data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def safe_child(root: str | Path, *parts: str) -> Path | None:
    """root/parts when it stays inside root, else None (record fields are untrusted)."""
    root = Path(root).resolve()
    path = root.joinpath(*parts).resolve()
    return path if path.is_relative_to(root) else None


def load_positions(data_dir: str | Path, record: Mapping) -> dict | None:
    """`positions/<country>/<city>.json` of a synthetic record, or None when there is none."""
    country, city = record.get("country"), record.get("city")
    if not isinstance(country, str) or not isinstance(city, str):
        return None
    path = safe_child(data_dir, "positions", country, f"{city}.json")
    if path is None or not is_file(path):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stations = {eclean(name): (float(xy[0]), float(xy[1])) for name, xy in data["stations"].items()}
        return {"size": float(data.get("size") or 0), "stations": stations}
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def load_network(files: StationFiles, record: Mapping) -> Network | None:
    """The record's station network (`json`: a path under `files.root` or the object itself)."""
    source = record.get("json")
    if isinstance(source, str) and not source.lstrip().startswith("{") and files.root is not None \
            and safe_child(files.root, source) is None:
        return None
    try:
        return files.load(source)
    except Exception:  # noqa: BLE001 - a report draws what it can
        return None


def reference_plans(record: Mapping) -> list[list[Section]]:
    """The record's reference plans (`routes`: a list of plans or an object of plans)."""
    routes = record.get("routes") or []
    plans = list(routes.values()) if isinstance(routes, Mapping) else list(routes)
    out = []
    for plan in plans:
        if isinstance(plan, Sequence) and not isinstance(plan, str):
            out.append([(str(s.get("route_name", "")), str(s.get("departure_stop", "")),
                         str(s.get("arrival_stop", ""))) for s in plan if isinstance(s, Mapping)])
    return out


def predicted_sections(response: str | None) -> list[Section]:
    """The sections of a route answer, read leniently (as the robust evaluation does)."""
    if not isinstance(response, str):
        return []
    return [(f.name, f.departure, f.arrival) for f in lenient_fields(response)[0]]


def section_stops(network: Network | None, section: Section) -> tuple[list[str], bool]:
    """(`eclean`ed stops visited in order, whether they follow a line of the file)."""
    name, departure, arrival = section
    a, b = eclean(departure), eclean(arrival)
    if network is not None:
        lines = list(network.lines.values())
        same_name = [line for line in lines if eclean(line.name) == eclean(name)]
        for line in same_name + [line for line in lines if line not in same_name]:
            keys = {eclean(s): s for s in line.stations}
            if a in keys and b in keys and a != b:
                vias = line.vias(keys[a], keys[b])[0]
                return [a, *(eclean(s) for s in vias), b], True
    return [a, b], False


def route_polylines(network: Network | None, positions: Mapping[str, Point],
                    sections: Sequence[Section]) -> list[tuple[list[Point], bool]]:
    """One (points, follows a line) per section, with the stops that have no position left out."""
    out = []
    for section in sections:
        stops, on_line = section_stops(network, section)
        points = [positions[s] for s in stops if s in positions]
        if points:
            out.append((points, on_line))
    return out


def draw_routes(image: Image.Image, positions: Mapping, network: Network | None,
                reference: Sequence[Section], predicted: Sequence[Section]) -> tuple[Image.Image, dict]:
    """A copy of the map with the reference (wide) and predicted (narrow) routes drawn.

    Returns the image and, for the caption, how many sections of each were drawn.
    """
    image = image.convert("RGB")
    scale = image.width / positions["size"] if positions.get("size") else 1.0
    where = {k: (x * scale, y * scale) for k, (x, y) in positions["stations"].items()}
    width = max(3, round(max(image.size) / 90))
    draw = ImageDraw.Draw(image)
    drawn = {}
    for key, sections, colour, w in (("reference", reference, REFERENCE_COLOUR, 3 * width),
                                     ("predicted", predicted, PREDICTED_COLOUR, width)):
        polylines = route_polylines(network, where, sections)
        drawn[key] = len(polylines)
        for halo, c, lw in ((True, (255, 255, 255), w + 2), (False, colour, w)):  # white halo first
            for points, on_line in polylines:
                if on_line and len(points) > 1:
                    draw.line(points, fill=c, width=lw, joint="curve")
                elif len(points) > 1:
                    _dashed(draw, points[0], points[-1], c, lw)
                for p in points:
                    _dot(draw, p, lw * 0.5, c)
            if polylines:  # the journey's ends, larger
                for p in (polylines[0][0][0], polylines[-1][0][-1]):
                    _dot(draw, p, lw * 0.8 if not halo else lw * 0.8 + 1, c)
    return image, drawn


def _dot(draw: ImageDraw.ImageDraw, p: Point, r: float, colour) -> None:
    draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=colour)


def _dashed(draw: ImageDraw.ImageDraw, a: Point, b: Point, colour, width: int) -> None:
    length = ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5
    dash = max(4.0, 2.5 * width)
    n = max(1, int(length // dash))
    for i in range(0, n, 2):
        t0, t1 = i / n, min(1.0, (i + 1) / n)
        draw.line([(a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0),
                   (a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1)], fill=colour, width=width)
