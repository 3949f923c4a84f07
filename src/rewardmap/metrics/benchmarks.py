"""ReasonMap and ReasonMap-Plus, each described once: what a benchmark asks, how its answers are
scored, weighted and broken down, and what the paper publishes for it.

A benchmark name from outside (an option, a function argument) is checked once, by
`benchmark_named`; code that holds a `Benchmark` reads its attributes instead of comparing names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..answers.variants import EVALUATION, TRAINING, check_variant
from ..errors import check_choice
from ..questions.kinds import DIFFICULTIES, PLUS_TYPES, ROUTE_TYPE
from .published import PUBLISHED_PLUS, PUBLISHED_REASONMAP
from .route_score import RecordError

# ROUTE_WEIGHTS[question difficulty][map difficulty]
ROUTE_WEIGHTS = {
    "easy": {"easy": 1.0, "middle": 1.5, "hard": 2.0},
    "middle": {"easy": 1.5, "middle": 2.0, "hard": 2.5},
    "hard": {"easy": 2.0, "middle": 2.5, "hard": 3.0},
}
PLUS_WEIGHTS = {"easy": 1.0, "middle": 1.5, "hard": 2.0}


@dataclass(frozen=True, eq=False)
class Benchmark:
    name: str
    types: tuple[str, ...]  # the question types it asks
    requests: Mapping[str, str]  # answer field -> the record field holding the question that asks it
    metrics: tuple[str, ...]  # per-question scores, in the summary's order
    accuracies: tuple[str, ...]  # those of `metrics` that are right or wrong, one per answer field
    weights: Mapping  # weights[value of weighted_by[0]][value of weighted_by[1]]...
    weighted_by: tuple[str, ...]  # the record fields (difficulties) `weights` is keyed by
    groups: Mapping[str, tuple[str, ...]]  # named groups of question types, summarised and published
    breakdowns: Mapping[str, str]  # summary entry -> the record field (a difficulty) it groups by
    fields: tuple[str, ...]  # what scoring and summarising an answer read of its record
    variants: tuple[str, ...]  # the scoring variants that score it (`answers.variants`)
    routes: bool  # answers are routes: scored against the map's stations, map scores, drawable
    published: tuple[tuple, ...]  # the paper's table: (model, *figures in published_columns' order)
    published_columns: tuple[tuple[str, str], ...]  # (key of the summary's `published` entry, label)

    @property
    def reported(self) -> tuple[str, ...]:
        """`metrics` as reports and the paper's tables show them: the accuracies first."""
        return self.accuracies + tuple(m for m in self.metrics if m not in self.accuracies)

    def questions(self, record: Mapping) -> dict[str, str]:
        """{answer field: question text} of RECORD: what a model is asked."""
        return {answer: record[question] for answer, question in self.requests.items()}

    def weight(self, record: Mapping) -> float:
        """RECORD's weight in the weighted metrics.

        >>> BENCHMARKS["reasonmap"].weight({"difficulty_question": "middle", "difficulty_city": "hard"})
        2.5
        >>> BENCHMARKS["reasonmap-plus"].weight({"difficulty_city": "middle"})
        1.5
        """
        # checked innermost key first, so that a record wrong in both names its map difficulty, as ever
        keys = [_difficulty(record, field) for field in reversed(self.weighted_by)]
        table = self.weights
        for key in reversed(keys):
            table = table[key]
        return table

    def check_variant(self, name: str, variant: str) -> str:
        """VARIANT when it scores this benchmark, else a one-line InputError; NAME is how the
        caller calls the setting (`--variant`)."""
        return check_variant(name, variant, self.variants, benchmark=self.name)


REASONMAP = Benchmark(
    name="reasonmap",
    types=(ROUTE_TYPE,),
    requests={"response_short": "question", "response_long": "question_long"},  # each asked twice
    metrics=("acc_short", "map_score_short", "acc_long", "map_score_long"),
    accuracies=("acc_short", "acc_long"),
    weights=ROUTE_WEIGHTS,
    weighted_by=("difficulty_question", "difficulty_city"),
    groups={},
    breakdowns={"by_question_difficulty": "difficulty_question", "by_map_difficulty": "difficulty_city"},
    fields=("json", "routes", "country", "city", "station_1", "station_2", "question_long", "response_short",
            "response_long", "difficulty_city", "difficulty_question"),
    variants=TRAINING,  # VLMEvalKit has no ReasonMap scorer
    routes=True,
    published=PUBLISHED_REASONMAP,
    published_columns=(("acc_short", "acc short"), ("acc_long", "acc long"), ("map_score_short", "map score short"),
                       ("map_score_long", "map score long")),
)
# A Plus question's difficulty equals its map's: weighted by `difficulty_city`, as VLMEvalKit does.
REASONMAP_PLUS = Benchmark(
    name="reasonmap-plus",
    types=PLUS_TYPES,
    requests={"response": "question"},
    metrics=("correct",),
    accuracies=("correct",),
    weights=PLUS_WEIGHTS,
    weighted_by=("difficulty_city",),
    groups={"Count": ("Counting1", "Counting2", "Counting3"), "TorF": ("TorF1", "TorF2")},
    breakdowns={"by_map_difficulty": "difficulty_city"},
    fields=("type", "answer", "response", "city", "difficulty_city"),
    variants=EVALUATION,  # also as VLMEvalKit scores it
    routes=False,
    published=PUBLISHED_PLUS,
    published_columns=(("overall", "Plus overall"), ("Count", "Count"), ("TorF", "TorF")),
)
BENCHMARKS = {b.name: b for b in (REASONMAP, REASONMAP_PLUS)}


def benchmark_named(name: str, field: str = "benchmark") -> Benchmark:
    """The benchmark called NAME, else a one-line InputError naming FIELD (`--benchmark`)."""
    return BENCHMARKS[check_choice(field, name, tuple(BENCHMARKS))]  # a tuple: any value, hashable or not


def benchmark_asking(question_type) -> Benchmark | None:
    """The benchmark that asks questions of QUESTION_TYPE (None: neither)."""
    return next((b for b in BENCHMARKS.values() if question_type in b.types), None)


def _difficulty(record: Mapping, field: str) -> str:
    value = record.get(field)
    if value not in DIFFICULTIES:
        raise RecordError(field, f"expected one of {', '.join(DIFFICULTIES)}, got {value!r}")
    return value
