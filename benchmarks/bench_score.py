"""`rewardmap score` and `rewardmap metrics` timed as a user runs them.

A file of `--lines` realistic answers (the mix of `bench_rewards.py`: right, partly right and
wrong routes, long answers, boxed and unboxed Plus answers, thinking text, garbage) to
questions built on the station files of the 11 ReasonMap test cities (synthetic cities when
the real files are absent) is scored four ways, each a whole command in a fresh process,
from spawn to exit, best of `--repeats`:

1. `rewardmap score LINES --stations-root ROOT -o OUT`, in both variants, and once more on the
   same lines with every response made distinct (a numbered remark appended), so that no answer
   recurs: the worst case for its memo of recurring answers;
2. `rewardmap metrics` on the same answers, one file per benchmark;
3. a released-code-like command (`_released_score.py`): per line, what the released RewardMap
   reward does per call, re-reading the station file and logging the reward, on the same file;
4. beside them, the function alone in this process (`score_file`, no start-up).

Goal: score and metrics at least 50,000 lines/s end to end on one core, and at least 20x the
released-code-like command.

    OMP_NUM_THREADS=1 python benchmarks/bench_score.py [--lines 50000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rewardmap.datasets.build import build_dataset
from rewardmap.datasets.synthetic import synth_dataset
from rewardmap.rewards import RewardConfig
from rewardmap.rewards.batch import score_file

from _real_data import REAL_DATA  # noqa: E402  (beside this script)
from bench_rewards import response_for  # noqa: E402

TEST_CITIES = ("los_angeles", "miami", "toronto", "singapore", "auckland", "rome", "lisboa", "beijing", "hangzhou",
               "budapest", "geneva")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def questions(tmp: Path) -> tuple[list[dict], Path]:
    """Records of every type on the test cities, and the dataset folder holding their files."""
    out = tmp / "ds"
    found = [p for p in sorted((REAL_DATA / "stations").glob("*/*.json")) if p.stem in TEST_CITIES]
    if found:
        for p in found:
            (tmp / "stations" / p.parent.name).mkdir(parents=True, exist_ok=True)
            (tmp / "stations" / p.parent.name / p.name).write_bytes(p.read_bytes())
        build_dataset(tmp / "stations", out, per_city=100, seed=0)
    else:
        synth_dataset(out, cities=11, seed=0, size=512, per_city=100)
    return [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()], out


def write_lines(records: list[dict], n: int, path: Path, rng: random.Random) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for record in (rng.choice(records) for _ in range(n)):
            response = response_for(record, rng)
            extra = ({"response_short": response, "response_long": response} if record["type"] == "planning"
                     else {})
            f.write(json.dumps({**record, "response": response, **extra}, ensure_ascii=False) + "\n")


def distinct(path: Path, out: Path) -> None:
    """PATH's lines with a numbered remark appended to each response."""
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            record = json.loads(line)
            record["response"] += f"\n(answer {i})"
            g.write(json.dumps(record, ensure_ascii=False) + "\n")


def command(args: list, repeats: int) -> float:
    """Best wall time of ARGS, spawn to exit."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(0)
    rewardmap = [sys.executable, "-m", "rewardmap"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        records, root = questions(tmp)
        lines = tmp / "answers.jsonl"
        write_lines(records, args.lines, lines, rng)
        by_benchmark = {"reasonmap-plus": tmp / "plus.jsonl", "reasonmap": tmp / "routes.jsonl"}
        with open(lines, encoding="utf-8") as f, open(by_benchmark["reasonmap-plus"], "w", encoding="utf-8") as plus, \
                open(by_benchmark["reasonmap"], "w", encoding="utf-8") as routes:
            for line in f:
                (routes if '"type": "planning"' in line else plus).write(line)
        n = args.lines
        released = command([sys.executable, str(Path(__file__).with_name("_released_score.py")), lines, root,
                            tmp / "released.jsonl"], 1)
        table = Table(title=f"rewardmap score and metrics, {n:,} lines on the test cities, one core")
        for col in ("command", "time (s)", "lines/s", "vs released-like / goal"):
            table.add_column(col)
        table.add_row("released-code-like command (_released_score.py)", f"{released:.2f}", f"{n / released:,.0f}", "")
        for variant in ("reference", "robust"):
            t = command([*rewardmap, "score", lines, "--stations-root", root, "--variant", variant,
                         "-o", tmp / "scores.jsonl"], args.repeats)
            ok = n / t >= 50_000 and released / t >= 20
            table.add_row(f"rewardmap score --variant {variant}", f"{t:.2f}", f"{n / t:,.0f}",
                          f"{released / t:.1f}x; goal >= 50,000/s and 20x: {'PASS' if ok else 'FAIL'}")
            start = time.perf_counter()
            score_file(lines, root, RewardConfig(variant=variant))
            alone = time.perf_counter() - start
            table.add_row(f"  score_file alone, in process ({variant})", f"{alone:.2f}", f"{n / alone:,.0f}", "")
        distinct(lines, tmp / "distinct.jsonl")
        t = command([*rewardmap, "score", tmp / "distinct.jsonl", "--stations-root", root, "-o", tmp / "scores.jsonl"],
                    args.repeats)
        table.add_row("rewardmap score --variant reference, every response distinct", f"{t:.2f}", f"{n / t:,.0f}",
                      f"{released / t:.1f}x")
        for benchmark, path in by_benchmark.items():
            count = sum(1 for _ in open(path, encoding="utf-8"))
            t = command([*rewardmap, "metrics", path, "--benchmark", benchmark, "--stations-root", root,
                         "-o", tmp / "metrics.jsonl"], args.repeats)
            table.add_row(f"rewardmap metrics --benchmark {benchmark} ({count:,} lines)", f"{t:.2f}",
                          f"{count / t:,.0f}", f"goal >= 50,000/s: {'PASS' if count / t >= 50_000 else 'FAIL'}")
        Console(width=160).print(table)


if __name__ == "__main__":
    main()
