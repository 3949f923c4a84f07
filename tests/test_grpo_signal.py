"""Checks that GRPO's learning signal is what it should be, before trusting any RL result:
a constant reward gives every rollout of a group the same advantage (0), so the weights must
not move at all (only weight decay may shrink them, by exactly its factor); a real reward on a
handful of training questions must raise those questions' rollout reward (GRPO can overfit)."""

from __future__ import annotations

import json

import pytest
import torch
from commands import rewardmap
from safetensors.torch import load_file

# a fresh tiny model on two small cities, GRPO alone, a few steps at a large learning rate
FRESH = ["model.name_or_path=tiny", "sft.enabled=false", "eval.enabled=false", "data.synthetic.cities=2",
         "data.synthetic.per_city=12", "data.heldout_cities=0", "grpo.max_steps=3", "grpo.lr=0.01",
         "grpo.max_completion_length=12", "grpo.beta=0", "grpo.entropy_coef=0", "grpo.report_to=none",
         "grpo.lr_scheduler=constant", "grpo.warmup_ratio=0",
         "grpo.save_steps=0", "grpo.logging_steps=1",
         "grpo.per_type={TorF1: 4, TorF2: 4, Counting2: 4, Counting3: 4, Counting1: 4, planning: 4}"]
CONSTANT = ["reward.correct_reward=0", "reward.format_reward=0", "reward.alpha=0"]  # every answer earns 0


def _train(out, *settings) -> tuple[dict, dict]:
    rewardmap("train", "--out", str(out), *[a for s in (*FRESH, *settings) for a in ("--set", s)])
    return load_file(out / "init" / "model.safetensors"), load_file(out / "final" / "model.safetensors")


def test_a_constant_reward_leaves_the_weights_unchanged(tmp_path):
    init, final = _train(tmp_path / "constant", *CONSTANT, "grpo.weight_decay=0")
    assert init.keys() == final.keys() and all(torch.equal(init[k], final[k]) for k in init)
    rows = [json.loads(line) for line in (tmp_path / "constant" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward" in r] == [1, 2, 3] and all(r["reward"] == 0 for r in rows
                                                                             if "reward" in r)


def test_with_a_constant_reward_only_weight_decay_moves_the_weights(tmp_path):
    """AdamW's decoupled decay multiplies a decayed weight by (1 - lr * wd) a step (the Trainer
    exempts biases and most norm weights, which stay as they were); the policy gradient adds nothing."""
    init, final = _train(tmp_path / "decay", *CONSTANT, "grpo.weight_decay=0.5")
    factor = (1 - 0.01 * 0.5) ** 3
    decayed = {k for k in init if not torch.equal(init[k], final[k])}
    assert any("embed_tokens" in k for k in decayed) and len(decayed) < len(init)
    for k in decayed:
        assert torch.allclose(final[k], init[k] * factor, rtol=1e-6, atol=1e-9), k


def test_grpo_raises_the_rollout_reward_of_a_few_training_questions(tmp_path):
    """From the shipped tiny-base, 8 questions of two maps it never saw, each asked again and again:
    GRPO must learn them (their rollouts' accuracy and reward rise), or its gradient is broken."""
    out = tmp_path / "overfit"
    settings = ["data.synthetic.cities=2", "data.synthetic.per_city=12", "data.synthetic.seed=7",
                "data.heldout_cities=0", "data.types=[Counting3, Counting2, TorF1, TorF2]", "eval.enabled=false",
                "grpo.per_type={Counting3: 2, Counting2: 2, TorF1: 2, TorF2: 2}", "grpo.epochs=12",
                "curriculum.preset=shuffled", "grpo.lr=1e-3", "grpo.logging_steps=1", "grpo.save_steps=0",
                "grpo.report_to=none"]
    rewardmap("train", "--out", str(out), *[a for s in settings for a in ("--set", s)])
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "by_type" in r]
    assert len(steps) == 24

    def accuracy(chunk):
        return sum(v["accuracy"] * v["count"] for r in chunk for v in r["by_type"].values()) / sum(
            v["count"] for r in chunk for v in r["by_type"].values())

    first, last = accuracy(steps[:4]), accuracy(steps[-4:])
    assert last >= first + 0.15 and last >= 0.85, (first, last)
    assert sum(r["reward"] for r in steps[-4:]) > sum(r["reward"] for r in steps[:4])


def _distance(a: dict, b: dict) -> float:
    return sum(float(((a[k].double() - b[k].double()) ** 2).sum()) for k in a) ** 0.5


def test_the_difficulty_weight_divides_out_of_group_scaled_advantages(tmp_path):
    """W multiplies every rollout of one question alike, so advantages scaled by each group's own
    spread (scale_rewards: group, GRPO's and the released trainer's) are the same with W as
    without: the difficulty-aware and the plain reward train the same weights, to rounding.
    Unscaled advantages keep W, and the two rewards train differently."""
    from rewardmap.model.packaged import packaged_folder

    start = load_file(packaged_folder("tiny-base") / "model.safetensors")
    settings = ["data.synthetic.cities=4", "data.synthetic.per_city=8", "data.synthetic.seed=11",
                "data.heldout_cities=0", "data.types=[Counting3, Counting2, TorF1, TorF2]", "eval.enabled=false",
                "grpo.per_type={Counting3: 4, Counting2: 4, TorF1: 4, TorF2: 4}", "curriculum.preset=shuffled",
                "grpo.lr=1e-3", "grpo.max_steps=3", "grpo.save_steps=0", "grpo.report_to=none"]
    final = {}
    for mode in ("difficulty_aware", "baseline"):
        for scale in ("group", "none"):
            out = tmp_path / f"{mode}-{scale}"
            rewardmap("train", "--out", str(out), *[a for s in (*settings, f"reward.mode={mode}",
                                                               f"grpo.scale_rewards={scale}") for a in ("--set", s)])
            final[mode, scale] = load_file(out / "final" / "model.safetensors")
    moved = _distance(final["difficulty_aware", "group"], start)
    assert moved > 0 and _distance(final["difficulty_aware", "group"], final["baseline", "group"]) < 1e-3 * moved
    assert _distance(final["difficulty_aware", "none"], final["baseline", "none"]) > 0.1 * _distance(
        final["difficulty_aware", "none"], start)
