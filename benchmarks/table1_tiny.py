"""The tiny analogue of the paper's Table 1 and its ablations, on this CPU.

Every row is the built-in `tiny` recipe (GRPO from the shipped `tiny-base`) with only the settings
the paper varies changed:

| row | what it is | settings changed |
|---|---|---|
| start (no RL) | tiny-base as shipped, evaluated only | grpo.enabled=false |
| RL, plain reward, no curriculum | GRPO on every type shuffled, 10 for a right answer | curriculum shuffled, reward baseline, alpha 0 |
| reward design, no curriculum | RewardMap's reward without the curriculum | curriculum shuffled |
| curriculum, plain reward | the curriculum with the plain reward | reward baseline, alpha 0 |
| RewardMap | the whole method (the tiny recipe as it is) | - |
| RewardMap, batch-scaled advantages | the difficulty weight W survives normalisation | grpo.scale_rewards=batch |
| RewardMap, unscaled advantages | W survives, rewards are not divided at all | grpo.scale_rewards=none |

With `scale_rewards: group` (GRPO's and the released trainer's), each question's rewards are
divided by their own standard deviation, and W, the same for every rollout of one question,
divides out; the last two rows keep it.

All rows train on the same synthetic questions (drawn once, as the tiny recipe draws them) and
are judged on the same held-out cities; each row runs once per seed (the seed of GRPO's sampling
and of the curriculum shuffle; the evaluation's sampling seed stays fixed, so that every row's
samples are drawn alike). `rewardmap compare --by-name --trivial` puts the rows side by side
(greedy accuracies, mean of the seeds, 95% intervals over the questions and paired differences
from the start row); this script adds the sampled accuracy of each row, the change from the
start paired per question and seed.

    OMP_NUM_THREADS=1 python benchmarks/table1_tiny.py --out runs/table1 [--seeds 0 1] [--jobs 2]

It takes about 40 minutes on a 2-core machine with --jobs 2 (runs finished earlier are
kept, so it can be stopped and started again). `--set key=value` changes a setting of every
row, e.g. for a quick check: --set grpo.max_steps=2 --set eval.per_type=10.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROWS = {
    "start": ["grpo.enabled=false"],
    "rl-plain-reward": ["curriculum.preset=shuffled", "reward.mode=baseline", "reward.alpha=0"],
    "reward-no-curriculum": ["curriculum.preset=shuffled"],
    "curriculum-plain-reward": ["reward.mode=baseline", "reward.alpha=0"],
    "rewardmap": [],
    "rewardmap-scale-batch": ["grpo.scale_rewards=batch"],
    "rewardmap-scale-none": ["grpo.scale_rewards=none"],
}
SEEDS = ("grpo.seed", "curriculum.seed")


def draw_data(out: Path, overrides: list[str]) -> Path:
    """The tiny recipe's synthetic questions, drawn once for every row."""
    from rewardmap.datasets.synthetic import synth_dataset
    from rewardmap.train.recipe import load_recipe

    folder = out / "data"
    if not (folder / "questions.jsonl").is_file():
        recipe = load_recipe("tiny", overrides)
        s = recipe.data.synthetic
        synth_dataset(folder, cities=s.cities, seed=s.seed, difficulty=s.difficulty, size=s.size,
                      per_city=s.per_city, types=tuple(recipe.data.types), workers=os.cpu_count() or 1)
    return folder


def run_row(out: Path, row: str, seed: int, data: Path, overrides: list[str]) -> Path:
    """`rewardmap train tiny` for one row and seed, in a process of its own; a finished run is kept."""
    folder = out / f"{row}-seed{seed}"
    if (folder / "eval_after.json").is_file():
        return folder
    sets = [f"name={row}", f"data.dataset={data}", *(f"{key}={seed}" for key in SEEDS), *ROWS[row], *overrides]
    command = [sys.executable, "-m", "rewardmap", "train", "tiny", "--out", str(folder),
               *[arg for item in sets for arg in ("--set", item)]]
    if (folder / "recipe.yaml").is_file():
        command.append("--resume")
    log = out / f"{row}-seed{seed}.log"
    with open(log, "w") as stream:
        result = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT,
                                env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    if result.returncode:
        raise SystemExit(f"{row}, seed {seed}: rewardmap train failed (exit {result.returncode}); see {log}")
    return folder


def _evaluation(run: Path, name: str) -> dict:
    import json

    return json.loads((run / name).read_text())


def sampled_table(out: Path, folders: list[Path], jobs: list[tuple[str, int]]) -> str:
    """The five Plus types pooled, held out: each row's greedy and sampled accuracy (mean over seeds)
    and their change from the start of GRPO; then the RewardMap row against every other row. Changes
    are paired per question and seed, with 95% intervals."""
    from rewardmap.metrics.intervals import interval
    from rewardmap.questions.kinds import PLUS_TYPES
    from rewardmap.train.report_heldout import difference_cell, matched, pooled_paired

    runs = {row: {seed: f for f, (name, seed) in zip(folders, jobs) if name == row} for row in ROWS}
    figures = ("accuracy", "sampled_accuracy")
    lines = ["| row | seeds | greedy | sampled | greedy change | sampled change |", "|---|---:|---:|---:|---:|---:|"]
    for row, by_seed in runs.items():
        pairs = [(_evaluation(f, "eval_before.json"), _evaluation(f, "eval_after.json")) for f in by_seed.values()]
        cells = []
        for figure in figures:
            _, b, strata = matched(pairs, figure, PLUS_TYPES)
            lo, hi = interval(b, strata=strata)
            cells.append((f"{sum(b) / len(b):.3f} [{lo:.3f}, {hi:.3f}]",
                          difference_cell(pooled_paired(pairs, figure, PLUS_TYPES))))
        lines.append(f"| {row} | {len(by_seed)} | {cells[0][0]} | {cells[1][0]} | {cells[0][1]} | {cells[1][1]} |")
    versus = ["| RewardMap minus | greedy | sampled |", "|---|---:|---:|"]
    for row, by_seed in runs.items():
        if row == "rewardmap":
            continue
        pairs = [(_evaluation(by_seed[seed], "eval_after.json"), _evaluation(mine, "eval_after.json"))
                 for seed, mine in runs["rewardmap"].items() if seed in by_seed]
        cells = [difference_cell(pooled_paired(pairs, figure, PLUS_TYPES)) for figure in figures]
        versus.append(f"| {row} | {cells[0]} | {cells[1]} |")
    text = ("Held-out, five Plus types pooled; changes in points from the start of GRPO (the same questions, "
            "paired per question and seed; 95% intervals):\n\n" + "\n".join(lines) + "\n\n"
            "The RewardMap row minus each other row, after GRPO, in points (paired per question and seed):\n\n"
            + "\n".join(versus) + "\n")
    (out / "sampled.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/table1"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=1, help="Runs at once (each uses one thread).")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="A setting changed in every row (key=value), e.g. for a quick check.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = draw_data(args.out, args.overrides).resolve()
    jobs = [(row, seed) for seed in args.seeds for row in ROWS]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        folders = list(pool.map(lambda job: run_row(args.out, *job, data, args.overrides), jobs))
    baseline = next(f for f, (row, _) in zip(folders, jobs) if row == "start")
    table = args.out / "table.md"
    subprocess.run([sys.executable, "-m", "rewardmap", "compare", *map(str, folders), "--baseline", str(baseline),
                    "--by-name", "--trivial", "-o", str(table)], check=True)
    print(table.read_text())
    print(sampled_table(args.out, folders, jobs))


if __name__ == "__main__":
    main()
