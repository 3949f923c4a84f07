"""GRPO step time of `rewardmap train` against bare TRL, same model, data and settings.

Both run GRPOTrainer on the tiny model of the default recipe, from the same initial
weights, on the same questions in the same (curriculum) order, with the same GRPOConfig.
The bare run has a constant reward and no callbacks of ours (TensorBoard logging on, as in
the recipe, and TRL's log printer off, as ours has it); `rewardmap train` adds the RewardMap
reward, per-type tracking, metrics.jsonl and the progress bar.
Each is timed `--repeats` times, alternating; the best pass counts. Goal: our overhead
under 5% of the step time.

    OMP_NUM_THREADS=1 python benchmarks/bench_train.py [--steps 20] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rewardmap.train.recipe import grpo_config_kwargs, load_recipe
from rewardmap.train.run import train


def recipe_for(out: Path, steps: int):
    return load_recipe("tiny", [f"output.dir={out}", "sft.enabled=false", "eval.enabled=false",
                                f"grpo.max_steps={steps}", "grpo.save_steps=0", "grpo.logging_steps=1",
                                "data.synthetic.cities=4", "data.heldout_cities=0"])


def ours(tmp: Path, steps: int, i: int) -> float:
    out = tmp / f"ours{i}"
    train(recipe_for(out, steps), console=Console(stderr=True, quiet=True))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return next(r["train_runtime"] for r in rows if "train_runtime" in r) / steps


def bare(tmp: Path, steps: int, i: int, template: Path) -> float:
    """GRPOTrainer alone on the data and initial model `ours` prepared under TEMPLATE."""
    from datasets import Dataset, Image
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from rewardmap.datasets.records import load_records
    from rewardmap.train.data import grpo_rows
    from rewardmap.model.tiny import load_tiny

    order = json.loads((template / "curriculum.json").read_text())["ids"]
    by_id = {r["id"]: r for r in load_records(template / "data")}
    dataset = Dataset.from_list(grpo_rows([by_id[i] for i in order])).cast_column("image", Image())
    model, processor = load_tiny(template / "init")
    recipe = recipe_for(tmp / f"bare{i}", steps).resolved()
    kwargs = grpo_config_kwargs(recipe, tmp / f"bare{i}")  # TensorBoard on, as in the recipe

    def constant(completions, **columns):
        return [0.0] * len(completions)

    trainer = GRPOTrainer(model=model, reward_funcs=constant, args=GRPOConfig(**kwargs, disable_tqdm=True),
                          train_dataset=dataset, processing_class=processor)
    trainer.remove_callback(PrinterCallback)  # it prints every log line when the bar is off
    return trainer.train().metrics["train_runtime"] / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_ours, t_bare = [], []
        for i in range(args.repeats):
            start = time.perf_counter()
            t_ours.append(ours(tmp, args.steps, i))
            if i == 0:
                print(f"first run of ours (with data and model set-up): {time.perf_counter() - start:.1f} s")
            t_bare.append(bare(tmp, args.steps, i, tmp / "ours0"))
        best_ours, best_bare = min(t_ours), min(t_bare)
        overhead = best_ours / best_bare - 1
        table = Table(title=f"GRPO step time, tiny recipe, {args.steps} steps, best of {args.repeats}")
        for col in ("run", "s/step (each pass)", "best", "vs bare TRL"):
            table.add_column(col)
        table.add_row("bare TRL GRPOTrainer", ", ".join(f"{t:.3f}" for t in t_bare), f"{best_bare:.3f}", "")
        table.add_row("rewardmap train", ", ".join(f"{t:.3f}" for t in t_ours), f"{best_ours:.3f}",
                      f"{overhead:+.1%} (goal < +5%: {'PASS' if overhead < 0.05 else 'FAIL'})")
        Console(width=140).print(table)


if __name__ == "__main__":
    main()
