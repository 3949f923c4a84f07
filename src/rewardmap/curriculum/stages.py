"""Curriculum stages: which question types are trained together, and in which order.

RewardMap orders training by task: the perception questions
first (TorF), then counting, then route planning, in one continuous run. A stage is a
set of question types shuffled together; the paper's ablations only move the cuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..questions.kinds import PLUS_TYPES, QUESTION_TYPES, ROUTE_TYPE

Stages = tuple[tuple[str, ...], ...]

PRESETS: dict[str, Stages] = {
    "rewardmap": (("TorF1", "TorF2"), ("Counting2", "Counting3"), ("Counting1",), (ROUTE_TYPE,)),
    "coarse": (PLUS_TYPES, (ROUTE_TYPE,)),
    "fine": (("TorF1",), ("TorF2",), ("Counting3",), ("Counting2",), ("Counting1",), (ROUTE_TYPE,)),
    # No curriculum at all: the plain RL baseline, every type shuffled together.
    "shuffled": (QUESTION_TYPES,),
}


def stage_name(types: Sequence[str]) -> str:
    """A stage's name is its types joined by '+', and that name also parses back as a stage.

    >>> stage_name(("TorF1", "TorF2"))
    'TorF1+TorF2'
    """
    return "+".join(types)


def parse_stages(spec: str | Sequence[str | Sequence[str]]) -> Stages:
    """A preset name, or a list of stages, each a list of types or a 'TorF1+TorF2' string.

    >>> parse_stages(["TorF1+TorF2", ["planning"]])
    (('TorF1', 'TorF2'), ('planning',))
    """
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise InputError(f"curriculum: unknown preset {spec!r}; choose one of {', '.join(PRESETS)}")
        return PRESETS[spec]
    stages = tuple(tuple(s.split("+")) if isinstance(s, str) else tuple(s) for s in spec)
    if not stages:
        raise InputError("curriculum: no stages")
    seen: dict[str, int] = {}
    for i, types in enumerate(stages, 1):
        if not types:
            raise InputError(f"curriculum: stage {i} has no question types")
        for t in types:
            if t not in QUESTION_TYPES:
                raise InputError(f"curriculum: stage {i}: unknown question type {t!r}; "
                                 f"known types: {', '.join(QUESTION_TYPES)}")
            if t in seen:
                raise InputError(f"curriculum: question type {t!r} is in stage {seen[t]} and stage {i}; "
                                 "a type belongs to one stage")
            seen[t] = i
    return stages


@dataclass(frozen=True)
class Curriculum:
    """Stages in training order, the shuffle seed, and whether a stage runs easy to hard.

    `stages` takes a preset name or a stage list (see `parse_stages`) and keeps the parsed
    tuple, so two curricula with the same stages compare equal however they were written.

    >>> Curriculum("coarse").names
    ('Counting1+Counting2+Counting3+TorF1+TorF2', 'planning')
    >>> Curriculum([["TorF1", "TorF2"], ["Counting2", "Counting3"], ["Counting1"], ["planning"]]).preset
    'rewardmap'
    """

    stages: Stages = PRESETS["rewardmap"]
    seed: int = 0
    easy_to_hard: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", parse_stages(self.stages))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError(f"curriculum: seed must be an integer, got {self.seed!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(stage_name(types) for types in self.stages)

    @property
    def preset(self) -> str | None:
        """The preset these stages are, if any (for logs and reports)."""
        return next((name for name, stages in PRESETS.items() if stages == self.stages), None)

    def stage_of(self, question_type: str) -> int | None:
        """Index of the stage that trains `question_type`, or None when no stage does."""
        return next((i for i, types in enumerate(self.stages) if question_type in types), None)
