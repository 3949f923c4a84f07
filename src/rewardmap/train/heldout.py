"""Held-out evaluation inside a training run: greedy answers to questions about cities the
model never trained on, scored twice.

- With the training reward: per question type, the share of answers that could be read,
  that are right, and the mean reward.
- With the benchmark metrics, exactly as `rewardmap eval` scores them: ReasonMap accuracy and
  map score of route answers (each route question is asked in its short and its long
  wording, as ReasonMap asks it) and ReasonMap-Plus accuracy, plain and difficulty-weighted.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence

from ..network import StationFiles
from ..questions.kinds import PLUS_TYPES, ROUTE_TYPE
from ..rewards import RewardConfig
from ..rewards.adapters import score_record


def select_heldout(records: Sequence[dict], per_type: int | None, seed: int = 0) -> list[dict]:
    """At most `per_type` records of each type, spread over the cities: each city gives one
    question of a type before any city gives a second one. Cities, and questions inside a
    city, are taken in an order drawn with SEED, not in dataset order (a generator may write
    a city's questions in a pattern, e.g. a transfer station first). The records keep their
    dataset order.

    >>> recs = [{"id": f"{c}{i}", "type": "TorF1", "city": c} for c in "ab" for i in range(3)]
    >>> sorted(r["city"] for r in select_heldout(recs, 4))
    ['a', 'a', 'b', 'b']
    """
    if not per_type:
        return list(records)
    rng = random.Random(seed)
    cities = sorted({str(r.get("city")) for r in records})
    rng.shuffle(cities)
    city_rank = {c: i for i, c in enumerate(cities)}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, r in enumerate(records):
        groups[(r["type"], str(r.get("city")))].append(index)
    ranked: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for (qtype, city), indices in sorted(groups.items()):
        rng.shuffle(indices)
        ranked[qtype] += [(turn, city_rank[city], index) for turn, index in enumerate(indices)]
    chosen = {index for keys in ranked.values() for _, _, index in sorted(keys)[:per_type]}
    return [r for i, r in enumerate(records) if i in chosen]


def generate_answers(model, processor, records: Sequence[dict], *, batch_size: int = 8, max_new_tokens: int = 256,
                     on_batch: Callable[[int], None] | None = None, field: str = "question") -> list[str]:
    """Greedy answers to each record's FIELD (its question text), one per record, in order,
    as `rewardmap eval` generates them (the map, then the question; the image placeholder
    suppressed, as sampling does in training). A batch out of GPU memory is split as
    `rewardmap eval` splits it; a question that does not fit even alone gets the empty
    answer, scored as wrong."""
    from ..model.generate import Generator

    model.eval()
    backend = Generator(model, processor, batch_size=batch_size, max_new_tokens=max_new_tokens)
    answers: list[str] = []
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        outputs = backend.generate_split([(r["figure"], r[field]) for r in batch])
        answers.extend(o if isinstance(o, str) else "" for o in outputs)
        if on_batch:
            on_batch(len(batch))
    return answers


def ask(model, processor, records: Sequence[dict], *, batch_size: int, max_new_tokens: int,
        on_batch: Callable[[int], None] | None = None) -> list[dict]:
    """`{"answer": ...}` per record, and `"answer_long"` for route questions (their long
    wording, asked separately as ReasonMap asks it)."""
    kwargs = {"batch_size": batch_size, "max_new_tokens": max_new_tokens, "on_batch": on_batch}
    short = generate_answers(model, processor, records, **kwargs)
    routes = [i for i, r in enumerate(records) if r["type"] == ROUTE_TYPE]
    long = generate_answers(model, processor, [records[i] for i in routes], field="question_long", **kwargs)
    out = [{"answer": a} for a in short]
    for i, text in zip(routes, long):
        out[i]["answer_long"] = text
    return out


def questions_asked(records: Sequence[dict]) -> int:
    """Generations `ask` makes for RECORDS (route questions twice)."""
    return len(records) + sum(r["type"] == ROUTE_TYPE for r in records)


def score_heldout(records: Sequence[dict], answers: Sequence[dict], config: RewardConfig,
                  variant: str) -> dict:
    """The reward statistics (`overall`, `by_type`: count, parsed, accuracy, reward) and the
    benchmark summaries (`reasonmap`, `reasonmap-plus`: what `rewardmap eval` writes to
    metrics.json, parsed with VARIANT) of ANSWERS (as `ask` returns them)."""
    from ..metrics import score_plus_record, score_route_record, summarize

    result = score_answers(records, [a["answer"] for a in answers], config)
    plus, routes = [], []
    for record, answer in zip(records, answers, strict=True):
        if record["type"] == ROUTE_TYPE:
            scores = score_route_record(record, answer["answer"], answer.get("answer_long", ""), variant)
            routes.append({**record, **scores})
        elif record["type"] in PLUS_TYPES:
            plus.append({**record, **score_plus_record(record, answer["answer"], variant)})
    for benchmark, rows in (("reasonmap", routes), ("reasonmap-plus", plus)):
        if rows:
            result[benchmark] = {**summarize(rows, benchmark), "variant": variant}
    return result


def score_answers(records: Sequence[dict], answers: Sequence[str], config: RewardConfig) -> dict:
    """{"overall": stats, "by_type": {type: stats}}, stats = count, parsed, accuracy, reward."""
    files = StationFiles(None)
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for record, answer in zip(records, answers, strict=True):
        b = score_record(answer, record, files, config)
        for key in (record["type"], "overall"):
            s = sums[key]
            s[0] += 1
            s[1] += b.parsed
            s[2] += b.correct
            s[3] += b.reward

    def stats(s):
        return {"count": int(s[0]), "parsed": s[1] / s[0], "accuracy": s[2] / s[0], "reward": s[3] / s[0]}

    overall = sums.pop("overall", [0, 0.0, 0.0, 0.0])
    return {"overall": stats(overall) if overall[0] else None, "by_type": {k: stats(v) for k, v in sorted(sums.items())}}
