"""benchmarks/table1_tiny.py on a reduced setting, so that the script cannot rot: every row of
the tiny Table 1 analogue trains on the same questions and lands in one comparison table."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from commands import ENV, ROOT

REDUCED = ["data.synthetic.cities=3", "data.synthetic.per_city=12", "data.heldout_cities=1",
           "sft.max_steps=2", "grpo.max_steps=2", "eval.max_questions=6", "eval.max_new_tokens=16",
           "grpo.max_completion_length=16", "grpo.save_steps=0", "sft.save_steps=0",
           "sft.per_type={Counting3: 4, planning: 4, TorF1: 2, TorF2: 2, Counting1: 2, Counting2: 2}",
           "grpo.per_type={Counting3: 2, planning: 2, TorF1: 2, TorF2: 2, Counting1: 2, Counting2: 2}"]


def test_table1_script_runs_every_row_and_compares_them(tmp_path):
    out = tmp_path / "table1"
    command = [sys.executable, str(ROOT / "benchmarks" / "table1_tiny.py"), "--out", str(out), "--seeds", "0",
               *[arg for item in REDUCED for arg in ("--set", item)]]
    result = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    table = json.loads((out / "table.json").read_text())
    names = [row["name"] for row in table["rows"]]
    assert names == ["warmup-only", "rl-plain-reward", "reward-no-curriculum", "curriculum-plain-reward",
                     "rewardmap", "trivial baseline"]
    assert table["baseline"] == "warmup-only"
    assert (out / "table.md").is_file() and (out / "table.png").is_file()
    # each row is the tiny recipe with only the paper's settings changed, all on one dataset
    recipes = {name: yaml.safe_load((out / f"{name}-seed0" / "recipe.yaml").read_text()) for name in names[:-1]}
    assert recipes["warmup-only"]["grpo"]["enabled"] is False
    for name, preset, mode, alpha in (("rl-plain-reward", "shuffled", "baseline", 0.0),
                                      ("reward-no-curriculum", "shuffled", "difficulty_aware", 0.5),
                                      ("curriculum-plain-reward", "rewardmap", "baseline", 0.0),
                                      ("rewardmap", "rewardmap", "difficulty_aware", 0.5)):
        recipe = recipes[name]
        assert (recipe["curriculum"]["preset"], recipe["reward"]["mode"], recipe["reward"]["alpha"]) == (
            preset, mode, alpha), name
        assert recipe["grpo"]["enabled"] is True
    assert {r["data"]["dataset"] for r in recipes.values()} == {str((out / "data").resolve())}
    # a second call keeps the finished runs and only redraws the table
    again = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and json.loads((out / "table.json").read_text()) == table
