"""How many questions of each type a city gets, and making them."""

from __future__ import annotations

import random

from ..network import Network, Router
from .kinds import QUESTION_TYPES, ROUTE_TYPE
from .plus import GENERATORS
from .routes import route_questions

# Share of a city's questions per type. Counting3 has one distinct question per map
# ("how many lines in total") and takes one slot; the rest are split by these weights.
SHARES = {ROUTE_TYPE: 0.4, "Counting1": 0.15, "Counting2": 0.15, "TorF1": 0.15, "TorF2": 0.15}


def allocate(per_city: int, types: tuple[str, ...]) -> dict[str, int]:
    """Questions per type for one city (largest remainder over SHARES).

    >>> allocate(50, ("planning", "Counting1", "Counting2", "Counting3", "TorF1", "TorF2"))
    {'Counting3': 1, 'planning': 20, 'Counting1': 7, 'Counting2': 7, 'TorF1': 7, 'TorF2': 8}
    """
    out = {}
    if "Counting3" in types and per_city > 0:
        out["Counting3"] = 1
    weighted = [t for t in SHARES if t in types]
    rest = per_city - sum(out.values())
    if not weighted:
        return out
    total = sum(SHARES[t] for t in weighted)
    exact = {t: rest * SHARES[t] / total for t in weighted}
    counts = {t: int(x) for t, x in exact.items()}
    for t in sorted(weighted, key=lambda t: (counts[t] - exact[t], -weighted.index(t)))[: rest - sum(counts.values())]:
        counts[t] += 1
    return out | counts


def city_questions(network: Network, *, per_city: int = 50, types: tuple[str, ...] = QUESTION_TYPES,
                   seed: int | str = 0) -> list[dict]:
    """Up to `per_city` distinct questions for one city, deterministic for the seed.

    Returns partial records (type, question, answer, stations and the type's own fields);
    `datasets` adds the city fields.

    A type the map cannot fill (no "no" answer on a one-line map, few hard routes) hands
    its share to the types that can, so small maps still get `per_city` when possible.
    """
    unknown = set(types) - set(QUESTION_TYPES)
    if unknown:
        raise ValueError(f"unknown question types {sorted(unknown)}; choose from {list(QUESTION_TYPES)}")
    router = Router(network)

    def generate(kind: str, k: int) -> list[dict]:
        rng = random.Random(f"{seed}/{kind}")
        if kind == ROUTE_TYPE:
            return route_questions(network, rng, k, router)
        return GENERATORS[kind](network, rng, k)

    quota = allocate(per_city, types)
    made = {kind: generate(kind, k) for kind, k in quota.items()}
    missing = sum(quota.values()) - sum(map(len, made.values()))
    for kind, k in quota.items():  # second pass: types that filled their share take more
        if missing <= 0:
            break
        if len(made[kind]) == k and kind != "Counting3":
            more = generate(kind, k + missing)
            missing -= len(more) - len(made[kind])
            made[kind] = more
    return [q for kind in quota for q in made[kind]]
