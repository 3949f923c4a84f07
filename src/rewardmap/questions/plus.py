"""The five ReasonMap-Plus question types: generation and the answer each deserves.

Each generator returns up to `k` distinct questions as partial records (the builder adds
city fields). Answers come from the network only, through `plus_answer`, which
`data check` reuses to recompute them.
"""

from __future__ import annotations

import random

from ..network import Network
from . import prompts

_MAX_TRIES = 40  # random draws per wanted question before a type gives up on a small map


def plus_answer(network: Network, record: dict) -> int:
    """The right answer of a Plus record (Counting1: the index of the right option)."""
    kind, a, b = record["type"], record.get("station_1"), record.get("station_2")
    if kind == "Counting1":
        return list(record["choices"]).index(counting1_stops(network, a, b))
    if kind == "Counting2":
        return len(network.lines_through(a))
    if kind == "Counting3":
        return network.line_count
    if kind == "TorF1":
        return int(bool(set(network.lines_through(a)) & set(network.lines_through(b))))
    if kind == "TorF2":
        return int(network.on_line(a, record["line"]))
    raise ValueError(f"not a Plus type: {kind!r}")


def counting1_stops(network: Network, a: str, b: str) -> int:
    """Stops between a and b on the one line they share (a Counting1 pair shares exactly one)."""
    shared = set(network.lines_through(a)) & set(network.lines_through(b))
    if len(shared) != 1:
        raise ValueError(f"{a!r} and {b!r} share {len(shared)} lines, a Counting1 pair needs one")
    return network.stops_between(shared.pop(), a, b)


def counting1(network: Network, rng: random.Random, k: int) -> list[dict]:
    """Stops between two stations of one line; four options, the right one placed uniformly."""
    lines = [line for line in network.lines.values() if len(line.stations) >= 3]
    out, seen = [], set()
    for _ in range(k * _MAX_TRIES):
        if len(out) == k or not lines:
            break
        line = rng.choice(lines)
        a, b = rng.sample(line.stations, 2)
        if frozenset((a, b)) in seen or not line.certain(a, b):
            continue
        if len(set(network.lines_through(a)) & set(network.lines_through(b))) != 1:
            continue  # two shared lines could give two different counts
        seen.add(frozenset((a, b)))
        stops = line.stops_between(a, b)
        choices = _options(stops, rng)
        out.append(_record("Counting1", prompts.counting1(a, b, choices), choices.index(stops),
                           a, b, choices=choices))
    return out


def _options(n: int, rng: random.Random) -> list[int]:
    """Four distinct counts near n. The right one's rank among them is uniform where n
    allows (so "pick the middle value" does not work) and its position is uniform."""
    rank = rng.randrange(4)
    below = rng.sample(range(max(0, n - 6), n), min(rank, n))
    above = rng.sample(range(n + 1, n + 8), 3 - len(below))
    choices = below + above + [n]
    rng.shuffle(choices)
    return choices


def counting2(network: Network, rng: random.Random, k: int) -> list[dict]:
    """Lines through a station; about half the stations asked are transfer stations. Which
    kind comes first is drawn too: a map asked once would otherwise always be asked about a
    transfer station, and "2" would be right most of the time without reading the map."""
    transfers = network.transfer_stations[:]
    plain = [s for s in network.stations if not network.is_transfer(s)]
    rng.shuffle(transfers)
    rng.shuffle(plain)
    first = rng.randrange(2)  # 0: a transfer station first
    picked = []
    while len(picked) < k and (transfers or plain):
        pool = transfers if (transfers and ((len(picked) + first) % 2 == 0 or not plain)) else plain
        picked.append(pool.pop())
    return [_record("Counting2", prompts.counting2(s), len(network.lines_through(s)), s) for s in picked]


def counting3(network: Network, rng: random.Random, k: int) -> list[dict]:
    """Lines in the map: one question per map (asking it twice adds nothing)."""
    return [_record("Counting3", prompts.counting3(), network.line_count)][:k]


def torf1(network: Network, rng: random.Random, k: int) -> list[dict]:
    """Are two stations on one line: yes and no balanced."""
    stations = network.stations

    def draw(want: int):
        a, b = rng.sample(stations, 2)
        return (a, b) if int(bool(set(network.lines_through(a)) & set(network.lines_through(b)))) == want else None

    return [_record("TorF1", prompts.torf1(a, b), want, a, b)
            for want, (a, b) in _balanced(k, rng, draw)]


def torf2(network: Network, rng: random.Random, k: int) -> list[dict]:
    """Is a station on a line: yes and no balanced."""
    stations, names = network.stations, network.line_names

    def draw(want: int):
        line = rng.choice(names)
        s = rng.choice(network.lines[line].stations if want else stations)
        return (s, line) if int(network.on_line(s, line)) == want else None

    return [_record("TorF2", prompts.torf2(s, line), want, s, line=line)
            for want, (s, line) in _balanced(k, rng, draw)]


def _balanced(k: int, rng: random.Random, draw) -> list[tuple[int, tuple]]:
    """k distinct draws, half answered yes (1) and half no (0); an odd k gets its extra
    answer at random. If the map cannot give enough of one answer, both are cut to the
    same number so the set stays balanced."""
    wants = [1, 0] * (k // 2) + ([rng.randrange(2)] if k % 2 else [])
    found: dict[int, list[tuple]] = {0: [], 1: []}
    seen: set[tuple] = set()
    for want in (0, 1):
        target = wants.count(want)
        for _ in range(target * _MAX_TRIES):
            if len(found[want]) == target:
                break
            item = draw(want)
            if item is not None and item not in seen:
                seen.add(item)
                found[want].append(item)
    n = min(len(found[0]), len(found[1]))
    if n < min(wants.count(0), wants.count(1)):
        found = {0: found[0][:n], 1: found[1][:n]}
    items = [(want, item) for want in (0, 1) for item in found[want]]
    rng.shuffle(items)
    return items


def _record(kind: str, question: str, answer: int, station_1: str | None = None, station_2: str | None = None,
            **extra) -> dict:
    return {"type": kind, "question": question, "answer": answer, "station_1": station_1,
            "station_2": station_2, **extra}


GENERATORS = {"Counting1": counting1, "Counting2": counting2, "Counting3": counting3,
              "TorF1": torf1, "TorF2": torf2}
