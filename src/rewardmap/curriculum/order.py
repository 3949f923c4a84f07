"""Order records stage by stage: shuffled inside a stage, optionally easy to hard.

Each stage draws from its own `random.Random(f"{seed}/{stage name}")` (string seeds are
hashed with SHA-512, so the order is the same in every process whatever PYTHONHASHSEED
is), and records enter sorted by id, so the order depends neither on the input's order
nor on the other stages: the planning stage comes out the same under the `rewardmap`
and `coarse` presets, and the ablations compare like with like.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping

from ..errors import InputError
from ..questions.kinds import DIFFICULTIES
from .stages import Curriculum, stage_name

_RANK = {d: i for i, d in enumerate(DIFFICULTIES)}


def group_by_stage(records: Iterable[Mapping], curriculum: Curriculum, *,
                   leave_out_unstaged: bool = False) -> tuple[list[list[Mapping]], dict[str, int]]:
    """Each stage's records in training order, and how many records of each type no stage trains.

    A record whose type is in no stage is an error unless `leave_out_unstaged`.

    >>> recs = [{"id": f"r{i}", "type": t} for i, t in enumerate(["planning", "TorF1", "TorF2", "Counting1"])]
    >>> groups, left_out = group_by_stage(recs, Curriculum([["TorF1", "TorF2"], ["planning"]]),
    ...                                   leave_out_unstaged=True)
    >>> [[r["id"] for r in g] for g in groups], left_out
    ([['r1', 'r2'], ['r0']], {'Counting1': 1})
    """
    groups: list[list[Mapping]] = [[] for _ in curriculum.stages]
    left_out: Counter[str] = Counter()
    ids: set[str] = set()
    for record in records:
        rid = record.get("id")
        if rid is None:
            raise InputError(f"record of type {record.get('type')!r} has no 'id'")
        if str(rid) in ids:
            raise InputError(f"record {rid!r}: duplicate id")
        ids.add(str(rid))
        stage = curriculum.stage_of(record.get("type"))
        if stage is not None:
            groups[stage].append(record)
        elif leave_out_unstaged:
            left_out[str(record.get("type"))] += 1
        else:
            raise InputError(f"record {rid!r}: type {record.get('type')!r} is in no curriculum stage "
                             f"({', '.join(curriculum.names)}); leave such records out explicitly to skip them")
    ordered = [_order_stage(g, stage_name(types), curriculum) for g, types in zip(groups, curriculum.stages)]
    return ordered, dict(sorted(left_out.items()))


def _order_stage(records: list[Mapping], name: str, curriculum: Curriculum) -> list[Mapping]:
    rows = sorted(records, key=lambda r: str(r["id"]))
    random.Random(f"{curriculum.seed}/{name}").shuffle(rows)
    if curriculum.easy_to_hard:
        rows.sort(key=difficulty_key)  # stable, so the shuffle still orders the ties
    return rows


def difficulty_key(record: Mapping) -> tuple[int, int, int]:
    """(map difficulty, question difficulty, transfers), smaller is easier.

    A Plus question's difficulty is its map's (ReasonMap-Plus defines it so), so a missing
    `difficulty_question` falls back to `difficulty_city`.

    >>> difficulty_key({"id": "a", "difficulty_city": "middle", "difficulty_question": "hard",
    ...                 "question_transfer_count": 2})
    (1, 2, 2)
    """
    city = _rank(record, "difficulty_city", record.get("difficulty_city"))
    question = record.get("difficulty_question")
    question = city if question is None else _rank(record, "difficulty_question", question)
    transfers = record.get("question_transfer_count") or 0
    if isinstance(transfers, bool) or not isinstance(transfers, int) or transfers < 0:
        raise InputError(f"record {record.get('id')!r}: field 'question_transfer_count' is {transfers!r}, "
                         "expected a count")
    return city, question, transfers


def _rank(record: Mapping, field: str, value) -> int:
    if not isinstance(value, str) or value not in _RANK:
        raise InputError(f"record {record.get('id')!r}: field '{field}' is {value!r}, "
                         f"expected one of {', '.join(DIFFICULTIES)}")
    return _RANK[value]
