"""Scoring a file of responses: what `rewardmap score` runs.

Each input line is a record (ReasonMap-Train fields, `json` relative to the stations root)
plus `response`; each output line is that response's breakdown, in input order. Station
files are read once each, and a route question whose station file cannot be read is an
error naming the line, not a silent zero.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, where
from ..fileio import read_jsonl_fields
from ..network import StationFiles
from ..questions.kinds import ROUTE_TYPE
from .adapters import integer_fields
from .reward import RewardBreakdown, RewardConfig, compute_reward

# What scoring reads of a record; the rest of each line (questions, routes) is not decoded.
FIELDS = ("type", "answer", "station_1", "station_2", "question_transfer_count", "difficulty_city", "json",
          "response")


def score_file(path: str | Path, stations_root: str | Path = ".",
               config: RewardConfig = RewardConfig()) -> tuple[list[dict], dict]:
    """(one breakdown dict per input line, summary per type: count, mean reward, accuracy)."""
    files = StationFiles(stations_root)
    rows, totals = [], {}
    names = RewardBreakdown._fields
    for lineno, record in read_jsonl_fields(path, FIELDS, required="response"):
        if "response" not in record:
            raise InputError(f"{where(path, lineno, 'response')}: missing (the model's answer to score)")
        integer_fields(record)
        network = None
        if record["type"] == ROUTE_TYPE:
            try:
                network = files.load(record["json"])
            except InputError as e:
                raise InputError(f"{where(path, lineno, 'json')}: {e}") from None
        breakdown = compute_reward(record["response"], record, network, config)
        rows.append(dict(zip(names, breakdown)))
        total = totals.setdefault(str(record["type"]), [0, 0.0, 0])
        total[0] += 1
        total[1] += breakdown.reward
        total[2] += breakdown.correct
    if not rows:
        raise InputError(f"{path}: no records")
    summary = {kind: {"count": n, "mean_reward": reward / n, "accuracy": correct / n}
               for kind, (n, reward, correct) in sorted(totals.items())}
    return rows, summary
