"""`data build`: station files (+ maps) -> a self-contained dataset folder.

Layout written under OUT:
    questions.jsonl                   one record per line (schema.BASE_FIELDS + type fields)
    stations/<country>/<city>.json    copies of the station files (records point here)
    maps/<country>/<city>.png         copies of the map images, when given

Every input is read and validated before anything is written, each file is written
atomically, and questions.jsonl comes last: a failed build never leaves a dataset that
looks complete.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fileio import atomic_path, write_jsonl_atomic
from ..images import ImageProblem, check_map
from ..network import Network, load_station_file
from ..questions.city import city_questions
from ..questions.kinds import QUESTION_TYPES
from ..workers import worker_pool
from .output import check_out, staged
from .schema import BASE_FIELDS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class CitySource:
    """One city's input files and its place in the output."""

    station_file: Path
    map_file: Path | None
    country: str
    city: str

    @property
    def json_rel(self) -> str:
        return f"stations/{self.country}/{self.city}.json"

    @property
    def figure_rel(self) -> str | None:
        return f"maps/{self.country}/{self.city}{self.map_file.suffix.lower()}" if self.map_file else None


@dataclass
class BuildSummary:
    out: Path
    cities: int = 0
    records: int = 0
    per_type: Counter = field(default_factory=Counter)
    per_difficulty: Counter = field(default_factory=Counter)
    missing_maps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each invalid station file was left out


def find_cities(stations: Path, maps: Path | None = None) -> list[CitySource]:
    """Every station file under `stations` (<country>/<city>.json or <city>.json) with its
    map under `maps` (same relative place, or <city>.<ext> anywhere below it)."""
    stations = Path(stations)
    if not stations.is_dir():
        raise InputError(f"{stations}: not a folder of station files")
    files = sorted(p for p in stations.rglob("*.json") if not p.name.startswith("."))
    if not files:
        raise InputError(f"{stations}: no station files (*.json) found")
    if maps is not None and not Path(maps).is_dir():
        raise InputError(f"{maps}: not a folder of map images")
    images = _index_images(Path(maps)) if maps else {}
    out, seen = [], {}
    for path in files:
        rel = path.relative_to(stations)
        country = rel.parent.name if rel.parent != Path(".") else "unknown"
        city = path.stem
        if (country, city) in seen:
            raise InputError(f"{path}: city '{country}/{city}' already comes from {seen[country, city]}")
        seen[country, city] = path
        image = images.get((country, city)) or images.get(("", city))
        out.append(CitySource(path, image, country, city))
    return out


def _index_images(maps: Path) -> dict[tuple[str, str], Path]:
    index: dict[tuple[str, str], Path] = {}
    for p in sorted(maps.rglob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            index.setdefault((p.parent.name, p.stem), p)
            index.setdefault(("", p.stem), p)
    return index


def city_records(source: CitySource, *, per_city: int = 50, seed: int = 0,
                 types: tuple[str, ...] = QUESTION_TYPES, network: Network | None = None) -> list[dict]:
    """The complete records of one city (loads its station file unless given)."""
    network = network or load_station_file(source.station_file)
    questions = city_questions(network, per_city=per_city, types=types,
                               seed=f"{seed}/{source.country}/{source.city}")
    return [_record(q, network, source, i) for i, q in enumerate(questions)]


def _record(q: dict, network: Network, source: CitySource, i: int) -> dict:
    full = {
        "id": f"{source.country}-{source.city}-{i:04d}",
        "country": source.country,
        "city": source.city,
        "difficulty_city": network.difficulty,
        "difficulty_question": network.difficulty,  # Plus: the map's; routes set their own
        "question_transfer_count": 0,  # Plus questions ride no route
        "city_line_count": network.line_count,
        "city_transfer_count": network.transfer_count,
        "json": source.json_rel,
        "figure": source.figure_rel,
        "station_2": None,
        **q,
    }
    return {k: full[k] for k in BASE_FIELDS} | {k: v for k, v in full.items() if k not in BASE_FIELDS}


def build_dataset(stations: Path, out: Path, *, maps: Path | None = None, per_city: int = 50,
                  seed: int = 0, types: tuple[str, ...] = QUESTION_TYPES, workers: int = 1,
                  skip_invalid: bool = False, progress=None, overwrite: bool = False) -> BuildSummary:
    """Build OUT from every station file under `stations`. See the module docstring.

    A malformed station file stops the build before anything is written, unless
    `skip_invalid`, which leaves it out and records why in `summary.skipped`.
    `progress`: optional callable(advance: int) called once per finished city. OUT must be new
    or empty, or with `overwrite` it is replaced whole (`datasets.output`).
    """
    if per_city < 1:
        raise InputError(f"--per-city must be at least 1, got {per_city}")
    networks, skipped = {}, []
    for s in find_cities(Path(stations), maps):  # validate every input before writing
        try:
            networks[s] = load_station_file(s.station_file)
        except InputError as e:
            if not skip_invalid:
                raise
            skipped.append(str(e))
            if progress:
                progress(1)
    sources = list(networks)
    if not sources:
        raise InputError(f"{stations}: no valid station files")
    for s in sources:
        if s.map_file:
            try:
                check_map(s.map_file)
            except ImageProblem as e:
                raise InputError(f"{s.map_file}: not a usable map image: {e}") from None
    check_out(Path(out), overwrite)  # before the questions are built
    records: list[dict] = []
    for batch in _map_cities(sources, networks, per_city, seed, types, workers, progress):
        records.extend(batch)
    with staged(out, overwrite) as staging:
        for s in sources:
            _copy(s.station_file, staging / s.json_rel)
            if s.map_file:
                _copy(s.map_file, staging / s.figure_rel)
        write_jsonl_atomic(staging / "questions.jsonl", records)
    summary = summarize(Path(out), records, sources)
    summary.skipped = skipped
    return summary


def _map_cities(sources, networks, per_city, seed, types, workers, progress):
    kwargs = dict(per_city=per_city, seed=seed, types=types)
    if workers <= 1 or len(sources) == 1:
        for s in sources:
            yield city_records(s, network=networks[s], **kwargs)
            if progress:
                progress(1)
        return
    with worker_pool(workers) as pool:
        futures = [pool.submit(city_records, s, **kwargs) for s in sources]
        for f in futures:
            yield f.result()
            if progress:
                progress(1)


def summarize(out: Path, records: list[dict], sources: list[CitySource]) -> BuildSummary:
    summary = BuildSummary(out=out, cities=len(sources), records=len(records))
    summary.per_type.update(r["type"] for r in records)
    summary.per_difficulty.update(r["difficulty_question"] for r in records)
    summary.missing_maps = [f"{s.country}/{s.city}" for s in sources if s.map_file is None]
    return summary


def _copy(src: Path, dst: Path) -> None:
    """Copy atomically; nothing to do when src already is dst (synth writes in place)."""
    if dst.exists() and os.path.samefile(src, dst):
        return
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
