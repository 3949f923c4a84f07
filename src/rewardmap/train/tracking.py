"""What a run records while it trains: `metrics.jsonl`, per-type reward statistics, stages.

Every log event of a trainer becomes one JSON line of `RUN/metrics.jsonl`, tagged with the
phase ("sft", "grpo") and the curriculum stage of its step, and, for GRPO, the mean reward
and accuracy per question type of the completions scored since the last log. A line is
written with a single `write` and flushed; a line cut short (a full disk, a kill inside the
write) is cut off again, so the file holds whole lines only.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from transformers import TrainerCallback

from ..diskfull import named
from ..fileio import follow_umask


class RewardTracker:
    """Wraps a TRL reward function to count reward, correctness, parse rate and the detail
    reward per question type.

    `wrap(f)` returns a function with the same signature and name; `take()` returns
    {type: {"reward", "accuracy", "parsed", "detail": means, "detail_paid": the share of
    rollouts whose detail reward is above 0, "count": n}} since the last `take()` (the detail
    reward is the route term: 0 for Plus types).
    """

    def __init__(self):
        self._sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0, 0])

    def wrap(self, reward_fn: Callable) -> Callable:
        def tracked(completions, **columns):
            rewards = reward_fn(completions, **columns)
            types = columns.get("type") or ["?"] * len(rewards)
            parts = getattr(reward_fn, "last_breakdown", {})
            n = len(rewards)
            for qtype, reward, ok, parsed, detail in zip(types, rewards, parts.get("correct") or [False] * n,
                                                         parts.get("parsed") or [False] * n,
                                                         parts.get("detail") or [0.0] * n):
                sums = self._sums[str(qtype)]
                sums[0] += reward
                sums[1] += bool(ok)
                sums[2] += bool(parsed)
                sums[3] += detail
                sums[4] += 1
                sums[5] += detail > 0
            return rewards

        tracked.__name__ = tracked.__qualname__ = reward_fn.__name__
        for attr in ("last_breakdown", "components"):
            if hasattr(reward_fn, attr):
                setattr(tracked, attr, getattr(reward_fn, attr))
        return tracked

    def take(self) -> dict[str, dict[str, float]]:
        out = {qtype: {"reward": r / n, "accuracy": c / n, "parsed": p / n, "detail": d / n, "detail_paid": paid / n,
                       "count": n}
               for qtype, (r, c, p, d, n, paid) in sorted(self._sums.items()) if n}
        self._sums.clear()
        return out


class MetricsLog(TrainerCallback):
    """Appends each trainer log event to `path` as one JSON line.

    `stage_of(step)` names the curriculum stage of an optimizer step (None outside GRPO);
    `offset` is added to the trainer's step so that phases number their steps one after
    the other in one file; a `RewardTracker` adds per-type statistics to each line.
    """

    def __init__(self, path: str | Path, phase: str, stage_of: Callable[[int], str | None] = lambda step: None,
                 tracker: RewardTracker | None = None):
        self.path = Path(path)
        self.phase = phase
        self.stage_of = stage_of
        self.tracker = tracker

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        line = {"phase": self.phase, "step": state.global_step, "stage": self.stage_of(state.global_step),
                **{k: _finite(v) for k, v in logs.items()}}
        if self.tracker is not None:
            by_type = self.tracker.take()
            if by_type:
                line["by_type"] = by_type
        append_jsonl(self.path, line)


class CheckpointModes(TrainerCallback):
    """Checkpoints get the file modes of the user's umask (see `fileio.follow_umask`)."""

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            follow_umask(Path(args.output_dir) / f"checkpoint-{state.global_step}")


def append_jsonl(path: Path, record: dict) -> None:
    """One line, one `write`, flushed to disk. A write the disk cuts short is taken back, and a
    torn last line (a process killed inside its write) is cut off before the next one, so
    that no line is ever glued onto half of another."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = _whole_lines(fd)
        try:
            view = memoryview(data)
            while view:  # a regular file takes it in one write unless the disk fills up
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as e:
            os.ftruncate(fd, size)
            raise named(e, path) from None
    finally:
        os.close(fd)


def _whole_lines(fd: int) -> int:
    """The size of the file up to its last newline, truncating a torn line after it."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    tail = 1 << 16
    while True:  # the last newline, looked for backwards in growing chunks
        start = max(0, size - tail)
        end = os.pread(fd, size - start, start).rfind(b"\n")
        if end >= 0 or start == 0:
            good = start + end + 1
            break
        tail *= 4
    os.ftruncate(fd, good)
    return good


def read_metrics(path: str | Path) -> list[dict]:
    """The lines of a `metrics.jsonl` (a torn last line, from a crash elsewhere, is skipped)."""
    rows = []
    p = Path(path)
    if not p.is_file():
        return rows
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
