"""Evaluation metrics of ReasonMap and ReasonMap-Plus (as released).

- `Benchmark` (`BENCHMARKS`, `benchmark_named`): each benchmark described once;
- `score_route_record`: accuracy and map score of a route question's short and long answers;
- `score_plus_record`: correctness of a Plus answer (parsed by `rewardmap.answers.plus`);
- `summarize`: plain and difficulty-weighted means, overall and per group;
- `evaluate_predictions`: all of it for a predictions file.

`variant="reference"` reproduces the released evaluation; "robust" repairs its parsing;
"vlmevalkit" reads ReasonMap-Plus as VLMEvalKit does (`rewardmap.answers.variants`). The public
functions check it; `evaluate_predictions` checks it once per file and scores with trusted scorers.
"""

from ..answers.route_eval import AnswerSection, parse_route_answer
from ..answers.variants import TRAINING as VARIANTS  # the name this package exported them under
from .benchmarks import BENCHMARKS, PLUS_WEIGHTS, ROUTE_WEIGHTS, Benchmark, benchmark_named
from .summary import (
                      evaluate_predictions,
                      summarize,
                      weight,
)
from .plus import plus_correct, score_plus_record
from .route_score import (
                      LONG_MAX,
                      SHORT_MAX,
                      MapScore,
                      RecordError,
                      china_line_name,
                      map_score,
                      mapped_line_name,
                      route_correct,
                      score_route_record,
)

__all__ = [
    "AnswerSection", "BENCHMARKS", "Benchmark", "LONG_MAX", "MapScore", "PLUS_WEIGHTS", "ROUTE_WEIGHTS",
    "RecordError", "SHORT_MAX", "VARIANTS", "benchmark_named", "china_line_name", "evaluate_predictions",
    "map_score", "mapped_line_name", "parse_route_answer", "plus_correct", "route_correct",
    "score_plus_record", "score_route_record", "summarize", "weight",
]
