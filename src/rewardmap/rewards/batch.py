"""Scoring a file of responses: what `rewardmap score` runs.

Each input line is a record (ReasonMap-Train fields, `json` relative to the stations root)
plus `response`; each output line is that response's breakdown, in input order. Station
files are read once each, and a route question whose station file cannot be read is an
error naming the line, not a silent zero.
"""

from __future__ import annotations

from pathlib import Path

from msgspec import UNSET
from msgspec.structs import astuple

from ..errors import InputError, where
from ..fileio import read_jsonl_structs
from ..network import StationFiles
from ..questions.kinds import ROUTE_TYPE
from .adapters import integer_fields
from .reward import MEMO_LENGTH, RewardBreakdown, RewardConfig, compute_reward

# What scoring reads of a record; the rest of each line (questions, routes) is not decoded.
FIELDS = ("type", "answer", "station_1", "station_2", "question_transfer_count", "difficulty_city", "json",
          "response")
# Kinds of `answer` and `question_transfer_count` that a memo key tells apart exactly (1, 1.0
# and True are equal keys but not equal labels); the other fields score alike in every kind
# that is not a string.
_EXACT = (str, int, type(None))
MEMO_ENTRIES = 1 << 16


def score_file(path: str | Path, stations_root: str | Path = ".",
               config: RewardConfig = RewardConfig()) -> tuple[list[RewardBreakdown], dict]:
    """(one breakdown per input line, in order; summary per type: count, mean reward, accuracy).

    A short response that recurs for the same question (the samples of one GRPO group, a
    model's stock reply) is scored once: its breakdown is kept and shared.
    """
    files = StationFiles(stations_root)
    breakdowns, totals, seen = [], {}, {}
    for lineno, fields in read_jsonl_structs(path, FIELDS, required="response"):
        response = fields.response
        if response is UNSET:
            raise InputError(f"{where(path, lineno, 'response')}: missing (the model's answer to score)")
        key = breakdown = None
        if type(fields.answer) in _EXACT and type(fields.question_transfer_count) in _EXACT:
            key = astuple(fields)  # every field of FIELDS, response last
            try:
                breakdown = seen.get(key)
            except TypeError:  # a list or object in a field: scored without the memo
                key = None
        if breakdown is None:
            breakdown = _score(fields, files, config, path, lineno)
            if key is not None and len(seen) < MEMO_ENTRIES and (type(response) is not str
                                                                 or len(response) <= MEMO_LENGTH):
                seen[key] = breakdown
        breakdowns.append(breakdown)
        total = totals.get(fields.type) if type(fields.type) is str else None
        if total is None:
            total = totals.setdefault(str(fields.type), [0, 0.0, 0])
        total[0] += 1
        total[1] += breakdown.reward
        total[2] += breakdown.correct
    if not breakdowns:
        raise InputError(f"{path}: no records")
    summary = {kind: {"count": n, "mean_reward": reward / n, "accuracy": correct / n}
               for kind, (n, reward, correct) in sorted(totals.items())}
    return breakdowns, summary


def _score(fields, files: StationFiles, config: RewardConfig, path, lineno: int) -> RewardBreakdown:
    record = integer_fields({name: getattr(fields, name) for name in FIELDS[:-1]})
    network = None
    if record["type"] == ROUTE_TYPE:
        try:
            network = files.load(record["json"])
        except InputError as e:
            raise InputError(f"{where(path, lineno, 'json')}: {e}") from None
    return compute_reward(fields.response, record, network, config)


def breakdown_lines(breakdowns: list[RewardBreakdown]) -> bytes:
    """One JSON object per breakdown, a line each; a breakdown shared by several lines (see
    `score_file`) is encoded once."""
    import msgspec

    encode = msgspec.json.Encoder().encode  # numbers and booleans: a tenth of json.dumps' time
    encoded, out = {}, []
    for breakdown in breakdowns:
        line = encoded.get(id(breakdown))  # by identity: 0.0 and -0.0 are equal keys, not equal text
        if line is None:
            line = encoded[id(breakdown)] = encode(breakdown._asdict()) + b"\n"
        out.append(line)
    return b"".join(out)
