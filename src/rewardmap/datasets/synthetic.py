"""`data synth`: procedural cities -> the same dataset layout as `data build`.

Each worker draws, renders and writes one city and then asks it its questions with the
builder that real cities use, so synthetic and real data travel the same road.
"""

from __future__ import annotations

import random
from pathlib import Path

from ..errors import InputError, check_choice
from ..fileio import write_jsonl_atomic
from ..questions.kinds import QUESTION_TYPES
from ..workers import worker_pool
from .build import BuildSummary, CitySource, city_records, summarize
from .output import staged

DIFFICULTY_CHOICES = ("easy", "middle", "hard", "mixed")


def city_seeds(seed: int, cities: int) -> list[int]:
    """One independent seed per city, fixed by the dataset seed (city i never depends on N)."""
    return [random.Random(f"{seed}/city/{i}").randrange(2**31) for i in range(cities)]


ASPECTS = {"square": 1.0, "landscape": 1.5, "portrait": 2 / 3}
# `--aspect mixed`: shapes of real maps (width / height), one drawn per city
MIXED_ASPECTS = (1.0, 4 / 3, 1.41, 1.5, 16 / 9, 3 / 4, 1 / 1.41, 2 / 3)


def parse_aspect(text: str) -> float | None:
    """width / height of `--aspect` (square, landscape, portrait or W:H such as 16:9); None
    for mixed (a real map's shape per city)."""
    if text == "mixed":
        return None
    if text in ASPECTS:
        return ASPECTS[text]
    w, _, h = text.partition(":")
    try:
        aspect = float(w) / float(h)
    except (ValueError, ZeroDivisionError):
        aspect = 0.0
    if not 0.4 <= aspect <= 2.5:
        raise InputError(f"--aspect: expected square, landscape, portrait, mixed or W:H between 2:5 and 5:2, "
                         f"got {text!r}")
    return aspect


def _one_city(city_seed: int, difficulty: str, size: int, out: Path, per_city: int,
              seed: int, types: tuple[str, ...], aspect: float | None = 1.0,
              clutter: bool = False) -> tuple[CitySource, list[dict]]:
    from ..synth.city import draw_city, write_city  # heavy imports stay in the workers

    if aspect is None:
        aspect = random.Random(f"{city_seed}/aspect").choice(MIXED_ASPECTS)
    drawn = draw_city(city_seed, difficulty=difficulty, size=size, aspect=aspect, clutter=clutter)
    files, city = write_city(drawn, out), drawn.city
    source = CitySource(files.station_file, files.map_file, city.country, city.slug)
    return source, city_records(source, per_city=per_city, seed=seed, types=types)


def synth_dataset(out: Path, *, cities: int = 10, seed: int = 0, difficulty: str = "mixed",
                  size: int = 1024, per_city: int = 50, types: tuple[str, ...] = QUESTION_TYPES,
                  workers: int = 1, progress=None, overwrite: bool = False,
                  aspect: float | None = 1.0, clutter: bool = False) -> BuildSummary:
    """Write `cities` synthetic cities and their questions under OUT (see datasets.build): a new
    or empty folder, or with `overwrite` one replaced whole (`datasets.output`). `size` is a
    map's longer side, `aspect` its width / height (None: a real map's shape per city);
    `clutter` adds what real maps carry besides the metro (`synth.clutter`)."""
    if cities < 1:
        raise InputError(f"--cities must be at least 1, got {cities}")
    check_choice("--difficulty", difficulty, DIFFICULTY_CHOICES)
    if not 256 <= size <= 8192:
        raise InputError(f"--size must be between 256 and 8192 pixels, got {size}")
    if per_city < 1:
        raise InputError(f"--per-city must be at least 1, got {per_city}")
    with staged(out, overwrite) as staging:
        jobs = [(s, difficulty, size, staging, per_city, seed, types, aspect, clutter)
                for s in city_seeds(seed, cities)]
        results = []
        if workers <= 1:
            for job in jobs:
                results.append(_one_city(*job))
                if progress:
                    progress(1)
        else:
            with worker_pool(workers) as pool:
                for result in pool.map(_one_city, *zip(*jobs), chunksize=max(1, len(jobs) // (workers * 8))):
                    results.append(result)
                    if progress:
                        progress(1)
        sources = [s for s, _ in results]
        records = [r for _, batch in results for r in batch]
        write_jsonl_atomic(staging / "questions.jsonl", records)
    return summarize(Path(out), records, sources)
