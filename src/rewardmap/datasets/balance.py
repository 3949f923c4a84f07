"""Free answers: a question type whose one answer is right most of the time can be learned
without looking at the map, and an RL run then learns that answer instead of reading (a
Counting2 set that asked only about transfer stations made "2" right 93% of the time, and GRPO
spread "2" to other counting questions). Every type is checked against a limit, on each split.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from ..questions.kinds import PLUS_TYPES

FREE_ANSWER_LIMIT = 0.6  # the most common answer of a type may be right at most this often


def most_common_answers(records: Iterable[Mapping]) -> dict[str, tuple[object, float, int]]:
    """{Plus type: (its most common answer, the share of questions it answers, questions)}.

    >>> most_common_answers([{"type": "TorF1", "answer": 1}, {"type": "TorF1", "answer": 1},
    ...                      {"type": "TorF1", "answer": 0}, {"type": "planning", "answer": "..."}])
    {'TorF1': (1, 0.6666666666666666, 3)}
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.get("type") in PLUS_TYPES:
            answer = r.get("answer")
            counts[r["type"]][answer if isinstance(answer, (int, str)) else repr(answer)] += 1
    out = {}
    for qtype in PLUS_TYPES:
        if counts[qtype]:
            answer, n = counts[qtype].most_common(1)[0]
            total = sum(counts[qtype].values())
            out[qtype] = (answer, n / total, total)
    return out


def free_answers(records: Iterable[Mapping], limit: float = FREE_ANSWER_LIMIT) -> list[str]:
    """One line per type whose most common answer is right more often than LIMIT."""
    return [f"{qtype}: answer {answer!r} is right for {100 * share:.0f}% of its {n} questions"
            for qtype, (answer, share, n) in most_common_answers(records).items() if share > limit]
