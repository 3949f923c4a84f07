"""What an evaluation backend is: the `Backend` protocol `run_eval` calls, the `RunSummary` it
returns, and the helpers the backends share to build and store a prediction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ...answers.text import final_answer
from ..store import PredictionStore

Requests = Callable[[dict], dict[str, str]]  # record -> {output name: question text}
Progress = Callable[[dict, int, int], None]  # (prediction, done, todo), after each stored prediction


@dataclass
class RunSummary:
    total: int  # records given
    skipped: int  # already finished in the store
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0

    def record(self, prediction: dict, store: PredictionStore, todo: int,
               on_progress: Progress | None = None) -> None:
        """Store PREDICTION, count it, and report progress (done of TODO): every backend's
        last step for each record."""
        store.append(prediction)
        if prediction["status"] == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if on_progress is not None:
            on_progress(prediction, self.ok + self.failed, todo)


class Backend(Protocol):
    """A model answering a benchmark's questions: `APIBackend` (an OpenAI-compatible server),
    `LocalBackend` (transformers) and `VLLMBackend` (vLLM offline). `run_eval` calls `run` once,
    holding the store's lock, and scores what the store holds afterwards."""

    def run(self, records: list[dict], requests: Requests, store: PredictionStore,
            on_progress: Progress | None = None) -> RunSummary:
        """Answer the RECORDS that STORE has not finished (`store.pending`: no line yet, or a
        failed one), each record being the prompts `requests(record)` names (each output's
        question text, asked with the map `record["figure"]`, greedily).

        Each record answered is stored at once with `RunSummary.record`, which calls
        `on_progress(prediction, done, todo)`: `{"id", "status": "ok" | "failed", "<output>":
        its answer (after the thinking), "<output>_raw": the raw text, "error": None or one
        line, "attempts", "seconds"}`. A generation that fails is stored as failed (tried
        again next run) and the run goes on; KeyboardInterrupt propagates, and so does an
        InputError when nothing more can be answered (`api.ServerGone`): what was stored
        stays. Returns the counts: records given, skipped (finished before), ok, failed, and
        the seconds it took."""


def one_line(error: BaseException) -> str:
    """An exception as one short line, as predictions store it."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:500]


def answered(record_id, raws: dict[str, str] | None, error: str | None, seconds: float) -> dict:
    """The store line of a record a local backend answered in one try: each output's answer
    (after the thinking) and raw text, or the error."""
    if error:
        return {"id": record_id, "status": "failed", "error": error, "attempts": 1, "seconds": seconds}
    outputs = {key: value for name, raw in raws.items() for key, value in ((name, final_answer(raw)),
                                                                           (f"{name}_raw", raw))}
    return {"id": record_id, "status": "ok", **outputs, "error": None, "attempts": 1, "seconds": seconds}
