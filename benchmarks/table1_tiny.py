"""The tiny analogue of the paper's Table 1 and its ablations, on this CPU.

Every row is the built-in `tiny` recipe with only the settings the paper varies changed:

| row | what it is | settings changed |
|---|---|---|
| warm-up only | the SFT warm-up, no RL | grpo.enabled=false |
| RL, plain reward, no curriculum | GRPO on every type shuffled, 10 for a right answer | curriculum shuffled, reward baseline, alpha 0 |
| reward design, no curriculum | RewardMap's reward without the curriculum | curriculum shuffled |
| curriculum, plain reward | the curriculum with the plain reward | reward baseline, alpha 0 |
| RewardMap | the whole method (the tiny recipe as it is) | - |

All rows train on the same synthetic questions (drawn once, as the tiny recipe draws them)
and are judged on the same held-out cities; each row runs once per seed (the seed of the
model's initial weights, the warm-up, GRPO's sampling and the curriculum shuffle), and
`rewardmap compare --by-name --trivial` puts them side by side (mean of the seeds, ± half
their range), with the warm-up-only row as the baseline.

    OMP_NUM_THREADS=1 python benchmarks/table1_tiny.py --out runs/table1 [--seeds 0 1] [--jobs 2]

It takes about an hour on a 2-core machine with --jobs 2 (runs finished earlier are
kept, so it can be stopped and started again). `--set key=value` changes a setting of every
row, e.g. for a quick check: --set sft.max_steps=2 --set grpo.max_steps=2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROWS = {
    "warmup-only": ["grpo.enabled=false"],
    "rl-plain-reward": ["curriculum.preset=shuffled", "reward.mode=baseline", "reward.alpha=0"],
    "reward-no-curriculum": ["curriculum.preset=shuffled"],
    "curriculum-plain-reward": ["reward.mode=baseline", "reward.alpha=0"],
    "rewardmap": [],
}
SEEDS = ("model.tiny.seed", "sft.seed", "grpo.seed", "curriculum.seed")


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
    baseline = next(f for f, (row, _) in zip(folders, jobs) if row == "warmup-only")
    table = args.out / "table.md"
    subprocess.run([sys.executable, "-m", "rewardmap", "compare", *map(str, folders), "--baseline", str(baseline),
                    "--by-name", "--trivial", "-o", str(table)], check=True)
    print(table.read_text())


if __name__ == "__main__":
    main()
