"""Import the official ReasonMap, ReasonMap-Plus and ReasonMap-Train datasets.

Why: the three Hugging Face datasets store the same things in different ways. ReasonMap
embeds each map as a base64 PNG and the station data as an object, and keeps its reference
routes as an object of plans; ReasonMap-Plus and ReasonMap-Train point at `./maps/...png`
and `./stations/...json` files that live in the authors' code repositories, not in the
datasets. The rest of rewardmap should see one layout only:

    DIR/questions.jsonl                      one record per line (schema.BASE_FIELDS + extras)
    DIR/maps/<country>/<city>.png            one file per distinct map
    DIR/stations/<country>/<city>.json       one file per distinct station file

with `figure` and `json` holding POSIX paths relative to DIR. A real map is several
megabytes and the ReasonMap rows of a city all repeat it, so files are deduplicated by
content. Everything is built in a staging folder beside DIR and renamed into place only when
every row converted: a bad row raises `InputError` and leaves nothing half-written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import os
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from PIL import Image

from ..errors import InputError, where
from ..fileio import (MAP_FILE_MAX_BYTES, STATION_FILE_MAX_BYTES, is_file, parse_json, read_capped, read_jsonl,
                      write_jsonl_atomic)
from ..images import ImageProblem, check_map, quiet_pillow
from .output import check_out, staged
from .schema import BASE_FIELDS, DIFFICULTIES, PLUS_TYPES, QUESTION_TYPES, ROUTE_TYPE

# A .json source is parsed whole; ReasonMap-Train with its maps inline is a few GB at most.
IMPORT_JSON_MAX_BYTES = 2 * 2**30
_SPLIT_WORDS = ("train", "test", "validation", "valid", "val", "dev")
_TYPES = {t.lower(): t for t in QUESTION_TYPES}  # also accepts "torf1", "Counting 1"
_YES_NO = {"yes": 1, "true": 1, "no": 0, "false": 0}
_ANSWER_RANGE = {"TorF1": (0, 1), "TorF2": (0, 1), "Counting1": (0, 3)}
_CHOICES = re.compile(r"A\)\s*(-?\d+)\s*B\)\s*(-?\d+)\s*C\)\s*(-?\d+)\s*D\)\s*(-?\d+)")
_ASKED_LINE = re.compile(r"\bon the line\s+(.+?)\s*\?")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Source columns the record rebuilds under contract names; every other column is kept as is.
_CONSUMED = set(BASE_FIELDS) | {"question_short", "question_long", "routes", "line", "choices"}


@dataclass
class ImportSummary:
    """What an import wrote: counts for the CLI to print, and what needs the user's attention.

    `by_dataset` is keyed by the detected source: reasonmap, reasonmap-plus or reasonmap-train.
    """

    out: Path
    records: int = 0
    by_dataset: Counter = field(default_factory=Counter)
    by_split: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    maps_written: int = 0
    stations_written: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # field -> paths not found
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A few human-readable lines, e.g. for `rewardmap data import`."""

        def counts(c: Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"

        lines = [
            f"imported {self.records} records into {self.out}",
            f"  datasets: {counts(self.by_dataset)}",
            f"  splits: {counts(self.by_split)}",
            f"  types: {counts(self.by_type)}",
            f"  maps written: {self.maps_written}, station files written: {self.stations_written}",
        ]
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def import_dataset(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    split: str | None = None,
    strict: bool = False,
    overwrite: bool = False,
    search_dirs: Sequence[str | os.PathLike] = (),
    progress: bool = False,
) -> ImportSummary:
    """Convert an official dataset at `src` into the project's record folder `out`.

    `src` is a `datasets` `save_to_disk` folder (Dataset or DatasetDict), a `.parquet` file or
    a folder of them (e.g. a Hub snapshot; the split comes from the file name), or a `.json`
    (list of records) / `.jsonl` file. Every split is imported unless `split` names one;
    several splits go into one questions.jsonl with a `split` field.

    Relative `figure` / `json` paths (ReasonMap-Plus and -Train use `./maps/<country>/<city>.png`
    and `./stations/<country>/<city>.json`) are looked up under `src` (its folder for a file),
    that folder's parent, then each of `search_dirs` (e.g. a checkout holding `maps/` and
    `stations/`). A path found nowhere stays in the record as given and is listed in
    `ImportSummary.missing`; with `strict=True` it is an error instead. A path that leads
    outside those folders (absolute, `..`, or a symlink out) is an error either way, and the
    file is not read: a downloaded dataset must not copy the user's files into its import.

    `out` must be absent or empty unless `overwrite=True`. `progress=True` shows a rich
    progress bar per split. Raises `InputError` (one line naming `src`, the split and row,
    and the field) on the first bad row; `out` is then left as it was.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise InputError(f"{src}: no such file or folder")
    if out.resolve() == src.resolve() or out.resolve() in src.resolve().parents:
        raise InputError(f"{out}: the output folder must not contain the source {src}")
    check_out(out, overwrite)
    splits = _selected_splits(src, split)
    with staged(out, overwrite) as staging:
        ctx = _Context(src, staging, _search_roots(src, search_dirs), strict, ImportSummary(out=out))
        with _progress_bar(progress) as bar:
            records = _records(splits, ctx, bar, tag_split=len(splits) > 1)
            ctx.summary.records = write_jsonl_atomic(staging / "questions.jsonl", records)
    return ctx.finish()


def unresolved_paths(
    src: str | os.PathLike,
    *,
    split: str | None = None,
    search_dirs: Sequence[str | os.PathLike] = (),
) -> dict[str, set[str]]:
    """The `figure` and `json` paths of `src` (all splits, or `split`) that `import_dataset`
    given these `search_dirs` would find nowhere, by field: what is left to fetch before an
    import. Reads every row, so meant for sources that point at files (ReasonMap-Plus and
    -Train), not for ReasonMap's gigabytes of inline maps."""
    src = Path(src)
    roots = _search_roots(src, search_dirs)
    missing: dict[str, set[str]] = {}
    for part in _selected_splits(src, split):
        for row in part.rows():
            for name in ("figure", "json"):
                path = _file_path(row.get(name), name)
                if path is not None and not any(is_file(p) for p in _candidates(path, roots)):
                    missing.setdefault(name, set()).add(path)
    return missing


def _file_path(value, field: str) -> str | None:
    """VALUE when it names a file rather than holding the map or station data inline."""
    if field == "figure" and isinstance(value, (str, dict)):
        try:
            value = _figure_data(value)
        except _RowError:
            return None  # a bad value: import_dataset reports it with its row
    elif field == "json" and isinstance(value, str) and value.lstrip().startswith("{"):
        return None
    return value if isinstance(value, str) else None


def _search_roots(src: Path, search_dirs: Sequence[str | os.PathLike]) -> list[Path]:
    base = src if src.is_dir() else src.parent
    return list(dict.fromkeys([base, base.parent, *map(Path, search_dirs)]))


def _candidates(value: str, roots: list[Path]) -> list[Path]:
    """Where a figure/json path may be: itself when absolute, else under each root in turn."""
    path = Path(value.strip().removeprefix("file://"))
    return [path] if path.is_absolute() else [root / path for root in roots]


# --------------------------------------------------------------------------- reading sources


@dataclass
class _Split:
    name: str
    columns: set[str]
    types: list  # the raw `type` column, read up front to tell the datasets apart
    num_rows: int
    rows: Callable[[], Iterator[dict]]


def _load_splits(src: Path) -> list[_Split]:
    if src.is_dir():
        if (src / "dataset_dict.json").is_file() or (src / "state.json").is_file():
            return _from_saved(src)
        files = sorted(p for p in src.rglob("*.parquet") if not _hidden(p, src))
        if not files:
            raise InputError(f"{src}: neither a `datasets` save_to_disk folder nor a folder of .parquet files")
        return _from_parquet(files)
    suffix = src.suffix.lower()
    if suffix == ".parquet":
        return _from_parquet([src])
    if suffix in (".json", ".jsonl"):
        return [_from_json(src)]
    raise InputError(f"{src}: unsupported input; expected a save_to_disk folder, .parquet, .json or .jsonl")


def _selected_splits(src: Path, split: str | None) -> list[_Split]:
    splits = _load_splits(src)
    if split is None:
        return splits
    chosen = [s for s in splits if s.name == split]
    if not chosen:
        raise InputError(f"{src}: no split {split!r}; it has {', '.join(s.name for s in splits) or 'none'}")
    return chosen


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _split_name(path: Path) -> str:
    """`data/test-00000-of-00001.parquet` -> test, `reasonmap-1008-validation.parquet` -> validation."""
    stem = re.sub(r"-\d+-of-\d+$", "", path.name.split(".")[0])
    for token in [*re.split(r"[-_]", stem), path.parent.name]:
        if token.lower() in _SPLIT_WORDS:
            return token.lower()
    return stem


def _from_saved(src: Path) -> list[_Split]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(src))
    except Exception as e:  # datasets raises several unrelated types for a damaged folder
        raise InputError(f"{src}: could not load the saved dataset ({_one_line(e)})") from None
    if isinstance(loaded, datasets.DatasetDict):
        parts = list(loaded.items())
    else:
        parts = [(str(loaded.split or "train"), loaded)]
    splits = []
    for name, ds in parts:
        for column, feature in ds.features.items():
            if isinstance(feature, datasets.Image):  # keep the stored bytes; no decode/re-encode
                ds = ds.cast_column(column, datasets.Image(decode=False))
        types = list(ds["type"]) if "type" in ds.column_names else []
        splits.append(_Split(name, set(ds.column_names), types, len(ds), lambda ds=ds: iter(ds)))
    return splits


def _from_parquet(files: list[Path]) -> list[_Split]:
    import pyarrow.parquet as pq

    groups: dict[str, list] = {}
    for path in files:
        try:
            groups.setdefault(_split_name(path), []).append(pq.ParquetFile(path))
        except Exception as e:  # pyarrow.ArrowInvalid and OSError alike
            raise InputError(f"{path}: not a readable parquet file ({_one_line(e)})") from None

    def rows(parts) -> Iterator[dict]:
        for pf in parts:
            for batch in pf.iter_batches(batch_size=16):  # real ReasonMap rows carry ~7 MB maps
                yield from batch.to_pylist()

    splits = []
    for name, parts in groups.items():
        columns = {c for pf in parts for c in pf.schema_arrow.names}
        types = [t for pf in parts if "type" in pf.schema_arrow.names
                 for t in pf.read(columns=["type"]).column(0).to_pylist()]
        total = sum(pf.metadata.num_rows for pf in parts)
        splits.append(_Split(name, columns, types, total, lambda parts=parts: rows(parts)))
    return splits


def _from_json(path: Path) -> _Split:
    if path.suffix.lower() == ".jsonl":
        records = [record for _, record in read_jsonl(path)]
    else:
        records = parse_json(read_capped(path, IMPORT_JSON_MAX_BYTES, "JSON source"), str(path))
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InputError(f"{path}: expected a JSON list of record objects")
    columns = {key for record in records for key in record}
    types = [record.get("type") for record in records]
    return _Split(_split_name(path), columns, types, len(records), lambda: iter(records))


def _dataset_kind(split: _Split) -> str:
    """ReasonMap rows carry question_short; Plus rows a Plus type; Train mixes Plus and planning."""
    types = {_TYPES.get(_type_key(t)) for t in split.types if not _missing(t)}
    plus = bool(types & set(PLUS_TYPES))
    routes = "question_short" in split.columns or ROUTE_TYPE in types
    if plus:
        return "reasonmap-train" if routes else "reasonmap-plus"
    return "reasonmap" if "question_short" in split.columns else "reasonmap-train"


# --------------------------------------------------------------------------- converting rows


class _RowError(Exception):
    """A bad value in one row; the caller adds the file, split and row."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class _Files:
    """Files of one kind (maps or stations) in the staging folder, one per distinct content."""

    def __init__(self, root: Path, folder: str, suffix: str):
        self.root, self.folder, self.suffix = root, folder, suffix
        self.by_key: dict[str, str] = {}  # content hash -> relative path
        self.names: set[str] = set()

    def add(self, key: str, country: str, city: str, data: bytes) -> str:
        stem = f"{self.folder}/{_safe_name(country)}/{_safe_name(city)}"
        rel = f"{stem}{self.suffix}"
        if rel in self.names:  # a different file already claims this city
            rel = f"{stem}-{key[:8]}{self.suffix}"
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_bytes(data)  # the staging folder as a whole is the atomic unit
        self.by_key[key] = rel
        self.names.add(rel)
        return rel


class _Context:
    """State shared by all rows of one import: where to look, what was written, what is missing."""

    def __init__(self, src: Path, staging: Path, roots: list[Path], strict: bool, summary: ImportSummary):
        self.src, self.roots, self.strict, self.summary = src, roots, strict, summary
        self.maps = _Files(staging, "maps", ".png")
        self.stations = _Files(staging, "stations", ".json")
        self.missing: dict[str, set[str]] = {}
        self.by_path: dict[str, dict[str, str]] = {}  # field -> source path -> record value
        self.dropped: Counter = Counter()  # column -> rows whose value was not JSON
        self.renamed_ids = 0
        self.routeless = 0

    def resolve(self, value: str, field: str) -> Path | None:
        looked = ", ".join(str(root) for root in self.roots)
        for candidate in _candidates(value, self.roots):
            if is_file(candidate):
                real = candidate.resolve()
                if not any(real.is_relative_to(root.resolve()) for root in self.roots):
                    raise _RowError(field, f"path {value!r} leads outside the folders files are read from "
                                           f"({looked}); not read")
                return candidate
        if self.strict:
            raise _RowError(field, f"file {value!r} not found (looked under {looked})")
        self.missing.setdefault(field, set()).add(value)
        return None

    def from_path(self, value: str, field: str, load: Callable[[Path], str]) -> str:
        """Resolve and load each distinct path once: Plus rows all repeat their city's paths."""
        known = self.by_path.setdefault(field, {})
        if value not in known:
            path = self.resolve(value, field)
            known[value] = value if path is None else load(path)  # unresolved: kept as given
        return known[value]

    def figure(self, value, country: str, city: str) -> str:
        data = _figure_data(value)
        if isinstance(data, str):
            return self.from_path(data, "figure", lambda path: self.map_file(
                _read(path, MAP_FILE_MAX_BYTES, "map", "figure"), country, city))
        return self.map_file(data, country, city)

    def map_file(self, data: bytes, country: str, city: str) -> str:
        key = hashlib.sha256(data).hexdigest()
        return self.maps.by_key.get(key) or self.maps.add(key, country, city, _as_png(data))

    def station(self, value, country: str, city: str) -> str | None:
        if _missing(value):
            return None
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = _parse_json(value, "json")
        if isinstance(value, dict):
            # A station object read back from Arrow is a struct holding every city's line
            # names; the lines of other cities come back as None.
            obj = {line: stations for line, stations in value.items() if stations is not None}
            data = (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            return self.station_file(obj, data, country, city)
        if isinstance(value, str):
            def load(path: Path) -> str:
                data = _read(path, STATION_FILE_MAX_BYTES, "station file", "json")  # copied as is
                return self.station_file(_parse_json(data, "json"), data, country, city)

            return self.from_path(value, "json", load)
        raise _RowError("json", f"expected a station object or a path, got {_short(value)}")

    def station_file(self, obj, data: bytes, country: str, city: str) -> str:
        if not (isinstance(obj, dict) and obj and all(
                isinstance(v, list) and all(isinstance(s, str) for s in v) for v in obj.values())):
            raise _RowError("json", "expected an object mapping line names to lists of station names")
        key = hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return self.stations.by_key.get(key) or self.stations.add(key, country, city, data)

    def finish(self) -> ImportSummary:
        s = self.summary
        s.maps_written, s.stations_written = len(self.maps.by_key), len(self.stations.by_key)
        s.missing = {f: sorted(paths) for f, paths in sorted(self.missing.items())}
        for f, paths in s.missing.items():
            shown = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
            s.warnings.append(f"{len(paths)} {f} path(s) not found, kept as given: {shown} "
                              "(give search_dirs, or strict=True to fail)")
        for column, n in sorted(self.dropped.items()):
            s.warnings.append(f"column {column!r} dropped from {n} record(s): not JSON-serialisable")
        if self.renamed_ids:
            s.warnings.append(f"{self.renamed_ids} duplicate id(s) replaced; the original is in `source_id`")
        if self.routeless:
            s.warnings.append(f"{self.routeless} route question(s) have no `routes` in the source")
        return s


def _records(splits: list[_Split], ctx: _Context, bar, tag_split: bool) -> Iterator[dict]:
    seen: set[str] = set()
    for split in splits:
        kind = _dataset_kind(split)
        rows = split.rows()
        if bar is not None:
            rows = bar.track(rows, total=split.num_rows, description=f"{kind} {split.name}")
        for index, row in enumerate(rows):
            try:
                record = _convert(row, ctx)
            except _RowError as e:
                raise InputError(f"{where(ctx.src, f'{split.name} row {index}', e.field)}: {e}") from None
            _assign_id(record, row.get("id"), f"{kind}-{split.name}-{index:05d}", seen, ctx)
            if tag_split:
                record.setdefault("split", split.name)
            for counter, key in ((ctx.summary.by_dataset, kind), (ctx.summary.by_split, split.name),
                                 (ctx.summary.by_type, record["type"])):
                counter[key] += 1
            yield record


def _assign_id(record: dict, source, fallback: str, seen: set[str], ctx: _Context) -> None:
    candidate = fallback if _missing(source) or source == "" else str(source)
    if candidate in seen:
        record["source_id"] = source
        ctx.renamed_ids += 1
        candidate, n = fallback, 2
        while candidate in seen:
            candidate, n = f"{fallback}-{n}", n + 1
    seen.add(candidate)
    record["id"] = candidate


def _convert(row: dict, ctx: _Context) -> dict:
    qtype = _question_type(row)
    route = qtype == ROUTE_TYPE
    # ReasonMap has question_short/question_long; Train's route rows have `question`.
    question_key = "question" if not _missing(row.get("question")) else "question_short"
    country, city = _text(row, "country"), _text(row, "city")
    difficulty_city = _difficulty(row, "difficulty_city")
    transfers = _count(row, "question_transfer_count")
    if transfers is None and not route:
        transfers = 0  # the project's convention: a Plus question rides no route
    record = {
        "id": None,
        "type": qtype,
        "question": _text(row, question_key, field="question"),
        "answer": ("" if _missing(row.get("answer")) else row["answer"]) if route
        else _plus_answer(row.get("answer"), qtype),
        "station_1": _optional(row, "station_1"),
        "station_2": _optional(row, "station_2"),
        "country": country,
        "city": city,
        "difficulty_city": difficulty_city,
        "difficulty_question": _difficulty(row, "difficulty_question")
        or _default_question_difficulty(route, difficulty_city, transfers),
        "question_transfer_count": transfers,
        "city_line_count": _count(row, "city_line_count"),
        "city_transfer_count": _count(row, "city_transfer_count"),
        "json": ctx.station(row.get("json"), country, city),
        "figure": ctx.figure(_required(row, "figure"), country, city),
    }

    if route:
        for name in ("station_1", "station_2"):
            if record[name] is None:
                raise _RowError(name, "missing (a route question needs both stations)")
        if _missing(row.get("routes")):
            ctx.routeless += 1
        else:
            record["routes"] = _routes(row["routes"])
        if not _missing(row.get("question_long")):
            record["question_long"] = row["question_long"]
    elif qtype == "TorF2":
        asked = _optional(row, "line") or _last_match(_ASKED_LINE, record["question"])
        if asked:
            record["line"] = asked
    elif qtype == "Counting1":
        choices = row.get("choices")
        if not (isinstance(choices, list) and len(choices) == 4 and all(type(c) is int for c in choices)):
            found = _CHOICES.findall(record["question"])
            choices = [int(c) for c in found[-1]] if found else None
        if choices:
            record["choices"] = choices

    consumed = _CONSUMED - ({"question_short"} if question_key == "question" else set())
    for key, value in row.items():
        if key in consumed or key in record or _missing(value):
            continue
        if _json_safe(value):
            record[key] = value
        else:
            ctx.dropped[key] += 1
    return record


def _question_type(row: dict) -> str:
    raw = row.get("type")
    if _missing(raw):
        if not _missing(row.get("question_short")) or not _missing(row.get("routes")):
            return ROUTE_TYPE  # ReasonMap itself has no `type` column
        raise _RowError("type", "missing")
    qtype = _TYPES.get(_type_key(raw))
    if qtype is None:
        raise _RowError("type", f"unknown question type {_short(raw)}; expected one of {', '.join(QUESTION_TYPES)}")
    return qtype


def _type_key(raw) -> str:
    return re.sub(r"[\s_-]", "", str(raw)).lower()


def _plus_answer(value, qtype: str) -> int:
    """Plus answers are integers: an option index, a count, or 1 yes / 0 no."""
    if _missing(value):
        raise _RowError("answer", "missing")
    answer = value
    if isinstance(value, bool) or (isinstance(value, float) and value.is_integer()):
        answer = int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"[+-]?\d+", text):
            answer = int(text)
        elif qtype.startswith("TorF") and text in _YES_NO:
            answer = _YES_NO[text]
        elif qtype == "Counting1" and text in ("a", "b", "c", "d"):
            answer = "abcd".index(text)
    if type(answer) is not int:
        raise _RowError("answer", f"expected an integer answer for {qtype}, got {_short(value)}")
    low, high = _ANSWER_RANGE.get(qtype, (0, None))
    if answer < low or (high is not None and answer > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise _RowError("answer", f"{answer} is out of range for {qtype} ({allowed})")
    return answer


def _routes(value) -> list:
    """Reference plans as a list, in source order (ReasonMap stores an object name -> plan)."""
    if isinstance(value, str):
        value = _parse_json(value, "routes")
    if isinstance(value, dict):
        # From Arrow, the object is a struct of every row's plan names; absent plans are None.
        value = [plan for plan in value.values() if plan is not None]
    if not isinstance(value, list) or not value:
        raise _RowError("routes", f"expected a non-empty list or object of plans, got {_short(value)}")
    for plan in value:
        if not (isinstance(plan, list) and plan and all(
                isinstance(s, dict) and {"route_name", "departure_stop", "arrival_stop"} <= s.keys()
                for s in plan)):
            raise _RowError("routes", "each plan must be a list of sections with route_name, "
                                      "departure_stop and arrival_stop")
    return value


def _figure_data(value) -> bytes | str:
    """Image bytes from raw bytes, base64 (optionally a data: URL) or a datasets.Image dict
    (read undecoded, see _from_saved); or the path (str) to load them from."""
    if isinstance(value, dict):  # datasets.Image storage: {"bytes": ..., "path": ...}
        if value.get("bytes"):
            return bytes(value["bytes"])
        value = value.get("path")
        if not value:
            raise _RowError("figure", "image has neither bytes nor a path")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, str):
        raise _RowError("figure", f"expected an image, base64 text or a path, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise _RowError("figure", f"data URL is not base64 ({header[:40]})")
    elif "." in text:  # base64 has no dots; paths (./maps/x.png) do
        return value
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _RowError("figure", f"not valid base64 and not a path: {_short(value)}") from None


def _as_png(data: bytes) -> bytes:
    """The bytes to store for a map: PNG kept byte for byte (`check_map` has decoded it
    whole), anything else converted to PNG."""
    try:
        check_map(data)
    except ImageProblem as e:
        raise _RowError("figure", f"not a usable map image: {e}") from None
    if data.startswith(_PNG_MAGIC):
        return data
    try:
        with quiet_pillow(), Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            return buffer.getvalue()
    except (OSError, SyntaxError, ValueError) as e:
        raise _RowError("figure", f"not a readable image ({_one_line(e)})") from None


def _default_question_difficulty(route: bool, difficulty_city: str | None, transfers: int | None):
    """When the source omits it: Plus questions take the map's difficulty; route questions
    0 transfers easy, 1 middle, 2+ hard, as ReasonMap assigns them."""
    if not route:
        return difficulty_city
    return None if transfers is None else DIFFICULTIES[min(transfers, 2)]


# --------------------------------------------------------------------------- small helpers


def _missing(value) -> bool:
    """None, or NaN (pandas-written parquet fills absent numbers with NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(row: dict, key: str, field: str | None = None) -> str:
    value = row.get(key)
    if _missing(value) or not isinstance(value, str) or not value.strip():
        raise _RowError(field or key, "missing" if _missing(value) else f"expected text, got {_short(value)}")
    return value


def _required(row: dict, key: str):
    value = row.get(key)
    if _missing(value):
        raise _RowError(key, "missing")
    return value


def _optional(row: dict, key: str):
    value = row.get(key)
    return None if _missing(value) else value


def _count(row: dict, key: str) -> int | None:
    value = row.get(key)
    if _missing(value):
        return None
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _RowError(key, f"expected a non-negative whole number, got {_short(value)}")


def _difficulty(row: dict, key: str) -> str | None:
    value = row.get(key)
    if _missing(value):
        return None
    level = str(value).strip().lower()
    if level not in DIFFICULTIES:
        raise _RowError(key, f"expected one of {', '.join(DIFFICULTIES)}, got {_short(value)}")
    return level


def _read(path: Path, limit: int, what: str, field: str) -> bytes:
    try:
        return read_capped(path, limit, what)
    except InputError as e:
        raise _RowError(field, str(e)) from None


def _parse_json(text: str | bytes, field: str):
    try:
        return parse_json(text, "")
    except InputError as e:
        raise _RowError(field, str(e).removeprefix(": ")) from None


def _json_safe(value) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _last_match(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.findall(text)
    return found[-1] if found else None


def _safe_name(name: str) -> str:
    """A country or city as one path component: no separators, never `.` or `..`."""
    cleaned = re.sub(r"[\\/\x00]", "_", name.strip())
    return "_" if cleaned in ("", ".", "..") else cleaned


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return _one_line(text if len(text) <= limit else text[:limit] + "...")


def _one_line(error) -> str:
    return " ".join(str(error).split())


@contextmanager
def _progress_bar(enabled: bool):
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress() as bar:
        yield bar
