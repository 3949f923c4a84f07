"""What the route rewards look up in a network, computed once per network.

File names are cleaned once. The reference variant cleans them as the released code reads
them (`Line.released`: markers deleted by plain replacement, which keeps a space written
before a marker); in the 30 real files that matters for one name only: beijing's Line 16
`东管头南站 （换乘站）`, which the released code cleans to 东管头南站 (the trailing space hides
the 站 from `clean`), so that a right answer through that station is judged wrong, as
released. The robust variant cleans the name with its markers stripped: 东管头南.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ..network import Line, Network
from ..answers.route import robust_stop
from ..answers.text import clean_once


@dataclass(frozen=True)
class RewardIndex:
    """A network's lines with their stations cleaned once, as the released code compares them.

    `members[line]` maps each station's `clean` to the station (the first one when two clean
    alike); `robust_members[line]` does the same with `robust_stop` (case-blind), for the
    robust variant; `line_by_key` maps `line_key(name)` to the line.
    """

    lines: Mapping[str, Line]
    members: Mapping[str, Mapping[str, str]]
    robust_members: Mapping[str, Mapping[str, str]]
    line_by_key: Mapping[str, str]
    _holding: dict = field(default_factory=dict, repr=False, compare=False)
    _rides: dict = field(default_factory=dict, repr=False, compare=False)

    def lines_holding(self, a: str, b: str, robust: bool = False) -> set[str]:
        """The lines on which both of these stops lie, keyed as `members` (or, robust, as
        `robust_members`) keys them (kept: every rollout of a question asks again)."""
        key = a, b, robust
        if key not in self._holding:
            members = self.robust_members if robust else self.members
            self._holding[key] = {name for name, stations in members.items() if a in stations and b in stations}
        return self._holding[key]

    def robust_rides(self, line: str, a: str, b: str) -> list[tuple[str, ...]]:
        """`Line.rides(a, b)` of these file names, each stop `robust_stop`ped (kept)."""
        key = line, a, b
        rides = self._rides.get(key)
        if rides is None:
            rides = self._rides[key] = [tuple(map(robust_stop, ride)) for ride in self.lines[line].rides(a, b)]
        return rides


def reward_index(network: Network) -> RewardIndex:
    """The `RewardIndex` of `network`, built on first use and kept on the network itself
    (it lives and dies with it; a weak-key lookup would cost more than a Plus reward)."""
    index = network.__dict__.get("_reward_index")
    if index is None:
        members, robust = {}, {}
        for name, line in network.lines.items():
            members[name], robust[name] = {}, {}
            for station in line.stations:
                members[name].setdefault(clean_once(line.released.get(station, station)), station)
                robust[name].setdefault(robust_stop(station), station)
        keys: dict[str, str] = {}
        for name in network.lines:
            if line_key(name):
                keys.setdefault(line_key(name), name)
        index = network.__dict__["_reward_index"] = RewardIndex(dict(network.lines), members, robust, keys)
    return index


_LINE_WORDS = re.compile(r"metrorail|metro|subway|linea|line|地铁|号线|线")
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
_PUNCTUATION = re.compile(r"[\s\-_*.'\"`]")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


@lru_cache(maxsize=1 << 14)
def line_key(name: str) -> str:
    """A line name reduced to what tells lines apart: "Line 2", "line 2", "2号线", "Line2",
    "Line 02" and "Metro 2" all give "2"; "Red Line" gives "red".

    >>> [line_key(n) for n in ("Line 2", "2号线", "Line02", "Linea A", "Metrorail Green Line", "房山线")]
    ['2', '2', '2', 'a', 'green', '房山']
    """
    key = unicodedata.normalize("NFKC", name).lower()
    key = _LINE_WORDS.sub("", _BRACKETED.sub("", key))
    return _LEADING_ZEROS.sub("", _PUNCTUATION.sub("", key))


def released_line_name(name: str) -> str:
    """The released code's two renamings before a name is looked up: a name containing
    八通 is Line 1 (Batong runs through onto Line 1), then one containing 大兴 is Line 4.

    >>> released_line_name("八通线"), released_line_name("大兴线"), released_line_name("Line 2")
    ('Line 1', 'Line 4', 'Line 2')
    """
    if "八通" in name:
        name = "Line 1"
    if "大兴" in name:
        name = "Line 4"
    return name
