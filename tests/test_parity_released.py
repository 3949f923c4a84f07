"""Our GRPO step against the released RewardMap trainer's, without its checkout: the released
side's numbers (and prompt token ids) for the batch `benchmarks/parity_released.py` builds were
written once from the released repository (tests/fixtures/parity_released.json says how), and the
script compares our step, as the 7B recipes configure TRL, with them."""

from __future__ import annotations

import json
import subprocess
import sys

from commands import ENV, ROOT

ALIGNED = "+ float32 log-probs"  # the released code with TRL's advantage epsilon and float32 log-probabilities


def test_our_grpo_step_computes_the_released_objective(tmp_path):
    out = tmp_path / "parity.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parity_released.py"), "--fixture",
                          str(ROOT / "tests" / "fixtures" / "parity_released.json"), "--json", str(out)],
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1].startswith("parity: max relative difference ")
    result = json.loads(out.read_text())
    for setting in ("paper", "script"):
        rows = result["settings"][setting]
        aligned = rows[ALIGNED]
        # the policy and KL terms are the same functions of the same log-probabilities: equal to rounding
        assert aligned["policy term"] < 1e-9 and aligned["kl term"] < 1e-9, (setting, aligned)
        # entropies, the loss and the gradients carry TRL's float32 kernel: within a few times its floor
        bound = max(1e-6, 3 * result["float32 floor"])
        assert all(v < bound for k, v in aligned.items() if k != "worst parameter"), (setting, aligned)
        # the one known difference of a mapped term: TRL's advantage epsilon 1e-4 against the released 1e-6
        assert 1e-6 < rows["as released"]["advantages"] < 1e-3
        assert rows["epsilon aligned"]["advantages"] < 1e-12
    # the rollouts' prompts are the released dataset's, token for token (the map, a newline, the question)
    assert result["prompt tokens differing"] == 0
