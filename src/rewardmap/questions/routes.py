"""Route-planning questions with reference routes and the 20:15:5 difficulty quota."""

from __future__ import annotations

import random

from ..network import Network, Router, question_difficulty
from . import prompts

QUOTA = {"easy": 20, "middle": 15, "hard": 5}  # per map, by transfers of the reference route
MAX_PLANS = 8  # reference plans kept per question (all optimal routes, up to this many)
_DRAWS_PER_QUESTION = 60  # random station pairs tried per wanted question


def split_quota(k: int) -> dict[str, int]:
    """k route questions split 20:15:5 by largest remainder.

    >>> split_quota(40), split_quota(8)
    ({'easy': 20, 'middle': 15, 'hard': 5}, {'easy': 4, 'middle': 3, 'hard': 1})
    """
    total = sum(QUOTA.values())
    exact = {d: k * q / total for d, q in QUOTA.items()}
    out = {d: int(x) for d, x in exact.items()}
    for d in sorted(exact, key=lambda d: out[d] - exact[d])[: k - sum(out.values())]:
        out[d] += 1
    return out


def route_questions(network: Network, rng: random.Random, k: int,
                    router: Router | None = None) -> list[dict]:
    """Up to k route questions, 20:15:5 easy:middle:hard where the map allows it.

    A level the map cannot fill (an easy map may have no two-transfer pair) passes its
    share on to the others, so the map still gets k questions when it has k pairs.
    Pairs whose optimal routes pass the unknown part of a branched line are skipped.
    """
    router = router or Router(network)
    want = split_quota(k)
    found: dict[str, list[tuple[str, str]]] = {d: [] for d in want}
    seen: set[frozenset] = set()
    stations = network.stations
    if len(stations) >= 2:
        for _ in range(k * _DRAWS_PER_QUESTION):
            if all(len(found[d]) >= want[d] for d in want):
                break
            a, b = rng.sample(stations, 2)
            t = router.transfers(a, b)
            if t is None or frozenset((a, b)) in seen:
                continue
            seen.add(frozenset((a, b)))
            level = question_difficulty(t)
            if len(found[level]) < k:  # extras fill the levels the map cannot
                found[level].append((a, b))
    out: list[dict] = []

    def take(level: str, n: int) -> None:
        while n > 0 and found[level]:
            a, b = found[level].pop(0)
            plans = router.routes(a, b, limit=MAX_PLANS)
            if plans and all(p.certain for p in plans):
                out.append(_record(a, b, plans, rng))
                n -= 1

    for level in want:
        take(level, want[level])
    for level in ("middle", "easy", "hard"):  # the levels the map could not fill
        take(level, k - len(out))
    return out


def _record(a: str, b: str, plans, rng: random.Random) -> dict:
    sections = [p.to_sections() for p in plans]
    transfers = plans[0].transfers
    return {
        "type": "planning",
        "question": prompts.route(a, b),
        "question_long": prompts.route(a, b, long=rng.choice(("count", "list"))),
        "answer": prompts.route_answer(sections[0]),
        "station_1": a,
        "station_2": b,
        "difficulty_question": question_difficulty(transfers),
        "question_transfer_count": transfers,
        "routes": sections,
    }
