"""Loading a dataset folder's records for training and evaluation alike."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import InputError, shown, where
from ..fileio import is_file, read_jsonl
from ..questions.kinds import QUESTION_TYPES


def load_records(folder: str | Path) -> list[dict]:
    """The records of `folder/questions.jsonl` (the project's dataset layout), checked for
    what training reads: a known type, a question, and a map image that exists; `figure` and
    `json` paths must stay inside FOLDER (symlinks resolved), since a downloaded dataset could
    otherwise make evaluation read, and send to an API server, any file of the user's."""
    root = Path(folder)
    path = root / "questions.jsonl"
    if not path.is_file():
        raise InputError(f"{root}: no questions.jsonl (is this a dataset folder? `rewardmap data synth` makes one)")
    # A dataset names a few maps and station files thousands of times: look each up once
    # (resolving every line's paths was most of the time a resumed evaluation takes to start).
    inside = lru_cache(maxsize=None)(lambda relative: _inside(root, relative))
    is_map = lru_cache(maxsize=None)(lambda relative: is_file(inside(relative)))
    records = []
    for lineno, record in read_jsonl(path):
        if record.get("type") not in QUESTION_TYPES:
            raise InputError(f"{where(path, lineno, 'type')}: expected one of {', '.join(QUESTION_TYPES)}, "
                             f"got {shown(record.get('type'))}")
        if not isinstance(record.get("question"), str):
            raise InputError(f"{where(path, lineno, 'question')}: expected the question text")
        figure, station = record.get("figure"), record.get("json")
        if not isinstance(figure, str) or not figure:
            raise InputError(f"{where(path, lineno, 'figure')}: expected the map image's path, got {shown(figure)}")
        station_path = isinstance(station, str) and not station.lstrip().startswith("{")  # not an inline object
        for field, value, is_path in (("figure", figure, True), ("json", station, station_path)):
            if is_path and inside(value) is None:
                raise InputError(f"{where(path, lineno, field)}: path {shown(value)} leads outside the dataset folder "
                                 f"{root}; not read")
        if not is_map(figure):
            raise InputError(f"{where(path, lineno, 'figure')}: map image {shown(figure)} not found under {root}")
        record["figure"] = str(inside(figure))
        if station_path:
            record["json"] = str(inside(station))
        records.append(record)
    if not records:
        raise InputError(f"{path}: no records")
    return records


def _inside(root: Path, relative: str) -> Path | None:
    """ROOT / RELATIVE with every symlink resolved, or None when that leads outside ROOT (an
    absolute path, `..`, or a link out)."""
    if Path(relative).is_absolute():
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) else None
