"""The `rewardmap` command: each subcommand is a few lines that call the library."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .answers.variants import EVALUATION, TRAINING, check_variant, described
from .errors import InputError, check_choice
from .extras import require
from .fileio import refusal
from .interrupts import Terminated, exit_status, sigterm_interrupts
from .questions.kinds import QUESTION_TYPES
from .run_files import MAPS_CHECKED, PREDICTIONS, RECIPE
from .writer_lock import one_writer

# Markdown: help text reflows (docstrings wrap lines mid-sentence) and `code` shows as code.
app = typer.Typer(help="Teach multimodal models to read transit maps and plan routes on them.",
                  rich_markup_mode="markdown", no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
data_app = typer.Typer(help="Build, synthesise, import and check datasets of map questions.",
                       rich_markup_mode="markdown", no_args_is_help=True)
app.add_typer(data_app, name="data")
err = Console(stderr=True)
out = Console()


def _version(value: bool):
    if value:
        out.print(f"rewardmap {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")):
    """rewardmap: RewardMap data, rewards, curriculum GRPO and evaluation."""
    sigterm_interrupts()  # a scheduler's SIGTERM stops a command as Ctrl-C does, cleaning up


AGAIN = "run the same command again"


@contextmanager
def _errors(out: Path | str = "standard output", then: str = AGAIN):
    """Bad input, or an output the system refuses (no permission, read-only, a path through a
    file): one red line on stderr and exit status 2, never a traceback. A full disk or quota,
    wherever met (in a library too): one line naming the file (else OUT, where the command
    writes), what to do THEN, and exit status 1. Ctrl-C and SIGTERM end with 130 and 143
    (typer says 130 for both)."""
    from .diskfull import disk_full

    _full_disk_hooks()
    try:
        yield
    except InputError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except typer.Exit:  # an inner handler's verdict (`_interrupted`): not an error of the output
        raise
    except Exception as e:  # the output: refused by the system (2), or a full disk or quota (1)
        from .extras import missing_extra

        needs = missing_extra(e, "this command")  # an optional dependency imported deep inside
        if needs is not None:
            err.print(f"[red]error:[/red] {escape(str(needs))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        refused = refusal(e) if isinstance(e, OSError) else None
        if refused is not None:
            err.print(f"[red]error:[/red] {escape(str(refused))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        full = disk_full(e)  # an OSError, or a library's own error saying so (safetensors, Arrow, torch)
        if full is None:
            raise
        _say_full(full, out, then)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as e:
        raise typer.Exit(exit_status(e)) from None


def _say_full(full: OSError, out: Path | str, then: str) -> None:
    reason = os.strerror(full.errno).lower()  # Arrow's own words are longer
    err.print(f"[red]error:[/red] {escape(str(full.filename or out))}: {reason}; free some space, then {then}",
              highlight=False, soft_wrap=True)


def _full_disk_hooks() -> None:
    """A full disk met outside `_errors` is one line too: in a thread (TensorBoard's writer:
    the main thread meets the same error at its next write and says it), or while printing
    the results to a standard output redirected to a full disk (exit status 1)."""
    import sys
    import threading

    from .diskfull import disk_full

    if getattr(sys.excepthook, "full_disk", False):
        return
    in_thread, uncaught = threading.excepthook, sys.excepthook

    def thread_hook(args):
        if disk_full(args.exc_value) is None:
            in_thread(args)

    def hook(kind, value, traceback):
        full = disk_full(value)
        if full is None:
            return uncaught(kind, value, traceback)
        _say_full(full, "standard output", "run it again: the files it wrote are whole, what it printed is cut short")
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # what is still buffered for it: no second traceback at exit

    hook.full_disk = True
    threading.excepthook, sys.excepthook = thread_hook, hook


@contextmanager
def _interrupted(how_to_go_on):
    """Ctrl-C or SIGTERM: one line saying what is left and how to go on (HOW_TO_GO_ON, or a
    function that says it once the command has stopped), exit status 130 or 143."""
    try:
        yield
    except KeyboardInterrupt as e:
        if os.environ.get("RANK", "0") == "0":  # under `accelerate launch` every process stops: one says so
            told = how_to_go_on() if callable(how_to_go_on) else how_to_go_on
            by = " by SIGTERM" if isinstance(e, Terminated) else ""
            err.print(f"interrupted{by}: {told}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(exit_status(e)) from None


def _nothing_written(out: Path) -> str:
    return f"nothing was written to {out} (it is as it was); run the same command again"


@contextmanager
def _progress(label: str, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1, total=None: bar.update(task, advance=n, total=total)  # total: when known only later


def _types(types: Optional[str]) -> tuple[str, ...]:
    if not types:
        return QUESTION_TYPES
    chosen = tuple(t.strip() for t in types.split(",") if t.strip())
    unknown = [t for t in chosen if t not in QUESTION_TYPES]
    if unknown or not chosen:
        raise InputError(f"--types: unknown {unknown or 'empty list'}; choose from {','.join(QUESTION_TYPES)}")
    return chosen


def _workers(workers: int) -> int:
    return workers if workers > 0 else max(1, min(os.cpu_count() or 1, 8))


def _print_summary(summary, what: str) -> None:
    from rich.table import Table

    out.print(f"{what} {summary.records} questions from {summary.cities} cities in {summary.out}")
    table = Table()
    table.add_column("type")
    table.add_column("questions", justify="right")
    for kind, n in sorted(summary.per_type.items()):
        table.add_row(kind, str(n))
    out.print(table)
    levels = ", ".join(f"{d} {summary.per_difficulty.get(d, 0)}" for d in ("easy", "middle", "hard"))
    out.print(f"question difficulty: {levels}")
    if summary.missing_maps:
        err.print(f"[yellow]warning:[/yellow] no map image for {len(summary.missing_maps)} "
                  f"cities (figure is null): {', '.join(summary.missing_maps)}", highlight=False)


TYPES_HELP = f"Comma-separated question types to make (default: all of {','.join(QUESTION_TYPES)})."
PER_CITY_HELP = "Questions per city, split over the types (routes 20:15:5 easy:middle:hard by transfers)."
WORKERS_HELP = "Worker processes (0: one per CPU core)."
OVERWRITE_HELP = "Replace a non-empty output folder whole (it stays as it was if the command fails)."


@data_app.command("synth")
def data_synth(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write."),
    cities: int = typer.Option(10, "--cities", "-n", help="Number of synthetic cities."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same files."),
    difficulty: str = typer.Option("mixed", "--difficulty",
                                   help="Map difficulty: easy, middle, hard or mixed."),
    size: int = typer.Option(1024, "--size", help="The map's longer side in pixels (real maps: up to about 3000)."),
    aspect: str = typer.Option("square", "--aspect", help="Width to height: square, landscape (3:2), portrait "
                               "(2:3), W:H such as 16:9, or mixed (a real map's shape per city)."),
    clutter: bool = typer.Option(False, "--clutter", help="Add what real maps carry: a grey regional rail network "
                                 "in the legend, service icons, a notes box and a legend heading in the city's "
                                 "language (never a name a station could have)."),
    per_city: int = typer.Option(50, "--per-city", help=PER_CITY_HELP),
    types: Optional[str] = typer.Option(None, "--types", help=TYPES_HELP),
    workers: int = typer.Option(0, "--workers", help=WORKERS_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
):
    """Draw synthetic transit maps and build questions on them.

    Writes `OUT/maps/synthetic/*.png`, `OUT/stations/synthetic/*.json` (ReasonMap station
    files), `OUT/positions/synthetic/*.json` (station pixel positions and label boxes) and
    `OUT/questions.jsonl`.
    """
    from .datasets.synthetic import parse_aspect, synth_dataset

    with _errors(out_dir), _interrupted(_nothing_written(out_dir)), one_writer(out_dir), \
            _progress("cities", cities) as advance:
        summary = synth_dataset(out_dir, cities=cities, seed=seed, difficulty=difficulty, size=size,
                                aspect=parse_aspect(aspect), clutter=clutter, per_city=per_city, types=_types(types),
                                workers=_workers(workers), progress=advance, overwrite=overwrite)
    _print_summary(summary, "synthesised")


@data_app.command("build")
def data_build(
    stations: Path = typer.Option(..., "--stations", help="Folder of station files (<country>/<city>.json)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write."),
    maps: Optional[Path] = typer.Option(None, "--maps", help="Folder of map images (<country>/<city>.png)."),
    per_city: int = typer.Option(50, "--per-city", help=PER_CITY_HELP),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same questions."),
    types: Optional[str] = typer.Option(None, "--types", help=TYPES_HELP),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP),
    skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                      help="Leave out malformed station files (with a warning) instead of stopping."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
):
    """Build questions for every station file under --stations.

    The output folder is self-contained: station files and maps are copied under it and
    records point to them with relative paths.
    """
    from .datasets.build import build_dataset, find_cities
    from .network import StationFileError

    with _errors(out_dir), _interrupted(_nothing_written(out_dir)), one_writer(out_dir):
        total = len(find_cities(stations, maps))
        try:
            with _progress("cities", total) as advance:
                summary = build_dataset(stations, out_dir, maps=maps, per_city=per_city, seed=seed,
                                        types=_types(types), workers=_workers(workers),
                                        skip_invalid=skip_invalid, progress=advance, overwrite=overwrite)
        except StationFileError as e:
            raise InputError(f"{e} (--skip-invalid leaves such files out)") from None
    for reason in summary.skipped:
        err.print(f"[yellow]skipped:[/yellow] {reason}", highlight=False, soft_wrap=True)
    _print_summary(summary, "built")


EVAL_VARIANT_HELP = described(EVALUATION)
SEARCH_HELP = ("Folder holding the maps/ and stations/ that relative figure/json paths point to "
               "(ReasonMap-Plus and -Train do not ship them); repeatable.")


@data_app.command("import")
def data_import(
    src: Path = typer.Argument(..., help="save_to_disk folder, parquet file/folder, or JSON/JSONL file."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write (absent or empty)."),
    split: Optional[str] = typer.Option(None, "--split", help="Import only this split."),
    search_dir: list[Path] = typer.Option([], "--search-dir", help=SEARCH_HELP),
    strict: bool = typer.Option(False, "--strict", help="Fail on a figure/json path found nowhere."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
):
    """Turn local copies of FSCCS/ReasonMap, ReasonMap-Plus or ReasonMap-Train into the
    project's layout (figures decoded to files, station files written beside them)."""
    from .datasets.importer import import_dataset

    with _errors(out_dir), _interrupted(_nothing_written(out_dir)), one_writer(out_dir):
        summary = import_dataset(src, out_dir, split=split, strict=strict, overwrite=overwrite,
                                 search_dirs=search_dir, progress=err.is_terminal)
    _print_import(summary)


@data_app.command("export")
def data_export(
    folder: Path = typer.Argument(..., help="Dataset folder holding questions.jsonl."),
    fmt: str = typer.Option(..., "--format", help="hf: a datasets folder (save_to_disk), the map as an Image "
                            "feature; verl: a parquet file of verl's RL columns; sft: chat JSON lines and maps for "
                            "LLaMA-Factory and TRL; vlmevalkit: a TSV of VLMEvalKit's ReasonMap-Plus layout."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write (a folder for hf and sft, a file otherwise)."),
    split: Optional[str] = typer.Option(None, "--split", help="Only records of this split (when they name one); "
                                        "the split's name in the output (default: train)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
):
    """Write a dataset in the form another trainer or evaluator reads: the released RewardMap
    trainer (hf), verl, LLaMA-Factory / TRL SFT, or VLMEvalKit. Maps are read one at a time."""
    from .datasets.export import FORMATS, export_dataset

    with _errors(out), _interrupted(_nothing_written(out)), one_writer(out):
        check_choice("--format", fmt, tuple(FORMATS))
        with _progress(f"export {fmt}", None) as advance:
            summary = export_dataset(folder, fmt, out, split=split, overwrite=overwrite,
                                     on_record=lambda done, total: advance(1, total))
    left = "".join(f"; left out: {n} {why}" for why, n in summary.left_out.items())
    err.print(f"{summary.records} records, {summary.maps} maps -> {summary.out}{left}", highlight=False)


@data_app.command("download")
def data_download(
    name: str = typer.Argument(..., help="reasonmap, reasonmap-plus or reasonmap-train."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write (absent or empty)."),
    split: Optional[str] = typer.Option(None, "--split", help="Download and import only this split (ReasonMap: "
                                        "train, validation; ReasonMap-Plus: train, test)."),
    revision: Optional[str] = typer.Option(None, "--revision", help="Hub revision (branch, tag or commit)."),
    search_dir: list[Path] = typer.Option([], "--search-dir", help=SEARCH_HELP),
    strict: bool = typer.Option(False, "--strict", help="Fail, writing nothing, when a map or station file can be "
                                "had nowhere."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
):
    """Fetch an official dataset from the Hugging Face Hub and the maps and station files its
    questions point at from the authors' GitHub repositories (needs network; files found under
    a --search-dir are not fetched), and import it all."""
    from .datasets.download import download_dataset

    with _errors(out_dir), _interrupted(_nothing_written(out_dir)), one_writer(out_dir):
        summary = download_dataset(name, out_dir, split=split, revision=revision, strict=strict,
                                   overwrite=overwrite, search_dirs=search_dir, progress=err.is_terminal)
    out.print(summary.describe(), highlight=False, markup=False, soft_wrap=True)
    if summary.instruction:
        err.print(f"[yellow]warning:[/yellow] {escape(summary.instruction)}", highlight=False, soft_wrap=True)


def _print_import(summary) -> None:
    out.print(summary.describe(), highlight=False)
    for fieldname, paths in summary.missing.items():
        err.print(f"[yellow]warning:[/yellow] {len(paths)} {fieldname} paths found nowhere "
                  f"(pass --search-dir), e.g. {paths[0]}", highlight=False)


@data_app.command("check")
def data_check(folder: Path = typer.Argument(..., help="Dataset folder holding questions.jsonl.")):
    """Recompute every answer from the station files; report each disagreement, missing or
    unreadable image, path escaping the folder, or schema error (file, line and field)."""
    from .datasets.balance import FREE_ANSWER_LIMIT
    from .datasets.check import check_dataset

    with _errors():
        report = check_dataset(folder)
    for line in report.grouped():
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    types = ", ".join(f"{k} {v}" for k, v in sorted(report.per_type.items(), key=str))
    by_field = ", ".join(f"{f} {n}" for f, n in report.problems_by_field().most_common())
    status = "[green]ok[/green]" if report.ok else f"[red]{len(report.problems)} problems[/red] ({by_field})"
    err.print(f"checked {report.records} records ({types}): {status}")
    if report.free_answers:  # a warning, not a problem: the answers are right, the set is lopsided
        err.print(f"[yellow]free answers[/] (right more than {100 * FREE_ANSWER_LIMIT:.0f}% of the time without "
                  f"reading the map): {'; '.join(report.free_answers)}")
    if report.labels:  # synthetic maps: legibility, reported beside the answers (they stay right)
        bad = {rel: found for rel, found in report.labels.items() if found}
        for rel, found in bad.items():
            shown_ = "; ".join(f"{s}: {p}" for s, p in found[:3]) + ("; ..." if len(found) > 3 else "")
            out.print(f"{rel}: {len(found)} label problems: {shown_}", highlight=False, soft_wrap=True, markup=False)
        err.print(f"labels of {len(report.labels)} synthetic maps: {sum(map(len, bad.values()))} problems on "
                  f"{len(bad)} maps (a line through a label, labels overlapping, a label nearer another station)")
    raise typer.Exit(0 if report.ok else 1)


@app.command("score")
def score(
    responses: Path = typer.Argument(..., help="IN.jsonl: records (ReasonMap-Train fields) plus `response`."),
    stations_root: Path = typer.Option(Path("."), "--stations-root",
                                       help="Folder that the records' `json` paths start from."),
    mode: str = typer.Option("difficulty_aware", "--mode", help="difficulty_aware (the paper's W) or baseline (W = 1)."),
    variant: str = typer.Option("reference", "--variant",
                                help=described(TRAINING)),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
):
    """Score each response with the RewardMap reward: one JSON object per input line (reward,
    correct, detail, weight, format, parsed), in order; mean reward and accuracy per type on
    standard error."""
    import sys

    from .fileio import write_bytes_atomic
    from .rewards import RewardConfig
    from .rewards.batch import breakdown_lines, score_file
    from .rewards.reward import MODES

    with _errors(output or "standard output"):
        config = RewardConfig(variant=check_variant("--variant", variant, TRAINING),
                              mode=check_choice("--mode", mode, MODES))
        if not responses.exists():
            raise InputError(f"{responses}: no such file")
        breakdowns, summary = score_file(responses, stations_root, config)
        lines = breakdown_lines(breakdowns)
        if output:
            write_bytes_atomic(output, lines)
        else:
            sys.stdout.buffer.write(lines)
            sys.stdout.flush()
    from rich.table import Table

    table = Table(title=f"{variant} reward, {mode}")
    for col in ("type", "count", "mean reward", "accuracy"):
        table.add_column(col, justify="right" if col != "type" else "left")
    for kind, s in summary.items():
        table.add_row(kind, str(s["count"]), f"{s['mean_reward']:.3f}", f"{s['accuracy']:.3f}")
    err.print(table)


@app.command("metrics")
def metrics(
    predictions: Path = typer.Argument(..., help="PRED.jsonl: records plus `response` (Plus) or "
                                       "`response_short` and `response_long` (ReasonMap)."),
    benchmark: str = typer.Option(..., "--benchmark", help="reasonmap or reasonmap-plus."),
    stations_root: Optional[Path] = typer.Option(None, "--stations-root",
                                                 help="Folder that relative `json` paths start from."),
    variant: str = typer.Option("reference", "--variant", help=EVAL_VARIANT_HELP),
    scores_out: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="Write one line of per-record scores per input line."),
):
    """Score model answers on ReasonMap or ReasonMap-Plus and print a JSON summary:
    plain and difficulty-weighted accuracy (and map score for ReasonMap), per type,
    difficulty and city, with counts."""
    import json

    from .metrics import benchmark_named, evaluate_predictions
    from .fileio import write_jsonl_atomic

    with _errors(scores_out or "standard output"):
        benchmark_named(benchmark, "--benchmark").check_variant("--variant", variant)
        if not predictions.exists():
            raise InputError(f"{predictions}: no such file")
        summary, scores = evaluate_predictions(predictions, benchmark, stations_root, variant)
        if scores_out:
            write_jsonl_atomic(scores_out, scores)
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))


@app.command("train")
def train(
    recipe: str = typer.Argument("tiny", help="A recipe: 'tiny' (built in: GRPO from the shipped tiny-base model, "
                                 "offline, a 2-core CPU, under 10 minutes), 'tiny-base' (built in: the SFT that "
                                 "made tiny-base) or a YAML file such as recipes/qwen2.5-vl-7b/rewardmap.yaml."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Change one setting: --set grpo.lr=1e-6 "
                                             "(dotted names as in the recipe file; repeatable)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run folder (default: runs/<recipe name>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in the folder from its last checkpoint."),
):
    """Train with GRPO on the RewardMap curriculum (after an optional SFT warm-up), then evaluate on
    held-out questions (greedy, and sampled as GRPO samples, before and after GRPO, with 95%
    intervals) and on the benchmark folders of eval.datasets (as `rewardmap eval` does, into
    benchmarks/). Writes recipe.yaml, checkpoints, metrics.jsonl, TensorBoard logs, eval_*.json,
    benchmarks/ and report.md with plots into the run folder."""
    with _errors():
        require("train", "rewardmap train")
        from .train.recipe import load_recipe

        overrides = list(set_ or [])
        if out_dir is not None:
            overrides.append(f"output.dir={out_dir}")
        loaded = load_recipe(recipe, overrides)  # a bad recipe is named before transformers loads (seconds)
    with _errors(loaded.output.dir, then="run it again with --resume: it goes on from where it stopped"):
        from .eval.suite import BenchmarkSuite
        from .train.run import train as run_training

        e = loaded.eval
        benchmarks = BenchmarkSuite(e.datasets, variant=e.variant, max_new_tokens=e.max_new_tokens,
                                    batch_size=e.batch_size, limit=e.max_questions)
        with _interrupted(lambda: _how_to_resume(Path(loaded.resolved().output.dir))):
            run_training(loaded, resume=resume, console=err, benchmarks=benchmarks)  # locks the run folder


def _how_to_resume(run: Path) -> str:
    from .train.run import resume_point

    if not (run / RECIPE).is_file():
        return f"stopped before the run in {run} began; run the same command again, without --resume"
    return f"add --resume to the same command to go on with the run in {run} ({resume_point(run)})"


@app.command("merge")
def merge(
    source: Path = typer.Argument(..., help="A run folder (its final model), or a checkpoint folder."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the complete Hugging Face model."),
):
    """Write a complete Hugging Face model folder: weights (LoRA merged), processor, chat template
    and generation config; checks that it reloads and gives the trained model's logits."""
    with _errors(out_dir), one_writer(out_dir):
        require("train", "rewardmap merge")
        from .train.merge import merge_model

        diff = merge_model(source, out_dir)
    err.print(f"wrote {out_dir}: reloads with the trained model's logits (max difference {diff:.2e})")


@app.command("eval")
def evaluate(
    data: Path = typer.Option(..., "--data", help="Dataset folder (questions.jsonl, maps, stations)."),
    benchmark: str = typer.Option(..., "--benchmark", help="reasonmap (planning questions, short and long) "
                                  "or reasonmap-plus (the five Plus types)."),
    out_dir: Path = typer.Option(..., "--out", help="Run folder: predictions.jsonl, responses.jsonl, metrics.json, "
                                                    "report.html, report.md."),
    model: Optional[str] = typer.Option(None, "--model", help="Model folder or Hub id, run locally."),
    backend: str = typer.Option("transformers", "--backend", help="Local backend: transformers or vllm."),
    api: Optional[str] = typer.Option(None, "--api", help="OpenAI-compatible base URL (e.g. http://host:8000/v1)."),
    api_model: Optional[str] = typer.Option(None, "--api-model", help="Model name the API serves."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env",
                                    help="Environment variable holding the API key."),
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight (API)."),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds to wait for one answer (API)."),
    retries: int = typer.Option(6, "--retries", help="Tries after the first on 429, 5xx and dropped connections, "
                                                     "with exponential backoff (API)."),
    variant: str = typer.Option("reference", "--variant", help=EVAL_VARIANT_HELP),
    max_new_tokens: int = typer.Option(2048, "--max-new-tokens", help="Longest answer, in tokens."),
    batch_size: int = typer.Option(8, "--batch-size", help="Prompts per generate call (local backends)."),
    min_pixels: Optional[int] = typer.Option(None, "--min-pixels", help="Smallest image area given to the model."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest image area given to the model."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="Weights' dtype (local backends): auto, bfloat16, "
                                                              "float16 or float32; default: as saved."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N records."),
):
    """Answer a benchmark's questions with a model (local, vLLM or an API), greedily, then score
    them: RUN/metrics.json holds plain and weighted metrics per type, difficulty and city. A
    re-run resumes: finished records are not asked again, failed ones are."""
    from .eval.backends.factory import BackendOptions, create_backend
    from .eval.run import check_run_folder, load_benchmark, run_eval
    from .metrics import benchmark_named

    options = BackendOptions(model=model, backend=backend, api=api, api_model=api_model, api_key_env=api_key_env,
                             concurrency=concurrency, timeout=timeout, retries=retries, max_new_tokens=max_new_tokens,
                             batch_size=batch_size, min_pixels=min_pixels, max_pixels=max_pixels, dtype=dtype)
    with _errors(out_dir, then=f"{AGAIN}: the answers written so far are kept"), one_writer(out_dir, in_place=True):
        benchmark_named(benchmark, "--benchmark").check_variant("--variant", variant)
        options.check()
        settings = options.settings(benchmark, data)
        check_run_folder(out_dir, settings)  # before loading a model for nothing
        records = load_benchmark(data, benchmark, limit, checked=out_dir / MAPS_CHECKED)
        runner = create_backend(options)
        with _interrupted(f"the answers so far are in {out_dir / PREDICTIONS}; run the same command "
                          "again to go on"), _progress("questions", len(records)) as advance:
            result = run_eval(data, benchmark, out_dir, runner, variant=variant, records=records,
                              settings=settings, on_progress=lambda prediction, done, todo: advance())
    out.print(result.describe(), highlight=False, markup=False, soft_wrap=True)
    if result.predictions["failed"]:  # metrics are written, but the run is not complete
        err.print(f"[yellow]warning:[/yellow] {result.predictions['failed']} records failed after all retries and "
                  "are scored as wrong; run the same command again to retry them (exit status 1). The first: "
                  f"{escape(str(result.first_error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command("compare")
def compare(
    runs: list[Path] = typer.Argument(..., help="Run folders of `rewardmap train` (recipe.yaml; scored on its "
                                      "benchmarks/ when it has any, else on eval_after.json) or `rewardmap eval` "
                                      "(metrics.json, responses.jsonl)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write TABLE.md, TABLE.json and TABLE.png "
                                          "instead of printing the markdown."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Run folder to compare against (default: the "
                                            "first RUN; one not among the RUNs becomes the first row)."),
    by_name: bool = typer.Option(False, "--by-name", help="One row per recipe name: mean and ± half-range over "
                                 "its runs (seeds)."),
    trivial: bool = typer.Option(False, "--trivial", help="Add the first training run's trivial baseline "
                                 "(eval_baseline.json) as a row."),
    any_questions: bool = typer.Option(False, "--any-questions", help="Compare runs that scored different "
                                       "questions (a warning instead of an error)."),
):
    """Table-1-style comparison of runs: ReasonMap-Plus and ReasonMap accuracies (%) and map scores,
    plain and difficulty-weighted, each with its difference from the baseline row."""
    from .eval.compare import compare_runs, write_comparison

    with _errors(output or "standard output"):
        comparison = compare_runs(runs, baseline=baseline, by_name=by_name, trivial=trivial,
                                  any_questions=any_questions)
        for warning in comparison.warnings:
            err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
        if output is None:
            typer.echo(comparison.markdown(), nl=False)
            return
        for path in write_comparison(comparison, output):
            err.print(f"wrote {path}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    app()
