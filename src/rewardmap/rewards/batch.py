"""Scoring a file of responses: what `rewardmap score` runs.

Each input line is a record (ReasonMap-Train fields, `json` relative to the stations root)
plus `response`; each output line is that response's breakdown, in input order. Station
files are read once each, and a route question whose station file cannot be read is an
error naming the line, not a silent zero.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..errors import InputError, where
from ..fileio import read_jsonl
from ..network import StationFiles
from ..questions.kinds import ROUTE_TYPE
from .adapters import score_record
from .reward import RewardConfig


def score_file(path: str | Path, stations_root: str | Path = ".",
               config: RewardConfig = RewardConfig()) -> tuple[list[dict], dict]:
    """(one breakdown dict per input line, summary per type: count, mean reward, accuracy)."""
    files = StationFiles(stations_root)
    rows, totals = [], defaultdict(lambda: [0, 0.0, 0])
    for lineno, record in read_jsonl(path):
        if "response" not in record:
            raise InputError(f"{where(path, lineno, 'response')}: missing (the model's answer to score)")
        if record.get("type") == ROUTE_TYPE:
            try:
                files.load(record.get("json"))
            except InputError as e:
                raise InputError(f"{where(path, lineno, 'json')}: {e}") from None
        breakdown = score_record(record["response"], record, files, config).as_dict()
        rows.append(breakdown)
        total = totals[str(record.get("type"))]
        total[0] += 1
        total[1] += breakdown["reward"]
        total[2] += breakdown["correct"]
    if not rows:
        raise InputError(f"{path}: no records")
    summary = {kind: {"count": n, "mean_reward": reward / n, "accuracy": correct / n}
               for kind, (n, reward, correct) in sorted(totals.items())}
    return rows, summary
