"""The reward as TRL's GRPOTrainer and verl call it.

Both adapters read a record's station file (`json`: a path, relative ones resolved
against `stations_root`, or the station-file object itself) once and keep it; a file that
cannot be read scores its responses 0. Dataset columns often come as strings (a column
holding both route texts and Plus labels cannot be an integer column), so an integer
written as a string is read as that integer for `answer` and `question_transfer_count`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import InputError
from ..network import Network, StationFiles
from ..questions.kinds import ROUTE_TYPE
from .reward import RewardBreakdown, RewardConfig, compute_reward

COMPONENTS = ("parsed", "correct", "detail", "format", "weight")
_INTEGER = re.compile(r"[-+]?\d{1,18}")


def score_record(response, record: Mapping, files: StationFiles, config: RewardConfig) -> RewardBreakdown:
    """`compute_reward` for a record whose station file is named in its `json` field."""
    record = integer_fields(dict(record))
    network = station_network(files, record.get("json")) if record.get("type") == ROUTE_TYPE else None
    return compute_reward(response, record, network, config)


def integer_fields(record: dict) -> dict:
    """RECORD with `answer` and `question_transfer_count` read as integers where they are
    integers written as strings (changed in place, and returned)."""
    for k in ("answer", "question_transfer_count"):
        if isinstance(record.get(k), str):
            record[k] = _integer(record[k])
    return record


def station_network(files: StationFiles, source) -> Network | None:
    """The network of a `json` value, or None when it cannot be read (a reward never raises)."""
    try:
        return files.load(source)
    except InputError:
        return None


def _integer(value):
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return value


# ------------------------------------------------------------------ TRL


def completion_text(completion) -> str:
    """A TRL completion as text: a string, or chat messages whose content is a string or a
    list of parts (`{"type": "text", "text": ...}`).

    >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "\\\\boxed{A}"}]}])
    '\\\\boxed{A}'
    """
    if isinstance(completion, str):
        return completion
    if not isinstance(completion, (list, tuple)):
        return ""
    texts = []
    for message in completion:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, (list, tuple)):
            texts.extend(part["text"] for part in content
                         if isinstance(part, Mapping) and isinstance(part.get("text"), str))
    return "".join(texts)


def make_trl_reward(config: RewardConfig = RewardConfig(), stations_root: str | Path = ".") -> Callable:
    """A reward function for `trl.GRPOTrainer(reward_funcs=...)`.

    TRL calls it as `f(prompts=..., completions=..., completion_ids=..., **columns)`, each
    dataset column a list with one value per completion; it returns one float per
    completion. After each call, `f.last_breakdown` maps "reward" and each of `COMPONENTS`
    to the batch's values, and `f.components` holds one reward function per component
    (for logging with weight 0: they reuse the batch just scored instead of scoring again).

    >>> reward = make_trl_reward()
    >>> reward(["\\\\boxed{no}", [{"role": "assistant", "content": "\\\\boxed{yes}"}]],
    ...        type=["TorF1", "TorF1"], answer=[1, 1], difficulty_city=["middle", "middle"])
    [0.0, 12.0]
    >>> reward.last_breakdown["correct"], reward.__name__
    ([False, True], 'rewardmap_reference')
    """
    files = StationFiles(stations_root)
    batch: dict = {"completions": None, "breakdowns": []}

    def score(completions, **columns) -> list[RewardBreakdown]:
        if completions is not batch["completions"]:
            n = len(completions)
            rows = [{k: v[i] for k, v in columns.items() if isinstance(v, (list, tuple)) and len(v) == n}
                    for i in range(n)]
            batch.update(completions=completions, breakdowns=[
                score_record(completion_text(c), row, files, config) for c, row in zip(completions, rows)])
            reward.last_breakdown = {"reward": [b.reward for b in batch["breakdowns"]],
                                     **{f: [getattr(b, f) for b in batch["breakdowns"]] for f in COMPONENTS}}
        return batch["breakdowns"]

    def reward(completions, **columns) -> list[float]:
        return [b.reward for b in score(completions, **columns)]

    def component(field: str) -> Callable:
        def fn(completions, **columns) -> list[float]:
            return [float(getattr(b, field)) for b in score(completions, **columns)]
        fn.__name__ = f"rewardmap_{field}"
        return fn

    reward.__name__ = reward.__qualname__ = f"rewardmap_{config.variant}"
    reward.last_breakdown = {}
    reward.components = {field: component(field) for field in COMPONENTS}
    return reward


# ------------------------------------------------------------------ verl

_FILES: dict[str, StationFiles] = {}


def compute_score(data_source, solution_str, ground_truth, extra_info=None, *,
                  stations_root: str = ".", **config) -> dict:
    """verl's custom reward function (`custom_reward_function.path` / `.name`).

    The record is `extra_info` (a dict with `type`, `difficulty_city`, `station_1`,
    `station_2`, `question_transfer_count`, `json`, ...) with `answer` set from
    `ground_truth`; a dict `ground_truth` is merged in whole instead. `stations_root`
    (resolving relative `json` paths) and any `RewardConfig` field can be passed through
    verl's `custom_reward_function.reward_kwargs`. Returns verl's dict form: "score" plus
    each of `COMPONENTS` as a float, for verl to log.

    >>> compute_score("reasonmap_plus", "\\\\boxed{C}", "2", {"type": "Counting1", "difficulty_city": "easy"})
    {'score': 10.0, 'parsed': 1.0, 'correct': 1.0, 'detail': 0.0, 'format': 0.0, 'weight': 1.0}
    """
    record = dict(extra_info) if isinstance(extra_info, Mapping) else {}
    record.update(ground_truth if isinstance(ground_truth, Mapping) else {"answer": ground_truth})
    files = _FILES.setdefault(str(stations_root), StationFiles(stations_root))
    b = score_record(solution_str, record, files, RewardConfig(**config))
    return {"score": b.reward, **{field: float(getattr(b, field)) for field in COMPONENTS}}
