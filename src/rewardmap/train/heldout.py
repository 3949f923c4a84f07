"""Held-out evaluation inside a training run: greedy answers to questions about cities the
model never trained on and, optionally, k answers to each sampled as GRPO samples its
rollouts (what GRPO optimises is the sampled accuracy, which moves before the greedy one).
Scored twice:

- With the training reward: per question type, the share of answers that could be read,
  that are right, and the mean reward; sampled accuracy and pass@k; each accuracy with its
  95% bootstrap interval over the questions.
- With the benchmark metrics, exactly as `rewardmap eval` scores them: ReasonMap accuracy and
  map score of route answers (each route question is asked in its short and its long
  wording, as ReasonMap asks it) and ReasonMap-Plus accuracy, plain and difficulty-weighted.

The same functions score questions of training maps, to see whether GRPO moves its own
distribution first.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence

from ..metrics.intervals import interval
from ..model.generate import Sampling
from ..network import StationFiles
from ..questions.kinds import PLUS_TYPES, ROUTE_TYPE
from ..rewards import RewardConfig
from ..rewards.adapters import score_record
from ..rewards.route_reward import endpoints_named


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
                     on_batch: Callable[[int], None] | None = None, field: str = "question",
                     sampling: Sampling | None = None) -> list:
    """Answers to each record's FIELD (its question text), in order, as `rewardmap eval`
    generates them (the map, then the question; the image placeholder suppressed, as sampling
    does in training): one greedy text per record, or with SAMPLING a list of k sampled texts.
    A batch out of GPU memory is split as `rewardmap eval` splits it; a question that does not
    fit even alone gets empty answers, scored as wrong."""
    from ..model.generate import Generator

    model.eval()
    backend = Generator(model, processor, batch_size=batch_size, max_new_tokens=max_new_tokens, sampling=sampling)
    failed = "" if sampling is None else [""] * sampling.k
    answers: list = []
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        outputs = backend.generate_split([(r["figure"], r[field]) for r in batch])
        answers.extend(failed if isinstance(o, BaseException) else o for o in outputs)
        if on_batch:
            on_batch(len(batch))
    return answers


def ask(model, processor, records: Sequence[dict], *, batch_size: int, max_new_tokens: int,
        on_batch: Callable[[int], None] | None = None, sampling: Sampling | None = None) -> list[dict]:
    """`{"answer": ...}` per record, `"answer_long"` for route questions (their long wording,
    asked separately as ReasonMap asks it) and, with SAMPLING, `"samples"` for the Plus
    questions: k answers sampled as GRPO samples its rollouts. (Route answers are long, so
    sampling them costs most of an evaluation; how often route rollouts earn reward is logged
    while GRPO trains instead.)"""
    kwargs = {"batch_size": batch_size, "max_new_tokens": max_new_tokens, "on_batch": on_batch}
    short = generate_answers(model, processor, records, **kwargs)
    routes = [i for i, r in enumerate(records) if r["type"] == ROUTE_TYPE]
    long = generate_answers(model, processor, [records[i] for i in routes], field="question_long", **kwargs)
    out = [{"answer": a} for a in short]
    for i, text in zip(routes, long):
        out[i]["answer_long"] = text
    if sampling is not None:
        plus = [i for i, r in enumerate(records) if r["type"] in PLUS_TYPES]
        sampled = generate_answers(model, processor, [records[i] for i in plus], sampling=sampling, **kwargs)
        for i, samples in zip(plus, sampled):
            out[i]["samples"] = samples
    return out


def questions_asked(records: Sequence[dict], sampling: Sampling | None = None) -> int:
    """Prompts `ask` sends for RECORDS (route questions twice, Plus questions once more when sampling)."""
    routes = sum(r["type"] == ROUTE_TYPE for r in records)
    return len(records) + routes + (len(records) - routes if sampling is not None else 0)


def score_heldout(records: Sequence[dict], answers: Sequence[dict], config: RewardConfig, variant: str) -> dict:
    """Every figure of ANSWERS (as `ask` returns them) to RECORDS, and the answers themselves.

    - `overall`, `plus` (the five ReasonMap-Plus types together) and `by_type`: read with the
      training reward (CONFIG): count, parsed, accuracy and mean reward; with samples also
      sampled accuracy (the mean share of right samples) and pass@k; for routes the share of
      answers naming both endpoints. Accuracies carry their 95% bootstrap interval
      (`<name>_ci`, resampled within each type for groups of several types).
    - `reasonmap`, `reasonmap-plus`: the benchmark summaries `rewardmap eval` writes to
      metrics.json, answers read with VARIANT (checked by the recipe, trusted here).
    - `answers`: one entry per record, `id`, `type`, its answers and `scores`, each question's
      figures (those above, and `benchmark`: its benchmark weight and scores), from which any
      figure here can be computed again.
    """
    from ..metrics import BENCHMARKS, summarize
    from ..metrics.plus import plus_record_scores
    from ..metrics.route_score import route_record_scores
    from ..metrics.benchmarks import benchmark_asking

    files = StationFiles(None)
    entries, rows = [], defaultdict(list)  # rows: per benchmark name, each record with its scores
    for record, answer in zip(records, answers, strict=True):
        scores = question_scores(record, answer, files, config)
        benchmark = benchmark_asking(record["type"])
        if benchmark is not None:
            if benchmark.routes:  # asked in its short and its long wording
                figures = route_record_scores(record, answer["answer"], answer.get("answer_long", ""), variant)
            else:
                figures = plus_record_scores(record, answer["answer"], variant)
            rows[benchmark.name].append({**record, **figures})
            scores["benchmark"] = {"weight": benchmark.weight(record), **figures}
        entries.append({"id": record.get("id"), "type": record["type"], **answer, "scores": scores})
    groups: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        groups[entry["type"]].append(entry)
    plus = [e for e in entries if e["type"] in PLUS_TYPES]
    result = {"overall": group_stats(entries) if entries else None,
              "plus": group_stats(plus) if plus else None,
              "by_type": {t: group_stats(g) for t, g in sorted(groups.items())}}
    for name in BENCHMARKS:
        if rows[name]:
            result[name] = {**summarize(rows[name], name), "variant": variant}
    result["answers"] = entries
    return result


def question_scores(record: dict, answer: dict, files: StationFiles, config: RewardConfig) -> dict:
    """One question's figures under the training reward: its greedy answer's `parsed`,
    `correct` and `reward` (routes: `detail` and `endpoints`, whether it departs and arrives
    where the question asks), and with samples how many of them were read and right."""
    b = score_record(answer["answer"], record, files, config)
    out = {"parsed": b.parsed, "correct": b.correct, "reward": b.reward}
    route = record["type"] == ROUTE_TYPE
    if route:
        out.update(detail=b.detail, endpoints=endpoints_named(answer["answer"], record["station_1"],
                                                                record["station_2"]))
    samples = answer.get("samples")
    if samples is not None:
        scored = [score_record(text, record, files, config) for text in samples]
        out.update(samples=len(scored), samples_parsed=sum(s.parsed for s in scored),
                   samples_correct=sum(s.correct for s in scored))
    return out


def group_stats(entries: Sequence[dict]) -> dict:
    """The figures of a group of scored answers (see `score_heldout`)."""
    scores = [e["scores"] for e in entries]
    strata = [e["type"] for e in entries]
    out: dict = {"count": len(scores)}

    def figure(name: str, values: list[float]) -> None:
        out[name] = sum(values) / len(values)
        out[f"{name}_ci"] = list(interval(values, strata=strata))

    out["parsed"] = sum(s["parsed"] for s in scores) / len(scores)
    figure("accuracy", [float(s["correct"]) for s in scores])
    out["reward"] = sum(s["reward"] for s in scores) / len(scores)
    if all("samples" in s and s["samples"] for s in scores):
        out["k"] = min(s["samples"] for s in scores)
        figure("sampled_accuracy", [s["samples_correct"] / s["samples"] for s in scores])
        figure("pass_at_k", [float(s["samples_correct"] > 0) for s in scores])
        out["sampled_parsed"] = sum(s["samples_parsed"] / s["samples"] for s in scores) / len(scores)
    routes = [s for s in scores if "endpoints" in s]
    if routes and len(routes) == len(scores):
        out["endpoints"] = sum(s["endpoints"] for s in routes) / len(routes)
    return out
