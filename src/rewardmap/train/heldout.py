"""Greedy answers of a model to held-out questions, scored with the training reward.

Used before and after training to print honest before/after numbers: per question type,
the share of answers that could be read, that are right, and the mean reward.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from ..network import StationFiles
from ..rewards import RewardConfig
from ..rewards.adapters import score_record


def generate_answers(model, processor, records: Sequence[dict], *, batch_size: int = 8, max_new_tokens: int = 256,
                     on_batch: Callable[[int], None] | None = None) -> list[str]:
    """Greedy answers, one per record, in order, as `rewardmap eval` generates them (the map,
    then the question; the image placeholder suppressed, as sampling does in training).
    A batch out of GPU memory is split as `rewardmap eval` splits it; a question that does
    not fit even alone gets the empty answer, scored as wrong."""
    from ..eval.local import LocalBackend

    model.eval()
    backend = LocalBackend(model, processor, batch_size=batch_size, max_new_tokens=max_new_tokens)
    answers: list[str] = []
    for start in range(0, len(records), batch_size):
        batch = records[start:start + batch_size]
        outputs = backend.generate_split([(r["figure"], r["question"]) for r in batch])
        answers.extend(o if isinstance(o, str) else "" for o in outputs)
        if on_batch:
            on_batch(len(batch))
    return answers


def score_answers(records: Sequence[dict], answers: Sequence[str], config: RewardConfig) -> dict:
    """{"overall": stats, "by_type": {type: stats}}, stats = count, parsed, accuracy, reward."""
    files = StationFiles(None)
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for record, answer in zip(records, answers, strict=True):
        b = score_record(answer, record, files, config)
        for key in (record["type"], "overall"):
            s = sums[key]
            s[0] += 1
            s[1] += b.parsed
            s[2] += b.correct
            s[3] += b.reward

    def stats(s):
        return {"count": int(s[0]), "parsed": s[1] / s[0], "accuracy": s[2] / s[0], "reward": s[3] / s[0]}

    overall = sums.pop("overall", [0, 0.0, 0.0, 0.0])
    return {"overall": stats(overall) if overall[0] else None, "by_type": {k: stats(v) for k, v in sorted(sums.items())}}
