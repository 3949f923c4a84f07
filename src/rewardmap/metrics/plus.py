"""ReasonMap-Plus per-question correctness.

Answers are read by `answers.plus`: the released RewardMap extraction for
`variant="reference"`, the lenient VLMEvalKit-style one for "robust", and VLMEvalKit's
own reading, quirks included, for "vlmevalkit" (`answers.vlmevalkit`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..answers.plus import judge_plus
from ..answers.variants import EVALUATION, check_variant
from ..questions.kinds import PLUS_TYPES
from .route_score import RecordError


def score_plus_record(record: Mapping, response: str, variant: str = "reference") -> dict:
    """`{"correct": bool}` for one ReasonMap-Plus question."""
    return plus_record_scores(record, response, check_variant("variant", variant, EVALUATION, ValueError))


def plus_record_scores(record: Mapping, response: str, variant: str) -> dict:
    """`score_plus_record` trusting VARIANT: for a caller that checked it once for a whole file."""
    if record.get("type") not in PLUS_TYPES:
        raise RecordError("type", f"expected one of {', '.join(PLUS_TYPES)}, got {record.get('type')!r}")
    answer = record.get("answer")
    if type(answer) is not int:
        raise RecordError("answer", f"expected an integer label, got {answer!r}")
    if not isinstance(response, str):
        raise RecordError("response", f"expected a string, got {type(response).__name__}")
    return {"correct": plus_correct(response, record, variant)}


def plus_correct(response: str, record: Mapping, variant: str) -> bool:
    """Whether a response answers a Plus question (record `type` and integer `answer`).

    The reference reads the response as given (the released generation stripped any
    thinking part before scoring); the robust reading drops it itself.

    >>> record = {"type": "TorF1", "answer": 1}
    >>> plus_correct("\\\\boxed{yes}", record, "reference")
    True
    >>> plus_correct("\\\\boxed{\\\\text{Yes}}", record, "reference")  # read as "{yes}"
    False
    >>> plus_correct("\\\\boxed{\\\\text{Yes}}", record, "robust")
    True
    """
    return judge_plus(response, record["type"], record["answer"], variant)[1]
