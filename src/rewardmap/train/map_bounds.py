"""Maps brought within the data's pixel bounds before the model's processor sees them, as the
released RewardMap trainer does.

The released trainer shrinks a map whose area is above its `data.max_pixels` (and enlarges one
below `data.min_pixels`) by one factor on both sides, each side truncated to an integer,
nearest-neighbour; the model's processor, loaded without pixel settings, then applies its own
bounds (Qwen2.5-VL-7B-Instruct: 3,136 to 12,845,056 pixels, at most 16,384 image tokens). A
recipe reproduces that with `data.min_pixels` / `data.max_pixels` here and `model.min_pixels` /
`model.max_pixels` left empty. Each map out of bounds is resized once per run, into a folder of
the run, and training reads that copy; a map within bounds is read where it is.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable
from pathlib import Path

from ..fileio import atomic_path
from ..images import quiet_pillow


def bounded_size(width: int, height: int, min_pixels: int | None, max_pixels: int | None) -> tuple[int, int]:
    """The size a (width, height) map is resized to: shrunk to at most `max_pixels`, then grown to
    at least `min_pixels`, one factor on both sides, sides truncated.

    >>> bounded_size(6000, 5400, 3136, 12_845_056)
    (3777, 3400)
    >>> bounded_size(1000, 800, 3136, 12_845_056)
    (1000, 800)
    >>> bounded_size(40, 40, 3136, None)
    (56, 56)
    """
    if max_pixels is not None and width * height > max_pixels:
        factor = math.sqrt(max_pixels / (width * height))
        width, height = int(width * factor), int(height * factor)
    if min_pixels is not None and width * height < min_pixels:
        factor = math.sqrt(min_pixels / (width * height))
        width, height = int(width * factor), int(height * factor)
    return width, height


def bounded_maps(paths: Iterable[str], folder: Path, min_pixels: int | None,
                 max_pixels: int | None) -> dict[str, str]:
    """{map path: the path training reads}: the map itself when it is within bounds, else its
    resized copy in `folder` (made once; its name follows the file, its mtime and the bounds)."""
    from PIL import Image

    out = {}
    for path in sorted(set(paths)):
        out[path] = path
        if min_pixels is None and max_pixels is None:
            continue
        with quiet_pillow(), Image.open(path) as image:
            size = image.size
        new = bounded_size(*size, min_pixels, max_pixels)
        if new == size:
            continue
        stat = os.stat(path)
        key = hashlib.sha256(f"{Path(path).resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{new}".encode()).hexdigest()
        target = folder / f"{Path(path).stem}-{new[0]}x{new[1]}-{key[:12]}.png"
        if not target.is_file():
            with quiet_pillow(), Image.open(path) as image:
                # RGB first, as the released loader converts every map on opening
                resized = image.convert("RGB").resize(new, resample=Image.Resampling.NEAREST)
            with atomic_path(target) as tmp:
                resized.save(tmp, format="PNG")
        out[path] = str(target)
    return out
