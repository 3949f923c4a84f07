"""rewardmap's reward as verl itself loads it: run with the Python of an environment holding verl
(`make check-verl` makes one and runs this).

    python integrations/verl_reward.py DATASET_DIR

It exports DATASET_DIR as `rewardmap data export --format verl` does, builds verl's own PPO
trainer configuration with the documented overrides (OVERRIDES below, which docs/data.md
quotes word for word; a test keeps the two equal), loads the reward through verl's own
`get_custom_reward_fn`, and scores every exported row: its reference answer must be right and
earn a positive reward, a non-answer must be wrong. Prints one line per data source and exits 1
on any failure.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

# The verl overrides docs/data.md gives for rewardmap's reward (hydra syntax).
OVERRIDES = (
    "reward.custom_reward_function.path=pkg://rewardmap.rewards.adapters",
    "reward.custom_reward_function.name=compute_score",
    "+reward.custom_reward_function.reward_kwargs.variant=robust",
)


def verl_config(overrides=OVERRIDES):
    """verl's generated PPO trainer configuration with OVERRIDES applied as hydra would."""
    import verl
    from omegaconf import OmegaConf

    config = OmegaConf.load(Path(verl.__file__).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml")
    return OmegaConf.merge(config, OmegaConf.from_dotlist([o.removeprefix("+") for o in overrides]))


def main(dataset: str) -> int:
    import pyarrow.parquet as pq
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from rewardmap.datasets.export import export_dataset
    from rewardmap.datasets.records import load_records
    from rewardmap.questions.prompts import target_text

    reward = get_custom_reward_fn(verl_config())
    with tempfile.TemporaryDirectory() as tmp:
        export_dataset(dataset, "verl", Path(tmp) / "train.parquet")
        rows = pq.read_table(Path(tmp) / "train.parquet").to_pylist()
    records = load_records(dataset)
    scored, failures = Counter(), []
    for row, record in zip(rows, records, strict=True):
        args = (row["data_source"],)
        gold = reward(*args, target_text(record), row["reward_model"]["ground_truth"], row["extra_info"])
        wrong = reward(*args, "no idea", row["reward_model"]["ground_truth"], row["extra_info"])
        if not (gold["correct"] == 1.0 and gold["score"] > 0 and wrong["correct"] == 0.0):
            failures.append(f"{record['id']}: reference {gold}, non-answer {wrong}")
        scored[row["data_source"]] += 1
    for source, n in sorted(scored.items()):
        print(f"{source}: {n} rows scored through verl's get_custom_reward_fn")
    for line in failures[:10]:
        print(f"FAILED {line}")
    print(f"verl reward check: {len(rows) - len(failures)} of {len(rows)} rows as expected")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
