"""Procedural metro networks on an octilinear grid.

Lines are paths of unit steps between grid nodes, each step horizontal, vertical or 45°
diagonal: through lines cross the centre with a few 45° or 90° bends, a loop is a chamfered
ring, a branch forks off a main line and runs beside it. Waypoints lie on even
coordinates, so every diagonal runs through nodes with x + y even and two diagonals can
only cross on a node: wherever lines meet they share a node, and that node becomes a
transfer station. Other stations fill the gaps `spacing` to 2 * `spacing` - 1 steps apart
(closer only where lines meet), with at most one bend between consecutive stations.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

Node = tuple[int, int]
DIRS: tuple[Node, ...] = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))

MAX_PARALLEL = 3       # lines sharing one grid edge
MAX_SHARED_EDGES = 5   # edges two lines may share (a corridor, not a duplicate line)
MAX_LINES_AT_NODE = 4
MAX_ALONGSIDE = 2      # edges a line may run one step beside another line


@dataclass
class Network:
    """Per line (same order as the requested kinds): its grid path and its station nodes.

    A loop's path and station list both repeat their first node at the end.
    """

    paths: list[list[Node]]
    stations: list[list[Node]]


def build_network(rng: random.Random, kinds: list, grid: Node, blocked: set[Node],
                  spacing: int, tries: int = 40) -> Network | None:
    """Lay out one line per kind ("line", "loop", or the index of a branch's main line) on a
    grid of `grid` = (columns, rows) nodes.

    Returns None when some line finds no valid place in `tries` draws; the caller redraws.
    """
    paths: list[list[Node]] = []
    for kind in kinds:
        for _ in range(tries):
            if kind == "loop":
                path = _loop(rng, grid)
            elif kind == "line":
                path = _through(rng, grid)
            else:
                path = _branch(rng, paths[kind])
            if path and _valid(path, grid, blocked) and _fits(path, paths, kind):
                paths.append(path)
                break
        else:
            return None
    loops = [kind == "loop" for kind in kinds]
    chosen = _station_nodes(paths, loops, spacing)
    return Network(paths, [_ordered_stations(p, chosen, loop) for p, loop in zip(paths, loops)])


# --- candidate paths ----------------------------------------------------------------------


def _even(value: float, nodes: int) -> int:
    return min(nodes - 1, max(0, 2 * round(value / 2)))


def _connect(a: Node, b: Node, diagonal_first: bool) -> list[Node]:
    """Octilinear route from a to b (a excluded) with at most one bend."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    sx, sy = (dx > 0) - (dx < 0), (dy > 0) - (dy < 0)
    diagonal = min(abs(dx), abs(dy))
    straight = (sx, 0) if abs(dx) > abs(dy) else (0, sy)
    steps = [(sx, sy)] * diagonal
    rest = [straight] * (max(abs(dx), abs(dy)) - diagonal)
    steps = steps + rest if diagonal_first else rest + steps
    nodes, (x, y) = [], a
    for ux, uy in steps:
        x, y = x + ux, y + uy
        nodes.append((x, y))
    return nodes


def _route(rng: random.Random, waypoints: list[Node]) -> list[Node]:
    path = [waypoints[0]]
    for b in waypoints[1:]:
        path += _connect(path[-1], b, rng.random() < 0.5)
    return path


def _through(rng: random.Random, grid: Node) -> list[Node]:
    """A line across the centre: start, middle and end waypoints joined octilinearly."""
    cx, cy = (_even((n - 1) / 2, n) for n in grid)
    along_x = 3 if grid[0] == grid[1] else 4 if grid[0] > grid[1] else 2  # mostly along a longer side
    axis = rng.choices((0, 2, 1, 3), weights=(along_x, 6 - along_x, 1, 1))[0]
    (dx, dy), (px, py) = DIRS[axis], DIRS[(axis + 2) % 8]
    if axis % 2:  # diagonal: along and across both bounded by the shorter side
        reach = across = min(cx, cy) * 0.72
    else:  # along the axis, and across it, each to the half-size of its side
        reach, across = (cx, cy) if axis == 0 else (cy, cx)
    offset = rng.uniform(-0.4, 0.4) * across

    def at(t: float, o: float) -> Node:
        return _even(cx + dx * t + px * o, grid[0]), _even(cy + dy * t + py * o, grid[1])

    start = at(-rng.uniform(0.5, 1.0) * reach, offset + rng.uniform(-0.35, 0.35) * across)
    middle = at(rng.uniform(-0.2, 0.2) * reach, offset)
    end = at(rng.uniform(0.5, 1.0) * reach, offset + rng.uniform(-0.35, 0.35) * across)
    return _route(rng, [start, middle, end])


def _loop(rng: random.Random, grid: Node) -> list[Node]:
    """A closed ring: a rectangle with 45° chamfered corners around the centre."""
    (gx, gy), (hx, hy) = grid, ((n - 1) / 2 for n in grid)
    a, b = _even(rng.uniform(0.3, 0.55) * hx, gx), _even(rng.uniform(0.3, 0.55) * hy, gy)
    k = _even(rng.uniform(0.3, 0.6) * min(a, b), min(gx, gy))
    cx, cy = _even(hx + rng.uniform(-0.15, 0.15) * hx, gx), _even(hy + rng.uniform(-0.15, 0.15) * hy, gy)
    corners = [(cx - a + k, cy - b), (cx + a - k, cy - b), (cx + a, cy - b + k), (cx + a, cy + b - k),
               (cx + a - k, cy + b), (cx - a + k, cy + b), (cx - a, cy + b - k), (cx - a, cy - b + k),
               (cx - a + k, cy - b)]
    path = [corners[0]]
    for corner in corners[1:]:
        path += _connect(path[-1], corner, True)
    return path


def _branch(rng: random.Random, main: list[Node]) -> list[Node]:
    """A fork off the outer part of `main`: out at 45° from it, then alongside it."""
    n = len(main)
    if n < 10 or main[0] == main[-1]:
        return []
    if rng.random() < 0.5:
        i = rng.randint(n // 2, n - 4)
        d = (main[i + 1][0] - main[i][0], main[i + 1][1] - main[i][1])
    else:
        i = rng.randint(3, n // 2)
        d = (main[i - 1][0] - main[i][0], main[i - 1][1] - main[i][1])
    k = DIRS.index(d)
    out = DIRS[(k + rng.choice((-1, 1))) % 8]
    path, (x, y) = [main[i]], main[i]
    for (ux, uy) in [out] * rng.randint(2, 5) + [d] * rng.randint(2, 6):
        x, y = x + ux, y + uy
        path.append((x, y))
    return path


# --- checks -------------------------------------------------------------------------------


def _steps(path: list[Node]) -> list[Node]:
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(path, path[1:])]


def _valid(path: list[Node], grid: Node, blocked: set[Node]) -> bool:
    """In the grid, off blocked nodes, no node twice, no turn sharper than 90°, diagonals on
    even nodes."""
    closed = path[0] == path[-1]
    nodes = path[:-1] if closed else path
    if len(nodes) < 5 or len(set(nodes)) != len(nodes):
        return False
    if any(not (0 <= x < grid[0] and 0 <= y < grid[1]) or (x, y) in blocked for x, y in nodes):
        return False
    steps = _steps(path)
    turns = zip(steps, steps[1:] + steps[:1]) if closed else zip(steps, steps[1:])
    if any(a[0] * b[0] + a[1] * b[1] < 0 for a, b in turns):
        return False
    return all(not (ux and uy) or (x + y) % 2 == 0 for (x, y), (ux, uy) in zip(path, steps))


def _edges(path: list[Node]) -> set[tuple[Node, Node]]:
    return {(a, b) if a < b else (b, a) for a, b in zip(path, path[1:])}


def _alongside(edges: set[tuple[Node, Node]], other: set[tuple[Node, Node]]) -> int:
    """Straight edges running one grid step beside an edge of the other line: no room for
    labels between them."""
    count = 0
    for (ax, ay), (bx, by) in edges:
        if ax == bx or ay == by:
            px, py = (ay == by), (ax == bx)  # unit normal of a horizontal or vertical edge
            count += sum(((ax + s * px, ay + s * py), (bx + s * px, by + s * py)) in other for s in (1, -1))
    return count


def _fits(path: list[Node], others: list[list[Node]], kind) -> bool:
    """Touches the network (or forks off its main line only at its first node), shares no
    long stretch with any line nor runs right beside one, and keeps corridors and hubs to a
    drawable size."""
    if not others:
        return True
    nodes, edges = set(path), _edges(path)
    if isinstance(kind, int) and set(others[kind]) & nodes != {path[0]}:
        return False
    touching = False
    lines_at: dict[Node, int] = defaultdict(int)
    lines_on: dict[tuple[Node, Node], int] = defaultdict(int)
    for other in others:
        shared = nodes & set(other)
        touching = touching or bool(shared)
        other_edges = _edges(other)
        common = edges & other_edges
        if len(common) > MAX_SHARED_EDGES or _alongside(edges, other_edges) > MAX_ALONGSIDE:
            return False
        for node in shared:
            lines_at[node] += 1
        for edge in common:
            lines_on[edge] += 1
    return (touching and all(n < MAX_LINES_AT_NODE for n in lines_at.values())
            and all(n < MAX_PARALLEL for n in lines_on.values()))


# --- stations -----------------------------------------------------------------------------


def _station_nodes(paths: list[list[Node]], loops: list[bool], spacing: int) -> set[Node]:
    """Termini, every node where lines cross, meet or part, then gap and bend fillers."""
    neighbours: dict[Node, dict[int, set[Node]]] = defaultdict(lambda: defaultdict(set))
    for k, path in enumerate(paths):
        for a, b in zip(path, path[1:]):
            neighbours[a][k].add(b)
            neighbours[b][k].add(a)
    chosen = {p[i] for p, loop in zip(paths, loops) if not loop for i in (0, -1)}
    for node, per_line in neighbours.items():
        if len(per_line) > 1 and len({frozenset(v) for v in per_line.values()}) > 1:
            chosen.add(node)
    for path, loop in zip(paths, loops):
        _fill_gaps(path, loop, chosen, spacing)
    changed = True
    while changed:
        changed = False
        for path, loop in zip(paths, loops):
            changed |= _split_double_bends(path, loop, chosen)
    return chosen


def _gaps(path: list[Node], loop: bool, chosen: set[Node]) -> list[list[Node]]:
    """Runs of path nodes from one station to the next, both ends included."""
    nodes = path[:-1] if loop else path
    idx = [i for i, n in enumerate(nodes) if n in chosen]
    if loop:
        if not idx:
            chosen.add(nodes[0])
            idx = [0]
        return [[nodes[j % len(nodes)] for j in range(a, b + 1)]
                for a, b in zip(idx, idx[1:] + [idx[0] + len(nodes)])]
    return [nodes[a:b + 1] for a, b in zip(idx, idx[1:])]


def _fill_gaps(path: list[Node], loop: bool, chosen: set[Node], spacing: int) -> None:
    for run in _gaps(path, loop, chosen):
        length = len(run) - 1
        parts = max(1, length // spacing)
        chosen.update(run[round(length * t / parts)] for t in range(1, parts))


def _split_double_bends(path: list[Node], loop: bool, chosen: set[Node]) -> bool:
    changed = False
    for run in _gaps(path, loop, chosen):
        steps = _steps(run)
        bends = [run[i + 1] for i in range(len(steps) - 1) if steps[i] != steps[i + 1]]
        if len(bends) > 1:
            chosen.add(bends[len(bends) // 2])
            changed = True
    return changed


def _ordered_stations(path: list[Node], chosen: set[Node], loop: bool) -> list[Node]:
    stations = [n for n in (path[:-1] if loop else path) if n in chosen]
    return stations + stations[:1] if loop else stations
