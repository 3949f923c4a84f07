"""Optimal routes: fewest transfers, then fewest stops; every equally optimal route.

A route with T transfers rides T + 1 lines, and consecutive lines share a station, so its
line sequence is a walk of length T in the line graph (lines joined when they share a
station). With T minimal that walk is a shortest path, so we enumerate the few shortest
line paths (networkx) and, for each, choose the transfer stations with a layered
shortest-path pass that minimises the stations ridden. This is exact and far cheaper than
searching the station graph, which is what makes building thousands of questions fast.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .network import Network

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Section:
    """One ride on one line, in ReasonMap's field names."""

    route_name: str
    departure_stop: str
    arrival_stop: str
    num_via_stops: int
    via_stops: tuple[str, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["via_stops"] = list(self.via_stops)
        return d


@dataclass(frozen=True)
class Route:
    sections: tuple[Section, ...]
    certain: bool = True  # False if a ride passes the unknown part of a branched line

    @property
    def transfers(self) -> int:
        return len(self.sections) - 1

    @property
    def stops(self) -> int:
        """Stations ridden in all (intermediate stops plus one per section)."""
        return sum(s.num_via_stops + 1 for s in self.sections)

    def to_sections(self) -> list[dict]:
        return [s.to_dict() for s in self.sections]


class Router:
    """Routing on one network; build once, query many pairs."""

    def __init__(self, network: Network):
        self.network = network

    @cached_property
    def line_graph(self) -> nx.Graph:
        import networkx as nx  # here, not at the top: a quarter second of every command's start

        g = nx.Graph()
        g.add_nodes_from(self.network.lines)
        for station in self.network.transfer_stations:
            g.add_edges_from(itertools.combinations(self.network.lines_through(station), 2))
        return g

    @cached_property
    def line_distance(self) -> dict[str, dict[str, int]]:
        from networkx import all_pairs_shortest_path_length

        return dict(all_pairs_shortest_path_length(self.line_graph))

    def transfers(self, a: str, b: str) -> int | None:
        """Fewest transfers from a to b; None when b cannot be reached."""
        best = None
        for la in self.network.lines_through(a):
            dist = self.line_distance[la]
            for lb in self.network.lines_through(b):
                d = dist.get(lb)
                if d is not None and (best is None or d < best):
                    best = d
        return best

    def routes(self, a: str, b: str, limit: int = 16) -> list[Route]:
        """All optimal routes from a to b (up to `limit`), in a stable order.

        Raises KeyError for an unknown station, ValueError when a == b.
        """
        for s in (a, b):
            if not self.network.lines_through(s):
                raise KeyError(f"unknown station {s!r}")
        if a == b:
            raise ValueError("departure and arrival are the same station")
        t = self.transfers(a, b)
        if t is None:
            return []
        from networkx import all_shortest_paths

        found: list[tuple[tuple[str, str, str], ...]] = []  # (line, dep, arr) per section
        best = None
        for la in self.network.lines_through(a):
            for lb in self.network.lines_through(b):
                if self.line_distance[la].get(lb) != t:
                    continue
                for seq in all_shortest_paths(self.line_graph, la, lb):
                    cost, rides = self._best_rides(seq, a, b)
                    if best is None or cost < best:
                        best, found = cost, []
                    if cost == best:
                        found.extend(rides)
        unique = {route for rides in set(found) for route in self._expand(rides)}
        return sorted(unique, key=_order)[:limit]

    def _best_rides(self, seq: list[str], a: str, b: str):
        """Cheapest choice of transfer stations along one line sequence, all ties."""
        lines = [self.network.lines[name] for name in seq]
        layers = [[a]]
        for prev, nxt in zip(lines, lines[1:]):
            layers.append([s for s in prev.stations if s in nxt])
        layers.append([b])
        # cost[i][s]: fewest stations ridden to reach s at layer i; back[i][s]: its best predecessors
        cost = [{a: 0}]
        back: list[dict[str, list[str]]] = [{}]
        for i, line in enumerate(lines):
            here, prev_cost = {}, cost[i]
            links: dict[str, list[str]] = {}
            for s in layers[i + 1]:
                for p, c in prev_cost.items():
                    if p == s:
                        continue
                    total = c + line.hops(p, s)
                    if s not in here or total < here[s]:
                        here[s], links[s] = total, [p]
                    elif total == here[s]:
                        links[s].append(p)
            cost.append(here)
            back.append(links)
        if b not in cost[-1]:
            return float("inf"), []

        def paths(i: int, s: str):
            if i == 0:
                yield [s]
                return
            for p in back[i][s]:
                for head in paths(i - 1, p):
                    yield head + [s]

        rides = [tuple((seq[k], stops[k], stops[k + 1]) for k in range(len(seq)))
                 for stops in paths(len(lines), b)]
        return cost[-1][b], rides

    def _expand(self, rides: tuple[tuple[str, str, str], ...]) -> tuple[Route, ...]:
        """Sections for a ride list; a tie between both ways round a loop gives two routes."""
        options = []
        certain = True
        for name, dep, arr in rides:
            line = self.network.lines[name]
            certain = certain and line.certain(dep, arr)
            options.append([Section(name, dep, arr, len(v), tuple(v)) for v in line.vias(dep, arr)])
        return tuple(Route(tuple(combo), certain) for combo in itertools.product(*options))


def _order(route: Route):
    return [(s.route_name, s.departure_stop, s.arrival_stop, s.via_stops) for s in route.sections]


def optimal_routes(network: Network, a: str, b: str, limit: int = 16) -> list[Route]:
    """Convenience wrapper: `Router(network).routes(a, b, limit)`."""
    return Router(network).routes(a, b, limit)
