"""Whether a synthetic map's station labels can be read, checked on the drawn image.

A label is a problem when, inside its box on the image, a line or a line badge shows through
(a pixel of a line's colour), when it covers a transfer symbol or the legend (their outline
colours), when it overlaps another label, the title or the legend box, when it leaves the
image, or when another station is nearer to it than its own (a reader could not tell whose
it is; a label joined to its station by a leader line is judged by the leader's start).
`rewardmap data synth` lays a city out again until none is left, and `rewardmap data
check` counts them for the synthetic maps of a dataset.
"""

from __future__ import annotations

import numpy as np

from .colors import hex_to_rgb

Box = tuple[int, int, int, int]  # x0, y0, x1, y1, exclusive ends
# What a label may never cover besides lines: transfer symbols and the legend's border.
SYMBOL_COLOURS = ((36, 36, 40), (150, 150, 150))


def label_problems(image, labels: dict[str, Box], positions: dict[str, tuple[int, int]],
                   line_colours, reserved: list[Box] = (), leaders: dict | None = None) -> list[tuple[str, str]]:
    """(station, problem) for each problem of each label, in label order.

    `image`: the map (PIL image or an H x W x 3 array); `labels`: each station's label box;
    `positions`: each station's centre; `line_colours`: the lines' colours ("#rrggbb" or RGB);
    `reserved`: boxes no label may enter (the title, the legend); `leaders`: the leader line
    (x0, y0, x1, y1) of each label set apart from its station, which says whose label it is:
    its start must be nearest to its own station.
    """
    leaders = leaders or {}
    line_rgb = [hex_to_rgb(c) if isinstance(c, str) else tuple(c) for c in line_colours]
    if getattr(image, "mode", None) == "P":  # a palette image: test its indices, no conversion
        packed = np.asarray(image)
        palette = np.array(image.getpalette()[:768], dtype=np.int32).reshape(-1, 3)
        index_colours = [_pack_one(rgb) for rgb in palette]
        lines = np.array([i for i, c in enumerate(index_colours) if c in {_pack_one(rgb) for rgb in line_rgb}])
        symbols = np.array([i for i, c in enumerate(index_colours) if c in {_pack_one(rgb) for rgb in SYMBOL_COLOURS}])
    else:
        packed = _pack(np.asarray(image.convert("RGB") if hasattr(image, "convert") else image))
        lines = np.array([_pack_one(rgb) for rgb in line_rgb])
        symbols = np.array([_pack_one(c) for c in SYMBOL_COLOURS])
    height, width = packed.shape[:2]
    problems = []
    boxes = list(labels.items())
    names = list(positions)
    centres = np.array([positions[s] for s in names], dtype=float).reshape(-1, 2)
    for k, (station, box) in enumerate(boxes):
        x0, y0, x1, y1 = box
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            problems.append((station, "outside the image"))
        inside = packed[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
        if np.isin(inside, lines).any():
            problems.append((station, "crossed by a line or a line badge"))
        if np.isin(inside, symbols).any():
            problems.append((station, "covers a transfer symbol or the legend"))
        for other, b in boxes[k + 1:]:
            if _overlap(box, b):
                problems.append((station, f"overlaps the label of {other}"))
        if any(_overlap(box, r) for r in reserved):
            problems.append((station, "overlaps the title or the legend"))
        if station in leaders:  # the leader's start, not the box, must be nearest its station
            sx, sy = leaders[station][:2]
            x0, y0, x1, y1 = sx, sy, sx, sy
        dx = np.maximum(np.maximum(x0 - centres[:, 0], 0), centres[:, 0] - x1)
        dy = np.maximum(np.maximum(y0 - centres[:, 1], 0), centres[:, 1] - y1)
        distance = np.hypot(dx, dy)
        own = distance[names.index(station)]
        nearer = [names[i] for i in np.flatnonzero(distance < own) if names[i] != station]
        if nearer:
            problems.append((station, f"nearer to {nearer[0]} than to its own station"))
    return problems


def _pack(pixels: np.ndarray) -> np.ndarray:
    rgb = pixels[..., :3].astype(np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _pack_one(rgb) -> int:
    return (int(rgb[0]) << 16) | (int(rgb[1]) << 8) | int(rgb[2])


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
