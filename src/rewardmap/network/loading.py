"""Reading ReasonMap station files into a validated `Network`.

A file is one JSON object: line name -> ordered list of station names, with markers such
as ` (Transfer Station)` written into the names. Anything else is rejected with a one-line
error naming the file and the line.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError
from ..fileio import STATION_FILE_MAX_BYTES, parse_json, read_capped
from .names import has_branch_marker, released_name, strip_markers
from .network import Line, Network


class StationFileError(InputError):
    """A malformed station file; the message names the file and the line."""


def load_station_file(path: str | Path, *, strict: bool = True) -> Network:
    """Load a ReasonMap station file.

    With `strict=False`, a station repeated inside one line (two different places sharing
    a name, as in some real files) keeps its first position and a warning is recorded in
    `network.warnings` instead of raising.
    """
    path = Path(path)
    try:
        data = parse_json(read_capped(path, STATION_FILE_MAX_BYTES, "station file"), str(path),
                          object_pairs_hook=_no_duplicate_keys)
    except InputError as e:
        raise StationFileError(str(e)) from None
    except OSError as e:
        raise StationFileError(f"{path}: cannot read station file ({e.__class__.__name__}: {e})") from None
    except _DuplicateKey as e:
        raise StationFileError(f"{path}: line '{e.args[0]}' is defined twice") from None
    return network_from_mapping(data, name=path.stem, source=str(path), strict=strict)


def network_from_mapping(data: Any, *, name: str = "", source: str | None = None,
                         strict: bool = True) -> Network:
    """Validate a station-file object and build its `Network`."""
    where = source or name or "<station data>"
    if not isinstance(data, Mapping):
        raise StationFileError(
            f"{where}: expected a JSON object mapping line names to station lists, got {_kind(data)}")
    if not data:
        raise StationFileError(f"{where}: no lines")
    lines, warnings = [], []
    for line_name, raw in data.items():
        if not isinstance(line_name, str) or not line_name.strip():
            raise StationFileError(f"{where}: line name {line_name!r} is empty or not a string")
        _check_name(f"{where}: line name {line_name!r}", line_name)
        lines.append(_parse_line(where, line_name, raw, strict, warnings))
    return Network(lines, name=name, source=source, warnings=warnings)


def _parse_line(where: str, line_name: str, raw: Any, strict: bool, warnings: list[str]) -> Line:
    at = f"{where}: line '{line_name}'"
    if not isinstance(raw, list):
        raise StationFileError(f"{at}: expected a list of station names, got {_kind(raw)}")
    if not raw:
        raise StationFileError(f"{at}: empty line (no stations)")
    names, marked, released = [], None, {}
    for i, item in enumerate(raw, 1):
        if not isinstance(item, str):
            raise StationFileError(f"{at}: station {i} is {_kind(item)}, expected a string")
        name = strip_markers(item)
        if not name:
            raise StationFileError(f"{at}: station {i} has an empty name")
        _check_name(f"{at}: station {i} {item!r}", item)
        if has_branch_marker(item) and marked is None:
            marked = i - 1
        as_released = released_name(item)
        if as_released != name:
            released.setdefault(name, as_released)
        names.append(name)
    loop = len(names) > 3 and names[0] == names[-1] and names[0] not in names[1:-1]
    if loop:
        names.pop()
    seen: dict[str, int] = {}
    unique = []
    for i, name in enumerate(names, 1):
        if name in seen:
            msg = (f"{at}: station '{name}' appears twice (positions {seen[name]} and {i}); "
                   "only a loop may repeat a station, its first one at its end")
            if strict:
                raise StationFileError(msg)
            warnings.append(msg + "; kept the first")
            continue
        seen[name] = i
        unique.append(name)
    if len(unique) < 2:
        raise StationFileError(f"{at}: a line needs at least two stations")
    # The marked station's index among those kept (a dropped repeat before it must not shift
    # it); none when the marker is on a loop's closing entry, after which nothing is listed.
    branch_at = unique.index(names[marked]) if marked is not None and marked < len(names) else None
    return Line(line_name, tuple(unique), loop=loop, branch_at=branch_at, released=released)


# What a route answer is made of: a name holding one of these could not be told apart from
# the answer's own structure (the dataset's correct answers would then score as wrong).
_ANSWER_MARKERS = ("--", "Route Name:", "Departure Stop:", "Arrival Stop:", "Number of Via Stops:", "Via Stops:")
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _check_name(at: str, name: str) -> None:
    """Refuse a name that cannot be written as UTF-8 (an unpaired surrogate), or that holds a
    line break, a control or bidirectional-override character, or a route answer's markers."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise StationFileError(f"{at}: holds an unpaired surrogate (not text)") from None
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI), None)
    if bad is not None:
        raise StationFileError(f"{at}: holds the control character U+{ord(bad):04X}")
    marker = next((m for m in _ANSWER_MARKERS if m.lower() in name.lower()), None)
    if marker is not None:
        raise StationFileError(f"{at}: holds {marker!r}, which route answers use as structure")


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs):
    keys = set()
    for key, _ in pairs:
        if key in keys:
            raise _DuplicateKey(key)
        keys.add(key)
    return dict(pairs)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null",
            bool: "a boolean", int: "a number", float: "a number"}.get(type(value), type(value).__name__)
