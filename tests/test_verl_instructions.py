"""The documentation's verl overrides (docs/data.md) are the ones `make check-verl` runs through verl itself."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _check_module():
    spec = importlib.util.spec_from_file_location("verl_reward", ROOT / "integrations" / "verl_reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # verl itself is imported only inside its functions
    return module


def test_the_docs_give_exactly_the_overrides_the_verl_check_runs():
    overrides = _check_module().OVERRIDES
    page = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    block = "```\n" + "\n".join(overrides) + "\n```"
    assert block in page
    assert "reward.custom_reward_function.path=pkg://rewardmap.rewards.adapters" in overrides


def test_the_module_verl_loads_by_package_path_has_the_reward():
    """`pkg://rewardmap.rewards.adapters` names an importable module holding `compute_score`."""
    from rewardmap.rewards import adapters

    name = dict(o.removeprefix("+").split("=", 1) for o in _check_module().OVERRIDES)
    assert name["reward.custom_reward_function.path"] == f"pkg://{adapters.__name__}"
    assert callable(getattr(adapters, name["reward.custom_reward_function.name"]))
