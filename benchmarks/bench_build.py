"""Dataset-building speed.

1. `data synth` end to end: N synthetic cities at 1,024 px with 50 questions each, on two
   worker processes. Goal: 1,000 cities in under 2 minutes on a 2-core machine.
2. Routing, the core of route questions, against a baseline on the same inputs: the
   optimal (transfers, stops) of the same station pairs by Dijkstra over the
   (station, line) state graph with networkx, the textbook way, versus our line-graph
   enumeration (`Router`). Uses the real station files when present ($REWARDMAP_REAL_DATA), else
   synthetic cities.

    python benchmarks/bench_build.py [--cities 1000] [--workers 2] [--pairs 2000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import networkx as nx
from rich.console import Console
from rich.table import Table

from rewardmap.datasets.synthetic import synth_dataset
from rewardmap.network import Router, load_station_file, network_from_mapping
from rewardmap.synth import generate_city

from _real_data import REAL_DATA  # noqa: E402  (beside this script)

REAL = REAL_DATA / "stations"


def bench_synth(cities: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = synth_dataset(Path(tmp), cities=cities, seed=0, size=1024, per_city=50, workers=workers)
        seconds = time.perf_counter() - start
    return {"cities": summary.cities, "questions": summary.records, "seconds": seconds}


def state_graph(net) -> nx.DiGraph:
    """Baseline: (station, line) states, ride edges cost 1 stop, line changes cost one
    transfer (weighted far above any stop count so transfers dominate)."""
    g = nx.DiGraph()
    for name, line in net.lines.items():
        pairs = list(zip(line.stations, line.stations[1:]))
        if line.loop:
            pairs.append((line.stations[-1], line.stations[0]))
        for u, v in pairs:
            g.add_edge((u, name), (v, name), w=1)
            g.add_edge((v, name), (u, name), w=1)
    for s in net.transfer_stations:
        for a in net.lines_through(s):
            for b in net.lines_through(s):
                if a != b:
                    g.add_edge((s, a), (s, b), w=100_000)
    return g


def baseline_best(net, g, a, b):
    lengths = nx.multi_source_dijkstra_path_length(g, {(a, line) for line in net.lines_through(a)}, weight="w")
    cost = min(lengths[(b, line)] for line in net.lines_through(b) if (b, line) in lengths)
    return divmod(cost, 100_000)


def bench_routing(pairs_per_city: int) -> dict:
    if REAL.is_dir():
        nets = [load_station_file(p, strict=p.stem != "new_york") for p in sorted(REAL.glob("*/*.json"))]
        source = f"{len(nets)} real cities"
    else:
        nets = [network_from_mapping(generate_city(s, "hard").lines) for s in range(10)]
        source = f"{len(nets)} synthetic hard cities"
    rng = random.Random(0)
    work = [(net, [tuple(rng.sample(net.stations, 2)) for _ in range(pairs_per_city)]) for net in nets]
    start = time.perf_counter()
    ours = []
    for net, pairs in work:
        router = Router(net)
        for a, b in pairs:
            best = router.routes(a, b, limit=8)
            ours.append((best[0].transfers, best[0].stops) if best else None)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    base = []
    for net, pairs in work:
        g = state_graph(net)
        for a, b in pairs:
            try:
                base.append(baseline_best(net, g, a, b))
            except ValueError:  # unreachable
                base.append(None)
    t_base = time.perf_counter() - start
    assert ours == base, "the two routers disagree"
    n = sum(len(p) for _, p in work)
    return {"source": source, "pairs": n, "ours": t_ours, "baseline": t_base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=200, help="route pairs per city for the routing comparison")
    args = parser.parse_args()
    console = Console(width=160)
    r = bench_routing(args.pairs)
    s = bench_synth(args.cities, args.workers)
    table = Table(title="rewardmap dataset building")
    for col in ("benchmark", "work", "time (s)", "rate", "vs baseline / goal"):
        table.add_column(col)
    table.add_row("routing: all optimal routes", f"{r['pairs']} pairs on {r['source']}", f"{r['ours']:.2f}",
                  f"{r['pairs'] / r['ours']:,.0f} pairs/s",
                  f"{r['baseline'] / r['ours']:.1f}x faster than state-graph Dijkstra ({r['baseline']:.2f} s, best route only)")
    goal = 120 * args.cities / 1000
    table.add_row(f"data synth, 1,024 px, 50 q/city, {args.workers} workers",
                  f"{s['cities']} cities, {s['questions']} questions", f"{s['seconds']:.1f}",
                  f"{s['cities'] / s['seconds']:.1f} cities/s, {s['questions'] / s['seconds']:,.0f} questions/s",
                  f"goal < {goal:.0f} s: {'PASS' if s['seconds'] < goal else 'FAIL'}")
    console.print(table)


if __name__ == "__main__":
    main()
