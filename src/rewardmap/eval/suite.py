"""The benchmarks of dataset folders, answered by a model already in memory: what a training run
does with `eval.datasets` once its final model is saved.

A folder's benchmarks are what its records are: `planning` records make a ReasonMap
evaluation, the five Plus types a ReasonMap-Plus one, and a folder holding both gets both.
Each goes to `OUT/<folder name>/<benchmark>/` (a training run's OUT is `RUN/benchmarks`),
written as

    rewardmap eval --model MODEL --data FOLDER --benchmark BENCHMARK --out OUT/<folder name>/<benchmark>
        --variant VARIANT --max-new-tokens N --batch-size B [--limit L]

writes it, MODEL being the folder the weights in memory were saved to: the same prediction
store, `run.json`, scores and reports. So that command resumes an evaluation left unfinished,
and evaluating again with the suite asks only the questions not answered yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..metrics.benchmarks import BENCHMARKS
from ..model.generate import DEFAULT_MAX_NEW_TOKENS
from ..run_files import MAPS_CHECKED
from .run import EvalResult, load_benchmark, local_settings, run_eval

# (benchmark label "<folder name>/<benchmark>", answered, to answer) after each answered record
Progress = Callable[[str, int, int], None]


def folder_benchmarks(folder: str | Path) -> list[str]:
    """The benchmarks whose question types FOLDER's records have, in `BENCHMARKS` order
    (every question type belongs to one, so a folder with records has at least one)."""
    from ..datasets.records import load_records

    types = {r["type"] for r in load_records(folder)}
    return [b.name for b in BENCHMARKS.values() if types & set(b.types)]


@dataclass(frozen=True)
class BenchmarkSuite:
    """Dataset folders (relative to the working directory) and how their benchmarks are asked:
    `rewardmap eval`'s --variant, --max-new-tokens, --batch-size and --limit (per benchmark)."""

    folders: Sequence[str]
    variant: str = "reference"
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    batch_size: int = 8
    limit: int | None = None

    def check(self) -> list[tuple[Path, str]]:
        """Every (folder, benchmark) the folders hold, each loaded as `rewardmap eval` loads it
        (its first `limit` records, their maps decoded); a missing folder, a folder without
        records or with an unusable map is a one-line InputError naming it. Writes nothing."""
        names = Counter(_name(f) for f in self.folders)
        clash = next((n for n, count in names.items() if count > 1), None)
        if clash is not None:
            raise InputError(f"two folders named {clash!r} ({', '.join(f for f in self.folders if _name(f) == clash)})"
                             f": their benchmarks would share {clash}/ in the run folder; rename one")
        pairs = []
        for folder in map(Path, self.folders):
            if not folder.is_dir():
                raise InputError(f"{folder}: no such folder (relative to the working directory, {Path.cwd()})")
            for benchmark in folder_benchmarks(folder):
                load_benchmark(folder, benchmark, self.limit)
                pairs.append((folder, benchmark))
        return pairs

    def out_folder(self, out: Path, folder: str | Path, benchmark: str) -> Path:
        return out / _name(folder) / benchmark

    def evaluate(self, model, processor, saved: Path, out: Path,
                 on_progress: Progress | None = None) -> list[EvalResult]:
        """Answer every benchmark of the folders with MODEL and PROCESSOR (whose weights are saved
        in the folder SAVED, which `run.json` names) into OUT/<folder name>/<benchmark>/, each
        resuming what is stored there; the results in order."""
        from .backends.local import LocalBackend

        model.eval()
        # one backend for all: a batch size lowered after running out of memory stays lowered
        backend = LocalBackend(model, processor, batch_size=self.batch_size, max_new_tokens=self.max_new_tokens)
        results = []
        for folder in map(Path, self.folders):
            for benchmark in folder_benchmarks(folder):
                where = self.out_folder(out, folder, benchmark)
                records = load_benchmark(folder, benchmark, self.limit, checked=where / MAPS_CHECKED)
                settings = local_settings(benchmark, folder, saved, max_new_tokens=self.max_new_tokens)
                label = f"{_name(folder)}/{benchmark}"
                progress = None if on_progress is None else (
                    lambda prediction, done, todo, label=label: on_progress(label, done, todo))
                results.append(run_eval(folder, benchmark, where, backend, variant=self.variant, records=records,
                                        settings=settings, on_progress=progress))
        return results


def _name(folder: str | Path) -> str:
    """The name a dataset folder's benchmarks are filed under: its own (data/reasonmap-test -> reasonmap-test)."""
    return Path(folder).resolve().name
