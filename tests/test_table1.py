"""benchmarks/table1_tiny.py on a reduced setting, so that the script cannot rot: every row of
the tiny Table 1 analogue trains on the same questions and lands in one comparison table."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from commands import ENV, ROOT

REDUCED = ["data.synthetic.cities=3", "data.synthetic.per_city=12", "data.heldout_cities=1",
           "grpo.max_steps=2", "eval.max_questions=6", "eval.max_new_tokens=16", "eval.samples=2",
           "eval.train_per_type=1", "grpo.max_completion_length=16", "grpo.save_steps=0",
           "grpo.per_type={Counting3: 2, planning: 2, TorF1: 2, TorF2: 2, Counting1: 2, Counting2: 2}"]
ROWS = ["start", "rl-plain-reward", "reward-no-curriculum", "curriculum-plain-reward", "rewardmap",
        "rewardmap-scale-batch", "rewardmap-scale-none"]


def test_table1_script_runs_every_row_and_compares_them(tmp_path):
    out = tmp_path / "table1"
    command = [sys.executable, str(ROOT / "benchmarks" / "table1_tiny.py"), "--out", str(out), "--seeds", "0",
               *[arg for item in REDUCED for arg in ("--set", item)]]
    result = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    table = json.loads((out / "table.json").read_text())
    names = [row["name"] for row in table["rows"]]
    assert names == [*ROWS, "trivial baseline"] and table["baseline"] == "start"
    assert (out / "table.md").is_file() and (out / "table.png").is_file()
    sampled = (out / "sampled.md").read_text()
    assert all(f"| {row} | 1 | " in sampled for row in ROWS) and "| start | 1 | " in sampled
    assert "+0.0 [+0.0, +0.0] |" in next(line for line in sampled.splitlines() if line.startswith("| start |"))
    # each row is the tiny recipe with only the paper's settings changed, all on one dataset
    recipes = {name: yaml.safe_load((out / f"{name}-seed0" / "recipe.yaml").read_text()) for name in ROWS}
    assert recipes["start"]["grpo"]["enabled"] is False
    for name, preset, mode, alpha, scale in (
            ("rl-plain-reward", "shuffled", "baseline", 0.0, "group"),
            ("reward-no-curriculum", "shuffled", "difficulty_aware", 0.5, "group"),
            ("curriculum-plain-reward", "rewardmap", "baseline", 0.0, "group"),
            ("rewardmap", "rewardmap", "difficulty_aware", 0.5, "group"),
            ("rewardmap-scale-batch", "rewardmap", "difficulty_aware", 0.5, "batch"),
            ("rewardmap-scale-none", "rewardmap", "difficulty_aware", 0.5, "none")):
        recipe = recipes[name]
        assert (recipe["curriculum"]["preset"], recipe["reward"]["mode"], recipe["reward"]["alpha"],
                recipe["grpo"]["scale_rewards"]) == (preset, mode, alpha, scale), name
        assert recipe["grpo"]["enabled"] is True
    assert {r["data"]["dataset"] for r in recipes.values()} == {str((out / "data").resolve())}
    # a second call keeps the finished runs and only redraws the tables
    again = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and json.loads((out / "table.json").read_text()) == table
