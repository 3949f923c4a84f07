"""A city's transit network: lines, stations, transfers and rides along one line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from .difficulty import map_difficulty


@dataclass(frozen=True)
class Line:
    """One line: its stations in file order.

    `loop`: the file repeats the first station at the end (a circle line); rides may go
    either way round. `branch_at`: index of a station the file marks as where a branch
    starts inside this same list. The file then lists the branch and the rest of the line
    one after the other without saying where one ends, so the order after that index is
    not known: rides that go past it are `certain() == False`.
    """

    name: str
    stations: tuple[str, ...]
    loop: bool = False
    branch_at: int | None = None
    # A station's name as the released RewardMap code reads it from the file, where that
    # differs from `stations` (see `names.released_name`); only its reward reproduces it.
    released: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "index", {s: i for i, s in enumerate(self.stations)})

    def __contains__(self, station: str) -> bool:
        return station in self.index

    def hops(self, a: str, b: str) -> int:
        """Stations ridden from a to b (1 for neighbours), the short way round on a loop."""
        d = abs(self.index[a] - self.index[b])
        return min(d, len(self.stations) - d) if self.loop else d

    def stops_between(self, a: str, b: str) -> int:
        """Intermediate stops between a and b on this line (both excluded)."""
        return self.hops(a, b) - 1

    def rides(self, a: str, b: str) -> list[list[str]]:
        """The intermediate stops of each way of riding from a to b, in riding order: one
        way, or both ways round a loop (the direct index order first). From a station to
        itself: no stops, and round a loop also once all the way round in index order."""
        i, j, n = self.index[a], self.index[b], len(self.stations)
        step = 1 if j > i else -1
        ways = [[self.stations[k] for k in range(i + step, j, step)]]
        if self.loop:
            ways.append([self.stations[(i - step * k) % n] for k in range(1, n - abs(j - i))])
        return ways

    def vias(self, a: str, b: str) -> list[list[str]]:
        """The intermediate stops of each shortest ride from a to b, in riding order.

        Two lists on a loop when both ways round are equally short, else one.
        """
        ways = self.rides(a, b)
        shortest = min(map(len, ways))
        return [way for way in ways if len(way) == shortest]

    def certain(self, a: str, b: str) -> bool:
        """Whether the file fixes the stops between a and b (see `branch_at`)."""
        return self.branch_at is None or max(self.index[a], self.index[b]) <= self.branch_at


class Network:
    """A city: ordered lines of unique station names (markers already stripped).

    Build it with `load_station_file` / `network_from_mapping`, which validate input.
    """

    def __init__(self, lines: list[Line], name: str = "", source: str | None = None,
                 warnings: list[str] | None = None):
        self.name = name
        self.source = source
        self.lines: dict[str, Line] = {line.name: line for line in lines}
        self.warnings = warnings or []
        through: dict[str, list[str]] = {}
        for line in lines:
            for station in line.stations:
                through.setdefault(station, []).append(line.name)
        self._through = through

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {self.line_count} lines, {len(self._through)} stations)"

    @property
    def line_names(self) -> list[str]:
        return list(self.lines)

    @property
    def stations(self) -> list[str]:
        """Every station once, in order of first appearance in the file."""
        return list(self._through)

    def lines_through(self, station: str) -> list[str]:
        """Names of the lines that stop at `station`, in file order ([] if unknown)."""
        return list(self._through.get(station, ()))

    def is_transfer(self, station: str) -> bool:
        return len(self._through.get(station, ())) > 1

    @cached_property
    def transfer_stations(self) -> list[str]:
        """Stations on two or more lines."""
        return [s for s, lines in self._through.items() if len(lines) > 1]

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def transfer_count(self) -> int:
        return len(self.transfer_stations)

    @property
    def difficulty(self) -> str:
        return map_difficulty(self.line_count, self.transfer_count)

    def on_line(self, station: str, line: str) -> bool:
        return line in self.lines and station in self.lines[line]

    def stops_between(self, line: str, a: str, b: str) -> int:
        """Intermediate stops between a and b riding `line` (the short way on a loop)."""
        return self.lines[line].stops_between(a, b)

    def to_mapping(self, markers: bool = True) -> dict[str, list[str]]:
        """The ReasonMap station-file object, with the files' markers by default
        (Chinese ones for names ending in 站)."""
        def mark(s: str, branch: bool) -> str:
            chinese = s.endswith("站")
            if markers and self.is_transfer(s):
                s += "（换乘站）" if chinese else " (Transfer Station)"
            if markers and branch:
                s += "（支线起始站）" if chinese else " (Branch-starting Station)"
            return s

        out = {}
        for line in self.lines.values():
            names = [mark(s, i == line.branch_at) for i, s in enumerate(line.stations)]
            if line.loop:
                names.append(names[0])
            out[line.name] = names
        return out
