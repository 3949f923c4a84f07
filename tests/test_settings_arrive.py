"""Every recipe setting arrives where it acts. Generated from the recipe dataclasses: each leaf
setting is changed, one at a time, to values other than the recipe's (and so other than TRL's
default wherever the recipe keeps it), on three recipes (the built-in tiny one, the 7B RewardMap
row with colocated vLLM, its vLLM-server variant); what the recipe builds from it must change:
the keyword arguments of trl.GRPOConfig and trl.SFTConfig, the reward configuration, the
curriculum, the model's and processor's loading arguments, the LoRA configurations, the sampled
evaluation and the SFT processor. A setting added to a dataclass is covered the day it is
added: it arrives there, or it is listed in ELSEWHERE with the code and test that read it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from types import SimpleNamespace

import pytest
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

from rewardmap.errors import InputError
from rewardmap.train.recipe import Recipe, grpo_config_kwargs, load_recipe, sft_config_kwargs
from rewardmap.train.run import sft_processor

BASES = ("tiny", "recipes/qwen2.5-vl-7b/rewardmap.yaml", "recipes/qwen2.5-vl-7b/rewardmap-vllm-server.yaml")
# Read by the run itself rather than by what the recipe builds; each with the code that reads it.
ELSEWHERE = {
    "name": "the run's name and folder (train.run; run_name is in GRPOConfig when set)",
    "data.": "which questions train and which are held out (train.run._records, tests/test_train.py)",
    "eval.": "the run's own evaluations and benchmarks (train.run._evaluate, eval.suite; tests/test_train*.py)",
    "output.dir": "the run folder",
    "model.name_or_path": "the model loaded (train.policy.load_policy)",
    "model.tiny": "the tiny model built (train.policy.load_policy)",
    "model.device": "use_cpu: the same as auto on a machine without a GPU (recipe._device)",
    "model.lora.enabled": "whether GRPO gets a LoRA adapter (train.run._lora)",
    "sft.lora.enabled": "whether SFT gets a LoRA adapter (train.run._lora)",
    "sft.enabled": "whether SFT runs (train.run.train)",
    "grpo.enabled": "whether GRPO runs (train.run.train)",
    "sft.types": "the SFT questions (train.run._sft)",
    "sft.max_samples": "the SFT questions (train.run._sft)",
    "sft.per_type": "the SFT questions (train.run._sft, train.data.mix_per_type)",
    "sft.merge_lora": "merging the SFT adapter (train.run._sft; tests/test_reproduce_guide.py runs sft-rl)",
    "grpo.per_type": "GRPO's questions (train.run._grpo_questions)",
    "grpo.epochs": "GRPO's questions repeated in the curriculum plan (train.run._grpo_questions; "
                   "tests/test_curriculum.py)",
    "grpo.text_after_image": "GRPO's prompts (train.run.grpo_dataset; tests/test_parity_released.py)",
    "grpo.compile_generation": "the trainer's generation config (train.run.configure_generation)",
    "grpo.map_cache_mb": "how often GRPO decodes and prepares each map, not what the model receives "
                         "(train.run._grpo, train.map_cache; tests/test_map_cache.py)",
    "sft.extra": "passed to SFTConfig verbatim (tests/test_recipes.py)",
    "grpo.extra": "passed to GRPOConfig verbatim (tests/test_recipes.py)",
}
# Settings that act only together with another one.
TOGETHER = {"curriculum.stages": {"curriculum.preset": "custom"}}
PLAIN_STRINGS = ["eager", "linear", "none", "q_proj", "v1"]  # tried on free-text settings until one is valid
PLUS = ["TorF1", "TorF2", "Counting1", "Counting2", "Counting3"]


def leaves(cls=Recipe, prefix: str = ""):
    """(dotted name, field, its type) of every leaf setting."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            yield from leaves(kind, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, kind


def candidates(value, f, kind) -> list:
    """Values other than VALUE that the setting may take, by its rules and type."""
    rules = f.metadata
    args = {kind} if typing.get_origin(kind) is list else set(typing.get_args(kind)) or {kind}
    low, high = rules.get("min"), rules.get("max")

    def inside(x):
        return (low is None or x >= low) and (high is None or x <= high)

    if "choices" in rules:
        out = list(rules["choices"])
    elif bool in args:
        out = [True, False]
    elif int in args:
        start = value if isinstance(value, int) else (low or 1)
        out = [x for x in (start + 1, start * 2 + 3, 7, 123) if inside(x)]
    elif float in args:
        start = value if isinstance(value, float) else 0.3
        out = [x for x in (start * 1.5 + 0.01, start / 2, 0.3, 0.05) if inside(x)]
    elif list in {typing.get_origin(a) or a for a in args}:
        inner = typing.get_args(next(a for a in args if typing.get_origin(a) is list))
        out = {float: [[2.0, 2.5, 3.0]], str: [["q_proj"], ["TorF1", "planning"]],
               list[str]: [[PLUS, ["planning"]], [["planning"], PLUS]]}.get(inner[0] if inner else None, [])
        if str in args:
            out += PLAIN_STRINGS
    elif str in args:
        out = PLAIN_STRINGS
    else:  # dicts: per_type, tiny, extra
        out = []
    return [x for x in out if x != value]


def built(recipe: Recipe) -> dict:
    """Everything the recipe builds that a setting may reach."""
    stub = SimpleNamespace(image_processor=Qwen2VLImageProcessorPil(min_pixels=3136, max_pixels=12_845_056))
    sampling = recipe.eval.sampling(recipe.grpo)
    return {"GRPOConfig": grpo_config_kwargs(recipe, "out", num_processes=1),
            "SFTConfig": sft_config_kwargs(recipe, "out", num_processes=1),
            "reward": dataclasses.asdict(recipe.reward.config()),
            "curriculum": repr(vars(recipe.curriculum.build())),
            "from_pretrained": recipe.model.from_pretrained_kwargs(),
            "processor": recipe.model.processor_kwargs(),
            "GRPO LoRA": recipe.model.lora.peft_kwargs(), "SFT LoRA": recipe.sft.lora.peft_kwargs(),
            "sampling": dataclasses.asdict(sampling) if sampling else None,
            "SFT processor": sft_processor(recipe, stub).image_processor.size.longest_edge}


def arrives(base: str, name: str, f, kind) -> bool | None:
    """Whether changing NAME on BASE changes what the recipe builds; None when this machine
    accepts no other value (a setting that needs a GPU library)."""
    recipe = load_recipe(base)
    value = recipe.to_dict()
    for part in name.split("."):
        value = value[part]
    companions = [f"{k}={v}" for k, v in TOGETHER.get(name, {}).items()]
    seen = [] if companions else [repr(built(recipe))]  # a companion alone may not load (custom needs stages)
    refused = []
    for candidate in candidates(value, f, kind):
        try:
            seen.append(repr(built(load_recipe(base, [f"{name}={json.dumps(candidate)}", *companions]))))
        except InputError as e:  # not a value this setting or recipe accepts here
            refused.append(str(e))
    if len(set(seen)) > 1:
        return True
    return None if refused and len(seen) <= 1 and all("not installed" in r for r in refused) else False


@pytest.mark.parametrize("name,f,kind", [pytest.param(*leaf, id=leaf[0]) for leaf in leaves()])
def test_every_setting_arrives(name, f, kind):
    if any(name == key or (key.endswith(".") and name.startswith(key)) for key in ELSEWHERE):
        pytest.skip(f"read elsewhere: {next(v for k, v in ELSEWHERE.items() if name.startswith(k))}")
    results = [arrives(base, name, f, kind) for base in BASES]
    if not any(results) and None in results:
        pytest.skip(f"{name}: no other value is accepted on this machine (a library it needs is not installed)")
    assert any(results), (
        f"{name}: changing it changes nothing the recipes build (TRL configs, reward, curriculum, model and "
        "processor arguments, LoRA, sampling, SFT processor); pass it on, or list it in ELSEWHERE with what reads it")


def test_the_built_trl_configs_carry_their_arguments():
    """What grpo_config_kwargs / sft_config_kwargs compute is what the TRL configs hold."""
    import trl

    for base in BASES:
        recipe = load_recipe(base)
        for cls, kwargs in ((trl.GRPOConfig, grpo_config_kwargs(recipe, "out", num_processes=1)),
                            (trl.SFTConfig, sft_config_kwargs(recipe, "out", num_processes=1))):
            config = cls(**copy.deepcopy(kwargs))
            for key, value in kwargs.items():
                held = getattr(config, key)
                assert held in (value, [value]) or str(getattr(held, "value", held)) == str(value), (
                    base, cls.__name__, key)
