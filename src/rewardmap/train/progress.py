"""A rich progress bar for a trainer: phase, stage, step, last reward or loss, ETA.

It replaces transformers' tqdm bar and its printer callback, which otherwise prints every
log dict when the bar is off (`quiet_trainer`).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import PrinterCallback, ProgressCallback, TrainerCallback


class RichProgress(TrainerCallback):
    """One bar per trainer run; the description shows the stage and the latest reward/loss."""

    def __init__(self, phase: str, stage_of: Callable[[int], str | None] = lambda step: None,
                 console: Console | None = None):
        self.phase = phase
        self.stage_of = stage_of
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None
        self.task = None
        self.last = ""

    def _describe(self, step: int) -> str:
        stage = self.stage_of(step)
        return f"{self.phase}" + (f" [{stage}]" if stage else "") + (f" {self.last}" if self.last else "")

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=self.console, transient=False)
        self.progress.start()
        self.task = self.progress.add_task(self._describe(state.global_step + 1), total=state.max_steps,
                                           completed=state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step,
                                 description=self._describe(min(state.global_step + 1, state.max_steps)))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is None or not logs:
            return
        for key, label in (("reward", "reward"), ("loss", "loss")):
            if isinstance(logs.get(key), (int, float)):
                self.last = f"{label} {logs[key]:.3f}"
                break

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)
            self.progress.stop()
            self.progress = None


def quiet_trainer(trainer, progress: RichProgress) -> None:
    """Swap transformers' own progress and printer callbacks for ours."""
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(progress)
