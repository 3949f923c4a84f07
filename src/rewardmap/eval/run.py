"""`rewardmap eval`: answer a benchmark's questions with a model, then score the answers.

A run folder holds (each name in `rewardmap.run_files`) `run.json` (what produced the
predictions: benchmark, data, model, generation settings), `predictions.jsonl` (a
`PredictionStore`: one line per finished record, written as answers arrive, so a re-run skips
what is done), `responses.jsonl` (each record with its responses and scores, the input of
`evaluate_predictions`), `metrics.json`, and the report (`report.html`, self-contained, and
`report.md` with `eval_plots/`).

A re-run resumes only when `run.json` matches: another model, benchmark, dataset or
generation setting in the same folder would mix two runs' answers in one score. Settings
that change how, not what, is generated (concurrency, batch size, retries) may change.

ReasonMap uses the `planning` records and asks each twice: `question` gives
`response_short`, `question_long` gives `response_long`. ReasonMap-Plus uses the five Plus
types and asks `question` once (`response`). Prompts are the records' texts as they are: one
user turn, the map image then the question, and nothing else beyond the chat template.

A backend answers the questions: any `backends.base.Backend` (an API server, transformers or
vLLM; `backends.factory` makes the one `rewardmap eval`'s options name).

Each answer is scored whole. `responses.jsonl` keeps at most `KEPT_CHARS` of each text (its
head and tail; a text cut so carries `<name>_chars`, its full length) and the report shows
at most `SHOWN_CHARS`; `predictions.jsonl` keeps every answer whole, so that a re-run can
score it again, whole, in another variant.

A record whose generation failed is stored as "failed" (and tried again on the next run);
the metrics count it as answered with nothing, i.e. wrong, and `metrics.json` says how many
there were, so failures lower the score instead of silently shrinking the denominator.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fileio import remove_atomic_leftovers, write_bytes_atomic
from ..run_files import METRICS, PREDICTIONS, RECIPE, RESPONSES, SETTINGS
from .backends.base import Backend, Progress, Requests, RunSummary
from .cut import KEPT_CHARS, cut_middle
from ..metrics.benchmarks import BENCHMARKS, benchmark_named
from ..metrics.summary import evaluate_predictions
from .store import PredictionStore


def load_benchmark(data: str | os.PathLike, benchmark: str, limit: int | None = None,
                   checked: Path | None = None) -> list[dict]:
    """The records of DATA (the project's dataset layout) that BENCHMARK asks, first LIMIT of
    them; every map image they name must be sound (`check_images`, remembered in CHECKED)."""
    from ..datasets.records import load_records

    bench = benchmark_named(benchmark)
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, got {limit}")
    records = [r for r in load_records(data) if r.get("type") in bench.types]
    if not records:
        raise InputError(f"{data}: no records of {bench.name}'s types ({', '.join(bench.types)})")
    if limit is not None:
        records = records[:limit]
    asks_long = "question_long" in bench.requests.values()  # not a field every record has
    for record in records:
        if asks_long and not isinstance(record.get("question_long"), str):
            raise InputError(f"{data}: record {record.get('id')!r}: field 'question_long': expected the long "
                             "question text (ReasonMap asks each route question twice)")
    check_images((r["figure"] for r in records), checked)
    return records


def check_image(path: str | os.PathLike) -> None:
    """An InputError unless the file is a sound map image (`images.check_map`)."""
    from ..images import ImageProblem, check_map

    try:
        check_map(path)
    except ImageProblem as e:
        raise InputError(f"{path}: not a usable map image: {e}") from None


def check_images(paths, checked: Path | None = None) -> None:
    """`check_image` on each of PATHS. Decoding a large map takes a second, and a resumed run
    checks its maps again: CHECKED (a JSON file in the run folder) remembers the maps found
    sound, by size and modification time, so that only new or changed ones are decoded."""
    known = {}
    if checked is not None and checked.is_file():
        try:
            known = json.loads(checked.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
    sound = {}
    for path in sorted(set(map(str, paths))):
        stat = os.stat(path)
        stamp = [stat.st_size, stat.st_mtime_ns]
        if known.get(path) != stamp:
            check_image(path)
        sound[path] = stamp
    if checked is not None and sound != known:
        checked.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(checked, json.dumps(sound).encode("utf-8"))


def run_settings(benchmark: str, data: str | os.PathLike, **generation) -> dict:
    """What a run folder's predictions depend on: the benchmark, the dataset (its absolute
    path) and the model and generation settings given (those that are None are left out)."""
    return {"benchmark": benchmark, "data": str(Path(data).resolve()),
            **{k: v for k, v in generation.items() if v is not None}}


def local_settings(benchmark: str, data: str | os.PathLike, model: str | os.PathLike, *, max_new_tokens: int,
                   backend: str = "transformers", min_pixels: int | None = None, max_pixels: int | None = None,
                   dtype: str | None = None) -> dict:
    """`run_settings` of a model run locally (`--model`): a folder named by its absolute path, a
    Hub id as it is."""
    name = str(Path(model).resolve()) if Path(model).is_dir() else str(model)
    return run_settings(benchmark, data, max_new_tokens=max_new_tokens, backend=backend, model=name,
                        min_pixels=min_pixels, max_pixels=max_pixels, dtype=dtype)


def check_run_folder(out: Path, settings: dict | None) -> None:
    """An InputError unless OUT can hold this run: a new folder, or one holding the same run."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if (out / RECIPE).exists():  # its report.md would be overwritten
        raise InputError(f"{out}: is a training run folder; evaluate into a folder of its own, "
                         f"such as --out {out / 'eval'}")
    answered = out / PREDICTIONS
    if settings is None or not (out / SETTINGS).exists() or not answered.exists() or not answered.stat().st_size:
        return  # nothing answered yet: any settings may start the run
    try:
        before = json.loads((out / SETTINGS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{out / SETTINGS}: unreadable ({e}); remove it to resume with these settings") from None
    for key in sorted(set(before) | set(settings)):
        if before.get(key) != settings.get(key):
            raise InputError(f"{out} holds a run with {key} = {before.get(key)!r}, not {settings.get(key)!r}; "
                             "resume with the same settings, or give another --out")


def requests_for(benchmark: str) -> Requests:
    """`record -> {output name: question text}` for BENCHMARK (`Benchmark.questions`)."""
    return benchmark_named(benchmark).questions


@dataclass
class EvalResult:
    out: Path
    benchmark: str
    variant: str
    run: RunSummary
    predictions: dict = field(default_factory=dict)  # {"ok": n, "failed": n} over the evaluated records
    summary: dict = field(default_factory=dict)  # what metrics.json holds
    first_error: str | None = None  # why the first failed record failed, in the backend's words

    def describe(self) -> str:
        """A few lines for the terminal."""
        s = self.summary
        lines = [f"{self.benchmark} ({self.variant}): {s['count']} questions, {self.run.ok + self.run.failed} "
                 f"generated now, {self.run.skipped} already done, {self.predictions['failed']} failed "
                 f"(scored as wrong); metrics in {self.out / METRICS}"]
        overall = s["overall"]
        for name in BENCHMARKS[self.benchmark].reported:
            if name in overall:
                lines.append(f"  {name:<16} mean {overall[name]['mean']:.4f}  weighted {overall[name]['weighted']:.4f}")
        return "\n".join(lines)


def run_eval(data: str | os.PathLike, benchmark: str, out: str | os.PathLike, backend: Backend, *,
             variant: str = "reference", limit: int | None = None,
             on_progress: Progress | None = None, records: list[dict] | None = None,
             settings: dict | None = None) -> EvalResult:
    """Answer every pending record with BACKEND into OUT/predictions.jsonl, then score all
    of them into OUT/responses.jsonl and OUT/metrics.json.

    `settings`: what identifies the predictions (`run_settings`), kept in OUT/run.json; a
    folder holding another run's settings is refused before anything is asked."""
    bench = benchmark_named(benchmark)
    bench.check_variant("variant", variant)  # before anything is asked of the model
    if records is None:
        records = load_benchmark(data, benchmark, limit)
    out = Path(out)
    check_run_folder(out, None)
    out.mkdir(parents=True, exist_ok=True)
    with PredictionStore(out / PREDICTIONS) as store:
        check_run_folder(out, settings)  # under the store's lock: nobody writes between check and write
        remove_atomic_leftovers(out)  # what a killed run left; the store's lock keeps live writers out
        if settings is not None:  # the same run, or none answered yet
            write_bytes_atomic(out / SETTINGS, (json.dumps(settings, indent=2) + "\n").encode("utf-8"))
        summary = backend.run(records, bench.questions, store, on_progress)
        predictions = {p["id"]: p for p in store.records()}
    return score_run(records, predictions, benchmark, out, variant, summary, data)


def _kept(row: dict, names: list[str]) -> dict:
    """ROW with each answer text cut to `KEPT_CHARS`, and `<name>_chars` where one was."""
    long = [n for name in names for n in (name, f"{name}_raw")
            if isinstance(row.get(n), str) and len(row[n]) > KEPT_CHARS]
    if not long:
        return row
    return {**row, **{n: cut_middle(row[n], KEPT_CHARS) for n in long}, **{f"{n}_chars": len(row[n]) for n in long}}


def score_run(records: list[dict], predictions: dict, benchmark: str, out: Path, variant: str,
              run: RunSummary, data: str | os.PathLike | None = None) -> EvalResult:
    """Write OUT/responses.jsonl, OUT/metrics.json and the report (OUT/report.html,
    OUT/report.md) from the stored predictions; DATA holds the maps the report shows."""
    names = list(benchmark_named(benchmark).requests)
    rows, counts = [], {"ok": 0, "failed": 0, "missing": 0}
    for record in records:
        prediction = predictions.get(record["id"])
        status = prediction["status"] if prediction else "missing"
        counts[status] += 1
        ok = status == "ok"
        rows.append({**record, **{n: prediction.get(n, "") if ok else "" for n in names},
                     **{f"{n}_raw": prediction.get(f"{n}_raw", "") if ok else "" for n in names},
                     "status": status, "error": prediction.get("error") if prediction else "not generated"})
    if counts["missing"]:  # the backend stopped early (it raises when interrupted; this is a bug guard)
        raise RuntimeError(f"{counts['missing']} records have no prediction after the run")
    del counts["missing"]
    responses = out / RESPONSES
    summary, scores = evaluate_predictions(responses, benchmark, None, variant, lines=enumerate(rows, 1))
    # each line keeps its scores, from which `rewardmap compare` draws intervals over the questions
    write_bytes_atomic(responses, "".join(json.dumps({**_kept(r, names), **score}, ensure_ascii=False) + "\n"
                                          for r, score in zip(rows, scores, strict=True)).encode("utf-8"))
    summary["predictions"] = counts
    summary["run"] = asdict(run)
    write_bytes_atomic(out / METRICS, (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    from .report import write_eval_report

    write_eval_report(out, records=records, predictions=rows, scores=scores, summary=summary, benchmark=benchmark,
                      data_dir=data)
    first_error = next((str(r["error"]) for r in rows if r["status"] == "failed"), None)
    return EvalResult(out=out, benchmark=benchmark, variant=variant, run=run, predictions=counts, summary=summary,
                      first_error=first_error)
