"""The transformers backend of `rewardmap eval`: batched greedy decoding of a local or Hub
model (`rewardmap.model.generate`), predictions written to the store after each batch.

The raw output is kept whole, thinking included; the answer is what follows the last
end-of-thinking tag (`answers.text.final_answer`). A prompt that runs out of GPU memory even
alone is stored as failed with the error, and the rest of its batch is kept.
"""

from __future__ import annotations

import time

from ...model.generate import Generator
from ...model.loading import load_model
from ..store import PredictionStore
from .base import Progress, Requests, RunSummary, answered, one_line


class LocalBackend(Generator):
    """`Generator` that answers a benchmark's records into a prediction store."""

    @classmethod
    def from_path(cls, path, *, min_pixels=None, max_pixels=None, dtype=None, **kwargs) -> LocalBackend:
        model, processor = load_model(path, min_pixels=min_pixels, max_pixels=max_pixels, dtype=dtype)
        return cls(model, processor, **kwargs)

    def run(self, records: list[dict], requests: Requests, store: PredictionStore,
            on_progress: Progress | None = None) -> RunSummary:
        """Answer the records the store has not finished; store each batch as it completes.

        A record is stored once all its prompts are answered; it fails when one of them ran
        out of memory alone, or the batch's generation raised (the whole batch fails then).
        KeyboardInterrupt propagates; what was stored stays."""
        import torch

        started = time.monotonic()
        todo = store.pending(records)
        summary = RunSummary(total=len(records), skipped=len(records) - len(todo))
        batch: list[tuple[dict, dict[str, str]]] = []

        def flush() -> None:
            items = [(r["figure"], text) for r, named in batch for text in named.values()]
            t0 = time.monotonic()
            batch_error = None
            try:
                outputs = iter(self.generate_split(items))
            except (RuntimeError, ValueError, OSError, torch.cuda.OutOfMemoryError) as e:
                batch_error = one_line(e)
            seconds = round((time.monotonic() - t0) / len(batch), 3)
            for record, named in batch:
                answers = {} if batch_error else {name: next(outputs) for name in named}
                error = batch_error or next((one_line(a) for a in answers.values() if isinstance(a, BaseException)),
                                            None)
                summary.record(answered(record["id"], answers, error, seconds), store, len(todo), on_progress)
            batch.clear()

        for record in todo:
            named = requests(record)
            # `batch_size` as it is now: lowered after running out of memory
            if batch and sum(len(n) for _, n in batch) + len(named) > self.batch_size:
                flush()
            batch.append((record, named))
        if batch:
            flush()
        summary.seconds = time.monotonic() - started
        return summary
