"""train/timing.py times the trainers' methods by name: each must exist in the installed TRL,
or its time would fall silently into `other` after a release renames it."""

from __future__ import annotations

import pytest

from rewardmap.train.timing import LOGPROBS, PHASES, TIMED


@pytest.mark.parametrize("method", [*TIMED, LOGPROBS])
def test_every_timed_method_exists_in_the_installed_grpo_trainer(method):
    from trl import GRPOTrainer

    assert callable(getattr(GRPOTrainer, method, None)), f"trl.GRPOTrainer.{method} is gone: rename it in TIMED"


def test_the_sft_trainer_has_the_trainer_methods_timed_for_sft():
    from trl import SFTTrainer

    for method in ("log", "_save_checkpoint", "get_batch_samples", "training_step"):
        assert callable(getattr(SFTTrainer, method, None)), method


def test_every_timed_phase_is_reported():
    assert set(TIMED.values()) | {"logprobs"} <= set(PHASES)
