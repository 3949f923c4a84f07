"""`rewardmap train`: data -> policy -> SFT warm-up -> GRPO on the curriculum -> evaluation -> report.

A run folder holds everything (each name in `rewardmap.run_files`): `recipe.yaml` (resolved),
`data/` (synthetic questions, when the recipe draws them), `init/` (the tiny model), `sft/` and
`grpo/` (TRL checkpoints, `final/` each), `final/` (the trained policy), `curriculum.json`,
`metrics.jsonl`, `tensorboard/`, `eval_before.json`, `eval_after.json`, `benchmarks/` (the
benchmarks of `eval.datasets`, one `rewardmap eval` folder each:
`benchmarks/<dataset folder name>/<benchmark>/`), `report.md` and `plots/`.

Each phase leaves a finished marker (its `final/` folder or JSON file), so `--resume` skips
what is done and continues the phase in progress from its last checkpoint, at the same
curriculum position: the GRPO data order is fixed by the plan and TRL's sampler does not
shuffle, and the Trainer restores the step, the optimizer and the RNG states. The benchmarks
keep each answer as it comes, so a resumed run asks only the questions not answered yet.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from ..diskfull import writing
from ..errors import InputError
from ..fileio import remove_atomic_leftovers, write_text_atomic
from ..metrics.benchmarks import REASONMAP
from ..questions.kinds import ROUTE_TYPE
from ..run_files import (BENCHMARK_RUNS, CURRICULUM, DATA, EVAL_AFTER, EVAL_AFTER_SFT, EVAL_BASELINE, EVAL_BEFORE,
                         EVAL_TRAIN_AFTER, EVAL_TRAIN_BEFORE_GRPO, FINAL, GRPO, INIT, MAPS_WITHIN_BOUNDS, POLICY_CHANGE,
                         RECIPE, SFT, TENSORBOARD, TRAINING_METRICS)
from ..writer_lock import INSIDE, one_writer
from .recipe import Recipe, grpo_config_kwargs, load_recipe, runs_on_cpu, sft_config_kwargs
from .timing import StepTiming
from .tracking import CheckpointModes, MetricsLog, RewardTracker, read_metrics


def train(recipe: Recipe, *, resume: bool = False, console: Console | None = None, benchmarks=None) -> Path:
    """Run every phase of `recipe`; returns the run folder.

    Under `accelerate launch` every process runs this: the main process prepares the run
    folder, data and initial model first, trains with the others, and alone evaluates,
    saves and reports.

    BENCHMARKS answers `eval.datasets` (a `rewardmap.eval.suite.BenchmarkSuite` of those
    settings, which `rewardmap train` passes: training does not import evaluation). Its
    `check()` runs first, so that a dataset folder it cannot use stops the run before anything
    is drawn or trained; its `evaluate(model, processor, saved, out)` after the final model is saved.

    The main process holds the run folder's lock (`writer_lock`) from before it opens the folder
    to the end: another run started on the folder meanwhile is refused, naming this process.
    """
    with ExitStack() as held:
        return _run(recipe.resolved(), resume, console, benchmarks, held)


def _run(recipe: Recipe, resume: bool, console: Console | None, benchmarks, held: ExitStack) -> Path:
    benchmarking = bool(recipe.eval.enabled and recipe.eval.datasets)
    if benchmarking:  # first: before the run folder, the data or a model
        _check_benchmarks(recipe, benchmarks)
    from accelerate import PartialState

    console = console or Console(stderr=True)
    _quiet_libraries()
    run = Path(recipe.output.dir)
    state = PartialState(cpu=runs_on_cpu(recipe))
    ending = _ending_group(state)
    main = state.is_main_process
    if not main:
        console = Console(stderr=True, quiet=True)
    elif state.num_processes > 1:
        console.print(f"training on {state.num_processes} processes ({state.distributed_type.value})")
    from .policy import load_policy, question_texts, save_policy

    with state.main_process_first():
        if main:  # the other processes of this run write into it too: one lock, before they split
            held.enter_context(one_writer(run, in_place=True))
            _open_run(recipe, run, resume)
        train_records, heldout = _records(recipe, run, console)
        model, processor = load_policy(recipe, run, question_texts(train_records + heldout))
        if main and not (run / RECIPE).is_file():  # saved once data and model load: a failed start
            recipe.save(run / RECIPE)              # does not turn the folder into a run to resume
    evaluate = recipe.eval.enabled and heldout and main
    if evaluate:
        heldout = _heldout_questions(heldout, recipe)
        _write_baseline(train_records, heldout, recipe, run / EVAL_BASELINE, console)
        # sampled answers where they bracket GRPO: not from a model the warm-up is about to train
        _evaluate(model, processor, heldout, recipe, run / EVAL_BEFORE, "before", console,
                  sample=not recipe.sft.enabled)
    if recipe.sft.enabled:
        model, processor = _sft(model, processor, train_records, recipe, run, console, state)
        if evaluate and recipe.grpo.enabled:  # what GRPO adds, apart from what the warm-up taught
            _evaluate(model, processor, heldout, recipe, run / EVAL_AFTER_SFT, "after sft", console)
    probe = _training_probe(train_records, recipe) if evaluate and recipe.grpo.enabled else []
    if probe:  # GRPO's own questions: RL is expected to move them first
        _evaluate(model, processor, probe, recipe, run / EVAL_TRAIN_BEFORE_GRPO, "training maps, before grpo",
                  console)
    if recipe.grpo.enabled:
        model, processor = _grpo(model, processor, train_records, recipe, run, console, state)
    if main:
        save_policy(model, processor, run / FINAL)
        if evaluate or benchmarking:
            model = _on_device(model, state)
    if evaluate:
        _evaluate(model, processor, heldout, recipe, run / EVAL_AFTER, "after", console)
        if probe:
            _evaluate(model, processor, probe, recipe, run / EVAL_TRAIN_AFTER, "training maps, after", console)
        if recipe.grpo.enabled:
            _write_policy_change(recipe, run, console)
    if benchmarking and main:
        _evaluate_benchmarks(model, processor, benchmarks, run, console)
    if main:
        from .report import write_report

        report = write_report(run)
        console.print(f"[bold]run folder[/]: {run}   report: {report}")
    if ending is not None:
        import torch.distributed as dist

        dist.barrier(group=ending)
    return run


def _ending_group(state):
    """Where the other processes wait at the end of the run while the main process alone
    evaluates and reports (None in one process): a gloo group with a day's timeout, since a
    barrier of the default group gives up after 10 (NCCL) or 30 (gloo) minutes, before a
    benchmark is answered, and the launcher then stops every process."""
    if state.num_processes == 1:
        return None
    from datetime import timedelta

    import torch.distributed as dist

    return dist.new_group(backend="gloo", timeout=timedelta(days=1))


def _quiet_libraries() -> None:
    """Our progress bars and messages only: transformers' per-file bars and TRL's
    deprecation notices about its own calls say nothing a user can act on."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)


# ------------------------------------------------------------------ the run folder

def _open_run(recipe: Recipe, run: Path, resume: bool) -> None:
    if run.exists() and not run.is_dir():
        raise InputError(f"{run}: exists and is not a folder; choose another with --out")
    saved = run / RECIPE
    if saved.is_file():
        if not resume:
            raise InputError(f"{run}: a run is already there; add --resume to continue it, or choose another "
                             "folder with --out")
        before, now = _flatten(load_recipe(saved).resolved().to_dict()), _flatten(recipe.to_dict())
        changed = [key for key in now if now[key] != before.get(key)]
        if changed:
            raise InputError(f"{saved}: --resume with different settings ({', '.join(changed[:5])}); resume with "
                             "the recipe the run started with, or start a new run with --out")
    elif resume and run.exists() and any(not any(p.match(made) for made in BEFORE_RECIPE) for p in run.iterdir()):
        raise InputError(f"{run}: nothing to resume (no {RECIPE})")
    run.mkdir(parents=True, exist_ok=True)
    remove_atomic_leftovers(run)  # what a killed run left


# What a run writes before its recipe.yaml: a run stopped then is started again by --resume.
# INSIDE: the run folder's lock, held inside it when its parent is read-only (`writer_lock`).
BEFORE_RECIPE = (INSIDE, DATA, f".{DATA}.*.partial", INIT, f"{INIT}.tmp")


def _flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and key not in ("tiny", "extra"):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    out.pop("output.dir", None)  # the same run, wherever it was reached from
    return out


def _records(recipe: Recipe, run: Path, console: Console) -> tuple[list[dict], list[dict]]:
    from ..datasets.balance import FREE_ANSWER_LIMIT, free_answers
    from ..datasets.records import load_records
    from .data import split_by_city

    d = recipe.data
    folder = dataset_folder(recipe, run)
    if not d.dataset:
        if not (folder / "questions.jsonl").is_file():
            from ..datasets.synthetic import synth_dataset

            s = d.synthetic
            with console.status(f"drawing {s.cities} synthetic cities into {folder}"):
                synth_dataset(folder, cities=s.cities, seed=s.seed, difficulty=s.difficulty, size=s.size,
                              per_city=s.per_city, types=tuple(d.types), workers=min(s.cities, os.cpu_count() or 1))
    records = [r for r in load_records(folder) if r["type"] in d.types]
    if not records:
        raise InputError(f"{folder}: no questions of the types {', '.join(d.types)} (data.types)")
    train_records, heldout = split_by_city(records, d.heldout_cities, d.heldout_seed)
    console.print(f"data: {len(train_records)} training and {len(heldout)} held-out questions from {folder}")
    for split, chosen in (("training", train_records), ("held-out", heldout)):
        for line in free_answers(chosen):  # what RL would learn instead of reading the map
            console.print(f"[yellow]warning[/]: {split} questions: {line} (free answers: "
                          f"more than {100 * FREE_ANSWER_LIMIT:.0f}% without reading the map)")
    return train_records, heldout


def dataset_folder(recipe: Recipe, run: Path) -> Path:
    """The folder the run's questions come from: `data.dataset`, or the synthetic cities drawn into RUN/data."""
    return Path(recipe.data.dataset) if recipe.data.dataset else run / DATA


def training_reward(recipe: Recipe, run: Path):
    """GRPO's reward function: the recipe's reward, reading station files from the dataset folder
    only (the rows name them by absolute paths inside it; a path anywhere else is refused, so a
    reward built without this root would score every route rollout 0)."""
    from ..rewards.adapters import make_trl_reward

    return make_trl_reward(recipe.reward.config(), stations_root=dataset_folder(recipe, run).resolve())


def _select(records: list[dict], types: list[str], limit: int | None = None) -> list[dict]:
    chosen = [r for r in records if r["type"] in types]
    return chosen[:limit] if limit else chosen


# ------------------------------------------------------------------ phases

def _sft(model, processor, records, recipe: Recipe, run: Path, console: Console, state):
    from .policy import load_pretrained, save_policy

    folder, final = run / SFT, run / SFT / FINAL
    if (final / "config.json").is_file():
        console.print("sft: done earlier, loading sft/final")
        return load_pretrained(final)
    from datasets import Dataset, Image
    from trl import SFTConfig, SFTTrainer

    from .data import mix_per_type, sft_rows
    from .progress import RichProgress

    chosen = mix_per_type(_select(records, recipe.sft.types, recipe.sft.max_samples), recipe.sft.per_type,
                          f"sft/{recipe.sft.seed}")
    if not chosen:
        raise InputError(f"{recipe.source}: field 'sft.types': no training questions of these types")
    dataset = Dataset.from_list(_within_bounds(recipe, run, sft_rows(chosen))).cast_column("image", Image())
    config = SFTConfig(**sft_config_kwargs(recipe, folder), disable_tqdm=True)
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run / TENSORBOARD / SFT)  # read when the trainer is made
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset,
                         processing_class=sft_processor(recipe, processor), peft_config=_lora(recipe.sft.lora))
    _attach(trainer, MetricsLog(run / TRAINING_METRICS, "sft"), RichProgress("sft", console=console), "sft", run)
    counts = ", ".join(f"{t} {n}" for t, n in sorted(Counter(r["type"] for r in chosen).items()))
    steps = config.max_steps if config.max_steps > 0 else math.ceil(len(chosen) / recipe.sft.batch_size
                                                                      * recipe.sft.epochs)
    console.print(f"sft: {len(chosen)} questions ({counts}), {steps} steps")
    _train(trainer, folder)
    model = trainer.model
    if recipe.sft.lora.enabled and recipe.sft.merge_lora:
        model = model.merge_and_unload()
        model.requires_grad_(True)  # PEFT froze the base weights for the adapter; RL after it trains them all
    if state.is_main_process:
        save_policy(model, processor, final)
    state.wait_for_everyone()
    return model, processor


def _map_cache_bytes(recipe: Recipe) -> int:
    """`grpo.map_cache_mb` in bytes; empty: 8,192 MB (a few dozen maps at Qwen2.5-VL-7B's 12.8 Mpx)."""
    megabytes = recipe.grpo.map_cache_mb
    return (8192 if megabytes is None else megabytes) * 2**20


def sft_processor(recipe: Recipe, processor):
    """PROCESSOR, or with `sft.max_pixels` a copy whose image processor resizes a map to at most that
    many pixels (the released SFT's image_max_pixels); GRPO and the saved model keep the model's bound."""
    if recipe.sft.max_pixels is None:
        return processor
    import copy

    bounded = copy.deepcopy(processor)
    bounded.image_processor.size.longest_edge = recipe.sft.max_pixels  # the Qwen2-VL processors' pixel cap
    return bounded


def _grpo(model, processor, records, recipe: Recipe, run: Path, console: Console, state):
    from .policy import load_pretrained, save_policy

    folder, final = run / GRPO, run / GRPO / FINAL
    if (final / "config.json").is_file():
        console.print("grpo: done earlier, loading grpo/final")
        return load_pretrained(final)
    from trl import GRPOConfig, GRPOTrainer

    from ..curriculum import plan_curriculum, trl_chunking
    from .map_cache import maps_prepared_once
    from .progress import RichProgress

    config = GRPOConfig(**grpo_config_kwargs(recipe, folder), disable_tqdm=True)
    prompts, steps = trl_chunking(config)
    chosen = _grpo_questions(records, recipe)
    plan = plan_curriculum(chosen, recipe.curriculum.build(), prompts_per_chunk=prompts, steps_per_chunk=steps,
                           leave_out_unstaged=True)
    if state.is_main_process:
        write_text_atomic(run / CURRICULUM, json.dumps(plan.as_dict(), indent=1, ensure_ascii=False))
    console.print(plan.summary())
    last_stage = next((s for s in reversed(plan.stages) if s.count), None)

    def stage_of(step: int) -> str | None:
        """The (first) stage a step trains on; the last stage for steps past the plan (a
        second epoch, the closing log line)."""
        names = plan.stages_at(step)
        return names[0] if names else last_stage.name if last_stage and step > last_stage.last_step else None

    dataset, processing, maps = maps_prepared_once(grpo_dataset(recipe, run, plan.records), processor,
                                                   _map_cache_bytes(recipe))
    tracker = RewardTracker()
    reward = tracker.wrap(training_reward(recipe, run))
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run / TENSORBOARD / GRPO)
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=config, train_dataset=dataset,
                          processing_class=processing, peft_config=_lora(recipe.model.lora))
    configure_generation(trainer, recipe.grpo)
    _attach(trainer, MetricsLog(run / TRAINING_METRICS, "grpo", stage_of, tracker),
            RichProgress("grpo", stage_of, console), "grpo", run)
    _train(trainer, folder)
    if maps is not None:
        console.print(f"grpo: {maps.misses} map preparations served {maps.hits + maps.misses} map uses "
                      f"({maps.bytes / 2**20:.0f} MB held)")
    model = trainer.model
    if recipe.model.lora.enabled:
        model = model.merge_and_unload()
    if state.is_main_process:
        save_policy(model, processor, final)
    state.wait_for_everyone()
    return model, processor


def grpo_dataset(recipe: Recipe, run: Path, records: list[dict]):
    """GRPO's training rows for RECORDS, in order: the prompt as the recipe writes it (text after
    the map, then the question), the map within the data bounds, and the reward's columns."""
    from datasets import Dataset, Image

    from .data import grpo_rows

    rows = grpo_rows(records, recipe.grpo.text_after_image or "")
    return Dataset.from_list(_within_bounds(recipe, run, rows)).cast_column("image", Image())


def _grpo_questions(records: list[dict], recipe: Recipe) -> list[dict]:
    """The questions GRPO trains on (`grpo.per_type` of each type) as many times as `grpo.epochs`
    says, before the curriculum orders them (so each stage passes over its own questions that
    many times before the next one starts)."""
    from collections import Counter

    from .data import mix_per_type

    g = recipe.grpo
    chosen = mix_per_type(records, g.per_type, f"grpo/{g.seed}")
    if g.epochs != 1:
        counts = Counter(r["type"] for r in chosen)
        chosen = mix_per_type(chosen, {t: max(1, round(n * g.epochs)) for t, n in counts.items()},
                              f"grpo/{g.seed}/epochs")
    return chosen


def _training_probe(records: list[dict], recipe: Recipe) -> list[dict]:
    """`eval.train_per_type` questions of each type that GRPO trains on (each once, spread over
    their maps), evaluated like the held-out ones before and after GRPO."""
    if not recipe.eval.train_per_type:
        return []
    from .heldout import select_heldout

    trained = {r.get("id") for r in _grpo_questions(records, recipe)}
    return select_heldout([r for r in records if r.get("id") in trained], recipe.eval.train_per_type,
                          recipe.data.heldout_seed)


def _within_bounds(recipe: Recipe, run: Path, rows: list[dict], key: str = "image") -> list[dict]:
    """ROWS (training rows, or records with key "figure") whose maps lie within `data.min_pixels`
    / `data.max_pixels`: a map out of them is read from its resized copy in RUN/maps_within_bounds
    (made once per run), so that training and evaluation see the same pixels."""
    from .map_bounds import bounded_maps

    d = recipe.data
    if d.min_pixels is None and d.max_pixels is None:
        return rows
    paths = bounded_maps((r[key] for r in rows), run / MAPS_WITHIN_BOUNDS, d.min_pixels, d.max_pixels)
    return [{**r, key: paths[r[key]]} for r in rows]


def configure_generation(trainer, grpo) -> None:
    """Settings of the trainer's transformers generation that GRPOConfig does not take: TRL
    builds its GenerationConfig with compilation off (vLLM generation has no such config)."""
    if getattr(trainer, "generation_config", None) is not None:
        trainer.generation_config.disable_compile = not grpo.compile_generation


def _attach(trainer, log: MetricsLog, progress, phase: str, run: Path) -> None:
    from .progress import quiet_trainer

    StepTiming().attach(trainer)  # before the log callback: each log event carries the step's phase times
    trainer.add_callback(log)
    trainer.add_callback(CheckpointModes())
    quiet_trainer(trainer, progress)
    checkpoint = _last_checkpoint(run / phase)
    if trainer.accelerator.is_main_process:  # the phase logs again what came after its checkpoint (all, without one)
        _trim_metrics(run / TRAINING_METRICS, phase, _checkpoint_step(checkpoint) if checkpoint else 0)


def _train(trainer, folder: Path) -> None:
    """`trainer.train()`, from the last complete checkpoint under FOLDER when there is one.

    transformers 5 saves Qwen2.5-VL weights under their original checkpoint names, and its
    Trainer loads a checkpoint's weights back without renaming them: every key misses and
    training silently goes on from the weights it started with. So the weights are read
    here with `from_pretrained`, which renames; the Trainer restores the rest (optimizer,
    scheduler, RNG states, step and data position).
    """
    main = trainer.accelerator.is_main_process
    if main:
        _drop_incomplete_checkpoints(folder)
    checkpoint = _last_checkpoint(folder)
    if checkpoint and not (Path(checkpoint) / "adapter_config.json").is_file():  # adapters load by name
        saved = type(trainer.model).from_pretrained(checkpoint, dtype=trainer.model.dtype)
        trainer.model.load_state_dict(saved.state_dict())
        del saved
    try:
        with writing(folder):  # checkpoints: safetensors and torch.save name no file when the disk is full
            trainer.train(resume_from_checkpoint=checkpoint)
    except BaseException:
        if main:  # a checkpoint the disk or a signal cut short is not left for a resume to pass over
            _drop_incomplete_checkpoints(folder)
        raise


def _lora(lora):
    if not lora.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(**lora.peft_kwargs())


def resume_point(run: Path) -> str:
    """Where `--resume` goes on in RUN, in words: after the last finished phase, or from the last
    complete checkpoint of the phase in progress."""
    if (run / FINAL / "config.json").is_file():
        return "training is done; the evaluations and the report are left"
    for phase in (GRPO, SFT):
        if (run / phase / FINAL / "config.json").is_file():
            return f"{phase} is done; what follows it is left"
        checkpoint = _last_checkpoint(run / phase)
        if checkpoint:
            return f"from {Path(checkpoint).relative_to(run)}"
    return "from the start of training"


def _last_checkpoint(folder: Path) -> str | None:
    """The newest complete checkpoint: the Trainer writes `trainer_state.json` last, so a
    run killed while saving leaves a folder without it, which is passed over."""
    done = [(_checkpoint_step(str(path)), str(path)) for path in _checkpoints(folder) if _complete(path)]
    return max(done)[1] if done else None


def _drop_incomplete_checkpoints(folder: Path) -> None:
    """Remove the checkpoint folders that `_last_checkpoint` passes over (a save cut short)."""
    import shutil

    for path in _checkpoints(folder):
        if not _complete(path):
            shutil.rmtree(path, ignore_errors=True)


def _checkpoints(folder: Path) -> list[Path]:
    found = folder.glob("checkpoint-*") if folder.is_dir() else ()
    return [p for p in found if p.is_dir() and p.name.removeprefix("checkpoint-").isdigit()]


def _complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
        return True
    except (OSError, ValueError):
        return False


def _checkpoint_step(checkpoint: str) -> int:
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])


def _trim_metrics(path: Path, phase: str, step: int) -> None:
    """Drop PHASE's lines after STEP, and its closing summary (the Trainer writes it again)."""
    rows = read_metrics(path)
    kept = [r for r in rows if not (r.get("phase") == phase and (r.get("step", 0) > step or "train_runtime" in r))]
    if len(kept) != len(rows):
        write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))


# ------------------------------------------------------------------ evaluation

def _check_benchmarks(recipe: Recipe, benchmarks) -> None:
    """`eval.datasets` usable (`BenchmarkSuite.check`), in every process before anything is
    written: a typo must not surface after the training it follows."""
    where = f"{recipe.source}: field 'eval.datasets'"
    if benchmarks is None:
        raise InputError(f"{where}: nothing given to evaluate them with (train(..., benchmarks="
                         "rewardmap.eval.suite.BenchmarkSuite(...)), as `rewardmap train` does)")
    try:
        benchmarks.check()
    except InputError as e:
        raise InputError(f"{where}: {e}") from None


def _on_device(model, state):
    """MODEL on the process's device: a model loaded rather than trained (evaluation only, or
    every phase done before a resume) is still on the CPU it was loaded to for the Trainer."""
    return model if model.device == state.device else model.to(state.device)


def _evaluate_benchmarks(model, processor, benchmarks, run: Path, console: Console) -> None:
    """The benchmarks of `eval.datasets`, answered by the final model in memory into
    RUN/benchmarks, as `rewardmap eval --model RUN/final` answers them."""
    from rich.markup import escape
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmarks", total=None)

        def advance(label: str, done: int, todo: int) -> None:
            progress.update(task, description=f"benchmark {label}", completed=done, total=todo)

        results = benchmarks.evaluate(model, processor, run / FINAL, run / BENCHMARK_RUNS, on_progress=advance)
    for result in results:
        console.print(result.describe(), highlight=False, markup=False, soft_wrap=True)
        if result.predictions["failed"]:
            console.print(f"[yellow]warning[/]: {result.predictions['failed']} {result.benchmark} questions failed "
                          f"and are scored as wrong (the first: {escape(str(result.first_error))}); "
                          "`rewardmap train --resume` asks them again", highlight=False, soft_wrap=True)


def _heldout_questions(heldout: list[dict], recipe: Recipe) -> list[dict]:
    from .heldout import select_heldout

    e, seed = recipe.eval, recipe.data.heldout_seed
    routes = [r for r in heldout if r["type"] == ROUTE_TYPE]
    chosen = select_heldout([r for r in heldout if r["type"] != ROUTE_TYPE], e.per_type, seed)
    chosen += select_heldout(routes, e.route_questions or e.per_type, seed)
    position = {id(r): i for i, r in enumerate(heldout)}
    chosen.sort(key=lambda r: position[id(r)])  # dataset order
    return chosen[: e.max_questions] if e.max_questions else chosen


def _write_baseline(train_records: list[dict], heldout: list[dict], recipe: Recipe, path: Path,
                    console: Console) -> None:
    """The trivial baselines of `baselines.py`, scored like the model's answers."""
    if path.is_file():
        return
    from .baselines import trivial_answers
    from .heldout import score_heldout

    answers, strategy = trivial_answers(train_records, heldout, recipe.eval.variant)
    result = {"when": "trivial baseline", "strategy": strategy,
              **score_heldout(heldout, answers, recipe.reward.config(), recipe.eval.variant)}
    write_text_atomic(path, json.dumps(result, indent=1, ensure_ascii=False))
    counts = ", ".join(f"{t} {v['count']}" for t, v in result["by_type"].items())
    console.print(f"held out: {len(heldout)} questions ({counts})")


def _write_policy_change(recipe: Recipe, run: Path, console: Console) -> None:
    """How far GRPO moved the policy: its weights from where GRPO started, and the share of
    held-out greedy answers that differ from the evaluation before GRPO."""
    from .change import answer_change, weight_change

    path = run / POLICY_CHANGE
    if path.is_file():
        return
    from ..model.packaged import model_path

    result: dict = {"phase": "grpo"}
    name = recipe.model.name_or_path
    for start, label in ((run / SFT / FINAL, f"{SFT}/{FINAL}"), (run / INIT, INIT), (Path(model_path(name)), name)):
        if list(start.glob("*.safetensors")) and list((run / FINAL).glob("*.safetensors")):
            result["weights"] = {"from": label, **weight_change(start, run / FINAL)}
            break
    for name, when in ((EVAL_AFTER_SFT, "after sft"), (EVAL_BEFORE, "before")):
        if (run / name).is_file():
            before = json.loads((run / name).read_text(encoding="utf-8"))
            after = json.loads((run / EVAL_AFTER).read_text(encoding="utf-8"))
            result["answers"] = {"from": when, **answer_change(before, after)}
            break
    write_text_atomic(path, json.dumps(result, indent=1))
    weights, answers = result.get("weights"), result.get("answers")
    console.print("policy change by grpo: "
                  + (f"weights {100 * weights['relative_l2']:.3g}% (relative L2 from {weights['from']})"
                     if weights else "weights not measured (no saved starting point)")
                  + (f", held-out greedy answers changed {100 * answers['overall']['changed']:.1f}%"
                     if answers else ""))


def _evaluate(model, processor, records, recipe: Recipe, path: Path, when: str, console: Console,
              sample: bool = True) -> dict:
    """Greedy answers (and, with SAMPLE, `eval.samples` sampled ones) to RECORDS, scored, written
    to PATH; an evaluation done earlier is read back instead."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    from rich.progress import Progress

    from .heldout import ask, questions_asked, score_heldout

    sampling = recipe.eval.sampling(recipe.grpo) if sample else None
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"eval {when}", total=questions_asked(records, sampling))
        asked = _within_bounds(recipe, path.parent, records, key="figure")
        answers = ask(model, processor, asked, batch_size=recipe.eval.batch_size, sampling=sampling,
                      max_new_tokens=recipe.eval.max_new_tokens, on_batch=lambda n: progress.advance(task, n))
    config = recipe.reward.config()
    result = {"when": when, "variant": config.variant,
              **({"sampling": dataclasses.asdict(sampling)} if sampling else {}),
              **score_heldout(records, answers, config, recipe.eval.variant)}
    write_text_atomic(path, json.dumps(result, indent=1, ensure_ascii=False))
    console.print(f"eval {when}: {_summary_line(result)}")
    return result


def _summary_line(result: dict) -> str:
    """One line of an evaluation's main figures."""
    overall, plus = result["overall"], result.get("plus")
    text = f"accuracy {overall['accuracy']:.3f}, parsed {overall['parsed']:.3f}, mean reward {overall['reward']:.2f}"
    if plus and "sampled_accuracy" in plus:
        text += (f"; Plus accuracy {plus['accuracy']:.3f}, sampled {plus['sampled_accuracy']:.3f}, "
                 f"pass@{plus['k']} {plus['pass_at_k']:.3f}")
    text += f" on {overall['count']} questions"
    routes = result.get(REASONMAP.name, {}).get("overall")
    if routes:
        text += f"; routes: map score {routes['map_score_short']['mean']:.2f} of 20 (short)"
        planning = result["by_type"].get("planning", {})
        if "endpoints" in planning:
            text += f", both endpoints named in {100 * planning['endpoints']:.0f}%"
    return text
