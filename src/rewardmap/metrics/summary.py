"""Aggregate metrics of ReasonMap and ReasonMap-Plus, and scoring of a predictions file.

Weighted metrics are `sum(w * score) / sum(w)`, as released: ReasonMap
weights a question by (question difficulty, map difficulty) with `ROUTE_WEIGHTS`,
ReasonMap-Plus by the map's difficulty (`difficulty_city`, as VLMEvalKit does; a Plus
question's difficulty equals its map's) with `PLUS_WEIGHTS` (both in `benchmarks`).

Units follow the published tables (ReasonMap and RewardMap papers): accuracies are fractions here and
percentages in `published`; map scores are raw means on their own scale (0-20 short,
0-40 long) everywhere, as the published 4.01 / 5.74 cannot be percentages of the
maximum (the +10 / +20 of a correct answer alone gives more than 13.28% of 10 points).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping

import msgspec

from ..errors import InputError, shown, where
from ..fileio import raw_value, read_jsonl_fields
from ..network import Network, StationFiles
from ..questions.kinds import DIFFICULTIES, PLUS_TYPES
from .benchmarks import Benchmark, benchmark_named
from .plus import plus_record_scores
from .route_score import LONG_MAX, SHORT_MAX, RecordError, route_record_scores


def weight(record: Mapping, benchmark: str) -> float:
    """A record's weight in the weighted metrics of BENCHMARK (`Benchmark.weight`).

    >>> weight({"difficulty_question": "middle", "difficulty_city": "hard"}, "reasonmap")
    2.5
    >>> weight({"difficulty_city": "middle"}, "reasonmap-plus")
    1.5
    """
    return benchmark_named(benchmark).weight(record)


def summarize(rows: Iterable[Mapping], benchmark: str) -> dict:
    """Plain and weighted means, overall and per group, with counts.

    `rows`: one mapping per question holding the record's fields and its scores (those of
    `score_route_record` or `score_plus_record`).

    >>> rows = [{"type": "TorF1", "city": "rome", "difficulty_city": "easy", "correct": True},
    ...         {"type": "Counting2", "city": "kl", "difficulty_city": "hard", "correct": False}]
    >>> s = summarize(rows, "reasonmap-plus")
    >>> s["overall"]
    {'count': 2, 'correct': {'mean': 0.5, 'weighted': 0.3333333333333333}}
    >>> s["published"]
    {'overall': 33.33333333333333, 'Count': 0.0, 'TorF': 100.0}
    """
    return _summary(rows, benchmark_named(benchmark))


def _summary(rows: Iterable[Mapping], bench: Benchmark) -> dict:
    metrics = bench.metrics
    table = []  # each row with its weight and scores as floats, once: every grouping sums them again
    for i, row in enumerate(rows, 1):
        try:
            w = bench.weight(row)
            for m in metrics:
                if not isinstance(row.get(m), (int, float)):
                    raise RecordError(m, f"expected a score, got {row.get(m)!r}")
        except RecordError as e:
            raise InputError(f"record {i}: {e}") from None
        table.append((row, w, [float(row[m]) for m in metrics]))

    def stats(group) -> dict:
        out = {"count": len(group)}
        if group:
            total = sum([w for _, w, _ in group])
            for j, m in enumerate(metrics):
                out[m] = {"mean": sum([v[j] for _, _, v in group]) / len(group),
                          "weighted": sum([w * v[j] for _, w, v in group]) / total}
        return out

    def by(key) -> dict:
        groups: dict[str, list] = {}
        for item in table:
            groups.setdefault(item[0].get(key), []).append(item)
        return {k: stats(g) for k, g in sorted(groups.items(), key=lambda kv: _order(kv[0]))}

    summary = {"benchmark": bench.name, "count": len(table), "overall": stats(table)}
    if bench.groups:  # ReasonMap-Plus: per type and group; the paper publishes the overall and group figures
        summary["by_type"] = by("type")
        summary["by_group"] = {name: stats([item for item in table if item[0].get("type") in types])
                               for name, types in bench.groups.items()}
        summary["published"] = {name: _percent(g, "correct") for name, g in
                                (("overall", summary["overall"]), *summary["by_group"].items())}
    else:  # ReasonMap: the paper publishes each metric, accuracies in percent
        summary["published"] = {m: _percent(summary["overall"], m) if m in bench.accuracies
                                else _weighted(summary["overall"], m) for m in metrics}
    if bench.routes:
        summary["map_score_max"] = {"short": SHORT_MAX, "long": LONG_MAX}
    for name, field in bench.breakdowns.items():
        summary[name] = by(field)
    summary["by_city"] = by("city")
    summary["weights"] = copy.deepcopy(bench.weights)
    return summary


def evaluate_predictions(pred_path: str | os.PathLike, benchmark: str,
                         stations_root: str | os.PathLike | None = None,
                         variant: str = "reference",
                         lines: Iterable[tuple[int, dict]] | None = None) -> tuple[dict, list[dict]]:
    """Score every line of a predictions file; returns (summary, per-line scores in order).

    Each line is a question record plus `response` (ReasonMap-Plus) or `response_short`
    and `response_long` (ReasonMap). A ReasonMap record's `json` is the station object or
    a path relative to `stations_root`; each station file is read once. `lines`, when
    given, are the file's (line number, record) pairs already in memory.
    """
    bench = benchmark_named(benchmark)
    bench.check_variant("variant", variant)  # once: the scorers below trust it
    files = StationFiles(stations_root)
    rows, scores, seen = [], [], {}
    if lines is None:  # only the fields scoring reads are decoded (not the questions, ids, maps)
        # ReasonMap's routes stay JSON text, the memo's key (raw names no field Plus reads)
        lines = read_jsonl_fields(pred_path, bench.fields, raw=("routes",))
    for lineno, record in lines:
        try:
            if bench.routes:
                key = _route_key(record)
                score = seen.get(key) if key is not None else None
                if score is None:
                    resolved = {**record, "json": _station_network(files, record.get("json")),
                                "routes": raw_value(record.get("routes"), where(pred_path, lineno, "routes"))}
                    score = route_record_scores(resolved, record.get("response_short"),
                                                record.get("response_long"), variant)
                    if key is not None and len(seen) < MEMO_ENTRIES:
                        seen[key] = score
                score = dict(score)  # each line its own
            else:
                score = plus_record_scores(record, record.get("response"), variant)
            bench.weight(record)
            if not isinstance(record.get("city"), (str, type(None))):  # results are grouped by it
                raise RecordError("city", f"expected the city's name, got {shown(record.get('city'))}")
        except RecordError as e:
            raise InputError(f"{where(pred_path, lineno, e.field)}: {e.detail}") from None
        scores.append(score)
        rows.append({**record, **score})
    if not rows:
        raise InputError(f"{pred_path}: no records")
    summary = _summary(rows, bench)
    summary["variant"] = variant
    return summary, scores


# What a ReasonMap answer's scores depend on besides `routes`: a line with the same values
# (the samples of one question, a model's stock reply) is scored once.
_ROUTE_KEY = ("json", "country", "city", "station_1", "station_2", "question_long", "response_short", "response_long")
MEMO_ENTRIES = 1 << 16


def _route_key(record: Mapping) -> tuple | None:
    """The memo key of a line read by `read_jsonl_fields` (None: not remembered): the JSON
    text of its routes and its text fields, all strings (so that equal keys are equal
    values: 1, 1.0 and True are equal keys)."""
    routes = record.get("routes")
    values = tuple(map(record.get, _ROUTE_KEY))
    if type(routes) is not msgspec.Raw or not all(type(v) is str for v in values):
        return None
    return bytes(routes), *values


def _station_network(files: StationFiles, value) -> Network:
    try:
        return files.load(value)
    except InputError as e:
        raise RecordError("json", str(e)) from None


def _order(key) -> tuple:
    """Difficulties and Plus types in their usual order, anything else by name."""
    known = DIFFICULTIES + PLUS_TYPES
    return (0, known.index(key), "") if key in known else (1, 0, str(key))


def _weighted(group: dict, metric: str) -> float | None:
    return group[metric]["weighted"] if group["count"] else None


def _percent(group: dict, metric: str) -> float | None:
    value = _weighted(group, metric)
    return None if value is None else 100 * value
