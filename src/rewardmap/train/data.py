"""Records of a dataset folder as training rows: chat prompts with the map, targets, columns.

GRPO rows carry the prompt (one user turn: the map image, then the question) and every
column the reward reads (`type, answer, station_1, station_2, difficulty_city,
question_transfer_count, json`); `json` is made absolute so that rewards find the station
file from any working directory. SFT rows add the target answer in the exact requested
form, which is what the format reward pays for.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from ..errors import InputError
from ..questions.kinds import ROUTE_TYPE
from ..questions.prompts import target_text

REWARD_COLUMNS = ("type", "answer", "station_1", "station_2", "difficulty_city", "question_transfer_count", "json")


def split_by_city(records: Sequence[dict], heldout_cities: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, held out): the questions of `heldout_cities` cities, drawn with `seed`, are
    held out whole, so evaluation asks about maps the model never trained on."""
    cities = sorted({(r.get("country"), r.get("city")) for r in records})
    if heldout_cities <= 0:
        return list(records), []
    if heldout_cities >= len(cities):
        raise InputError(f"cannot hold out {heldout_cities} of {len(cities)} cities: none would be left to train on")
    held = set(random.Random(seed).sample(cities, heldout_cities))
    train = [r for r in records if (r.get("country"), r.get("city")) not in held]
    return train, [r for r in records if (r.get("country"), r.get("city")) in held]


def mix_per_type(records: Sequence[dict], per_type: dict[str, int], seed: int | str) -> list[dict]:
    """The records a phase trains on: `per_type[t]` questions of each type t named there
    (fewer than there are: a sample drawn with SEED; more: all of them as many whole times as
    fit, and a sample for the rest), every record of the other types once; in dataset order,
    repeats after the originals, their ids marked `#2`, `#3`, ... (ids stay unique).

    >>> recs = [{"id": i, "type": t} for i, t in enumerate(["TorF1"] * 4 + ["Counting3"])]
    >>> [r["id"] for r in mix_per_type(recs, {"TorF1": 2, "Counting3": 3}, 0)]
    [1, 2, 4, '4#2', '4#3']
    """
    if not per_type:
        return list(records)
    keep: dict[int, int] = {}  # index -> copies
    for qtype, n in per_type.items():
        group = [i for i, r in enumerate(records) if r["type"] == qtype]
        if not group:
            continue
        whole, rest = divmod(n, len(group))
        for i in group:
            keep[i] = whole
        for i in random.Random(f"{seed}/{qtype}").sample(group, rest):
            keep[i] += 1
    copies = [keep.get(i, 1) for i in range(len(records))]
    return [r if round_ == 0 else {**r, "id": f"{r.get('id')}#{round_ + 1}"}
            for round_ in range(max(copies, default=0)) for r, c in zip(records, copies) if c > round_]


def prompt_messages(record: dict, after_image: str = "") -> list[dict]:
    """One user turn holding the question (after AFTER_IMAGE); TRL puts the row's `image` before its text."""
    return [{"role": "user", "content": after_image + record["question"]}]


def grpo_rows(records: Iterable[dict], after_image: str = "") -> list[dict]:
    """Rows for `GRPOTrainer`: `prompt` (AFTER_IMAGE, then the question), `image` (a path,
    decoded by `datasets.Image`) and the reward's columns."""
    return [{"prompt": prompt_messages(r, after_image), "image": r["figure"], "id": r.get("id"),
             **{k: _column(r.get(k)) for k in REWARD_COLUMNS}} for r in records]


def sft_rows(records: Iterable[dict]) -> list[dict]:
    """Rows for `SFTTrainer` (prompt-completion, conversational); `length` (characters of
    question and answer) is what the batch-rebalance sampler sorts by."""
    rows = []
    for r in records:
        target = target_text(r)
        rows.append({"prompt": prompt_messages(r), "completion": [{"role": "assistant", "content": target}],
                     "image": r["figure"], "length": len(r["question"]) + len(target)})
    return rows


def _column(value):
    """Reward columns share one Arrow type per column: integer answers and route texts are
    both written as text (the reward reads integer strings back as integers)."""
    return None if value is None else str(value)
