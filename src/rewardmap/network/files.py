"""Station data as records name it, each read once.

A record's `json` field is a path to a station file, the station object itself, or that
object written as JSON text (official evaluation data). Rewards, metrics and `data check`
all read it through `StationFiles`; each decides what a failure means for it (a reward of
0, an error naming the line, a problem in the report).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError
from ..fileio import is_file
from .loading import StationFileError, load_station_file, network_from_mapping
from .network import Network

_OBJECTS_KEPT = 64  # station objects are keyed by their text; a dataset has a few hundred cities


class StationFiles:
    """Loads station data once per file or object, remembering failures too (an object
    holding tuples, sets or other non-JSON values is read every time: see `_keyable`).

    root: the folder relative paths are read from (None: only absolute paths and station
        objects are accepted). A dataset names files `stations/<country>/<city>.json`
        relative to its own folder, so the stations folder itself works as a root too.
    strict: passed to `load_station_file` (False keeps the first of two stations sharing a
        name in one line, as some real files have).

    Lines that are null in a station object are dropped: an object read back from Arrow
    holds every city's line names.
    """

    def __init__(self, root: str | Path | None = ".", *, strict: bool = False):
        self.root = None if root is None else Path(root)
        self.strict = strict
        self._loaded: dict[str, Network | InputError] = {}
        self._paths: dict[str, str] = {}  # path as given -> cache key: resolved once, not per reward

    def load(self, source) -> Network:
        """The network of one `json` value; raises `InputError` (the same one again for a
        source that failed before). A path seen before costs two dictionary lookups: a
        scored file or a training run names the same few files on every line."""
        known = self._paths.get(source) if type(source) is str else None
        found = self._loaded.get(known) if known is not None else None
        if found is None:
            found = self._load(source)
        if isinstance(found, InputError):
            raise found
        return found

    def _load(self, source) -> Network | InputError:
        if isinstance(source, Network):
            return source
        if isinstance(source, str) and source.lstrip().startswith("{"):
            key, read = "object:" + source, lambda: self._from_text(source)
        elif isinstance(source, Mapping):
            if not _keyable(source):  # read every time: its JSON text could be another object's
                try:
                    return self._from_object(source)
                except InputError as e:
                    return e
            # keys in their order: line order is file order, so reordered objects are not the same
            text = json.dumps(source, ensure_ascii=False)
            key, read = "object:" + text, lambda: self._from_object(source)
        elif isinstance(source, (str, Path)) and str(source):
            given = str(source)
            if given not in self._paths:
                try:
                    self._paths[given] = "path:" + str(self._path(source))
                except InputError as e:
                    self._paths[given] = "refused:" + given
                    self._loaded["refused:" + given] = e
            key = self._paths[given]
            read = lambda: load_station_file(key.removeprefix("path:"), strict=self.strict)  # noqa: E731
        else:
            raise InputError(f"expected a station-file path or the station object, got {type(source).__name__}")
        if key not in self._loaded:
            if key.startswith("object:") and len(self._loaded) >= _OBJECTS_KEPT:
                self._loaded = {k: v for k, v in self._loaded.items() if not k.startswith("object:")}
            try:
                self._loaded[key] = read()
            except InputError as e:
                self._loaded[key] = e
        return self._loaded[key]

    def _path(self, source: str | Path) -> Path:
        """The file SOURCE names. With a root, only a file inside it (symlinks resolved): a
        record from someone else's dataset must not make us read, say, a key file."""
        path = Path(source)
        if self.root is None:
            if path.is_absolute():
                return path
            raise InputError(f"'{source}' is a path but no stations root was given")
        if not path.is_absolute() and not is_file(self.root / path) and path.parts[:1] == ("stations",):
            path = self.root.joinpath(*path.parts[1:])
        resolved = (self.root / path).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise InputError(f"station file {str(source)!r} is outside the stations root {self.root}; not read")
        return resolved

    def _from_text(self, text: str) -> Network:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise StationFileError(f"<station data>: not valid JSON ({e.msg})") from None
        return self._from_object(data)

    def _from_object(self, data) -> Network:
        if isinstance(data, Mapping):
            data = {line: stations for line, stations in data.items() if stations is not None}
        return network_from_mapping(data, strict=self.strict)


def _keyable(data: Mapping) -> bool:
    """Whether DATA's JSON text tells it apart from any other object: a dict of line names to
    lists of strings or null (a tuple writes as a list, and a set or another Mapping has no
    JSON text at all)."""
    return isinstance(data, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, list) and all(isinstance(s, str) for s in v))
        for k, v in data.items())
