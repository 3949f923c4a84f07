"""A curriculum laid onto TRL's chunks and optimizer steps (the arithmetic is in the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from numbers import Rational

from ..errors import InputError
from .order import group_by_stage
from .stages import Curriculum


@dataclass(frozen=True)
class StageSpan:
    """Where one stage sits in a plan.

    `count`: the stage's records, each once. `start`/`stop`: its rows `[start, stop)` of
    `plan.records` (the last stage's also hold the `filled` rows). `first_step`/`last_step`:
    the 1-based optimizer steps (Trainer's `state.global_step` once the step is done) that
    train on it, both included; None for a stage with no records.
    """

    name: str
    types: tuple[str, ...]
    count: int
    start: int
    stop: int
    first_step: int | None
    last_step: int | None


@dataclass(frozen=True)
class CurriculumPlan:
    """Ordered records (give them to GRPOTrainer as they are) and where each stage trains."""

    curriculum: Curriculum
    records: tuple[Mapping, ...]
    stages: tuple[StageSpan, ...]
    prompts_per_chunk: int
    steps_per_chunk: Fraction
    filled: int
    left_out: dict[str, int]

    @property
    def chunks(self) -> int:
        return len(self.records) // self.prompts_per_chunk

    @property
    def total_steps(self) -> int:
        return math.ceil(self.chunks * self.steps_per_chunk)

    @property
    def mixed_steps(self) -> tuple[int, ...]:
        """Steps that train on two stages at once (a chunk, or a step's chunks, straddle a boundary)."""
        spans = [s for s in self.stages if s.count]
        return tuple(sorted({step for a, b in zip(spans, spans[1:]) for step in range(b.first_step, a.last_step + 1)}))

    def stages_at(self, step: int) -> tuple[str, ...]:
        """Names of the stages optimizer step `step` (1-based) trains on."""
        return tuple(s.name for s in self.stages if s.count and s.first_step <= step <= s.last_step)

    def rows(self) -> list[dict]:
        """One row per stage, for a table or a logger."""
        return [{"stage": s.name, "records": s.count, "rows": _span(s.start, s.stop - 1),
                 "steps": _span(s.first_step, s.last_step)} for s in self.stages]

    def summary(self) -> str:
        """A few lines for the training log.

        >>> recs = [{"id": str(i), "type": t} for i, t in enumerate(["TorF1"] * 3 + ["planning"] * 4)]
        >>> print(plan_curriculum(recs, Curriculum(), prompts_per_chunk=2).summary())
        curriculum rewardmap, seed 0: 7 records + 1 filled = 4 chunks of 2 prompts, 1 step per chunk = 4 steps
        stage                records  rows  steps
        TorF1+TorF2                3  0-2   1-2
        Counting2+Counting3        0  -     -
        Counting1                  0  -     -
        planning                   4  3-7   2-4
        mixed steps: 2; filled: 1 row (start of the last stage again); left out: none
        """
        c = self.curriculum
        head = (f"curriculum {c.preset or 'custom'}, seed {c.seed}{', easy to hard' if c.easy_to_hard else ''}: "
                f"{len(self.records) - self.filled} records + {self.filled} filled = {self.chunks} chunks of "
                f"{self.prompts_per_chunk} prompts, {self.steps_per_chunk} step{'s' * (self.steps_per_chunk != 1)} "
                f"per chunk = {self.total_steps} steps")
        table = [("stage", "records", "rows", "steps")] + [tuple(str(v) for v in r.values()) for r in self.rows()]
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        lines = ["  ".join(v.rjust(w) if i == 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))).rstrip()
                 for r in table]
        left = ", ".join(f"{t} {n}" for t, n in self.left_out.items()) or "none"
        tail = (f"mixed steps: {', '.join(map(str, self.mixed_steps)) or 'none'}; filled: {self.filled} "
                f"row{'s' * (self.filled != 1)} (start of the last stage again); left out: {left}")
        return "\n".join([head, *lines, tail])

    def as_dict(self) -> dict:
        """JSON-serialisable: settings, stage spans, and the ids in training order."""
        c = self.curriculum
        return {
            "curriculum": {"preset": c.preset, "stages": [list(t) for t in c.stages], "seed": c.seed,
                           "easy_to_hard": c.easy_to_hard},
            "prompts_per_chunk": self.prompts_per_chunk, "steps_per_chunk": str(self.steps_per_chunk),
            "chunks": self.chunks, "total_steps": self.total_steps, "filled": self.filled,
            "left_out": dict(self.left_out), "mixed_steps": list(self.mixed_steps),
            "stages": [{**asdict(s), "types": list(s.types)} for s in self.stages],
            "ids": [r["id"] for r in self.records],
        }


def plan_curriculum(records: Iterable[Mapping], curriculum: Curriculum, *, prompts_per_chunk: int = 1,
                    steps_per_chunk: int | Fraction = 1, leave_out_unstaged: bool = False) -> CurriculumPlan:
    """Order `records` by `curriculum` and place them on TRL's chunks and optimizer steps.

    `prompts_per_chunk` and `steps_per_chunk` come from `trl_chunking(grpo_config)`.
    Every record appears once; the last incomplete chunk, which TRL would drop, is filled
    with the last stage's first records again.
    """
    if isinstance(prompts_per_chunk, bool) or not isinstance(prompts_per_chunk, int) or prompts_per_chunk < 1:
        raise InputError(f"curriculum: prompts_per_chunk must be a positive integer, got {prompts_per_chunk!r}")
    if isinstance(steps_per_chunk, bool) or not isinstance(steps_per_chunk, Rational) or steps_per_chunk <= 0:
        raise InputError(f"curriculum: steps_per_chunk must be a positive int or Fraction (steps_per_generation * "
                         f"num_iterations / gradient_accumulation_steps), got {steps_per_chunk!r}")
    groups, left_out = group_by_stage(records, curriculum, leave_out_unstaged=leave_out_unstaged)
    ordered = [r for g in groups for r in g]
    if not ordered:
        raise InputError("curriculum: no records to train on")
    last = next(g for g in reversed(groups) if g)
    filled = -len(ordered) % prompts_per_chunk
    ordered += [last[i % len(last)] for i in range(filled)]
    spc = Fraction(steps_per_chunk)
    spans, start = [], 0
    for g, types, name in zip(groups, curriculum.stages, curriculum.names):
        stop = start + len(g) + (filled if g is last else 0)
        first = math.floor(start // prompts_per_chunk * spc) + 1 if g else None
        final = math.ceil(((stop - 1) // prompts_per_chunk + 1) * spc) if g else None
        spans.append(StageSpan(name, types, len(g), start, stop, first, final))
        start = stop
    return CurriculumPlan(curriculum, tuple(ordered), tuple(spans), prompts_per_chunk, spc, filled, left_out)


def order_records(records: Iterable[Mapping], curriculum: Curriculum, *,
                  leave_out_unstaged: bool = False) -> list[Mapping]:
    """The records in curriculum order, each once, with no chunking (see `plan_curriculum`)."""
    return list(plan_curriculum(records, curriculum, leave_out_unstaged=leave_out_unstaged).records)


def trl_chunking(args) -> tuple[int, Fraction]:
    """`(prompts_per_chunk, steps_per_chunk)` of a TRL `GRPOConfig` (after its `__post_init__`).

    >>> from types import SimpleNamespace as NS
    >>> trl_chunking(NS(shuffle_dataset=False, generation_batch_size=64, num_generations=4,
    ...                 steps_per_generation=4, num_iterations=1, gradient_accumulation_steps=4))
    (16, Fraction(1, 1))
    """
    if getattr(args, "shuffle_dataset", True):
        raise InputError("curriculum: set shuffle_dataset=False in GRPOConfig, or TRL reshuffles the curriculum away")
    steps = Fraction(args.steps_per_generation * args.num_iterations, args.gradient_accumulation_steps)
    return args.generation_batch_size // args.num_generations, steps


def _span(first: int | None, last: int | None) -> str:
    return "-" if first is None or last < first else f"{first}-{last}"
