"""Recipes: every shipped file loads, resolves, round-trips and builds real TRL configs;
overrides and mistakes behave; the Table 1 rows differ exactly where the paper says."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from commands import ENV

from rewardmap.errors import InputError
from rewardmap.questions.kinds import PLUS_TYPES, QUESTION_TYPES
from rewardmap.rewards import RewardConfig
from rewardmap.train.recipe import (
    UNSUPPORTED,
    Recipe,
    builtin_recipes,
    grpo_config_kwargs,
    load_recipe,
    sft_config_kwargs,
)

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"
ACCELERATE = RECIPES / "accelerate"
MODELS = ("qwen2.5-vl-7b", "qwen2.5-vl-3b")
ROWS = ("zero-shot", "grpo-routes", "sft-plus", "sft-rl", "rl-baseline", "rewardmap",
        "ablation-reward-only", "ablation-curriculum-only", "ablation-coarse", "ablation-fine")
RECIPE_FILES = sorted(p for p in RECIPES.rglob("*.yaml") if ACCELERATE not in p.parents)
ALL = ["tiny", *(str(p.relative_to(ROOT)) for p in RECIPE_FILES)]


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("WORLD_SIZE", raising=False)


def flat(tree, prefix=""):
    """{dotted key: leaf value} of a nested dict."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def diff(a: Recipe, b: Recipe, ignore=("name",)) -> dict:
    fa, fb = flat(a.to_dict()), flat(b.to_dict())
    return {k: fb.get(k) for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k) and k not in ignore}


def test_the_recipe_files_exist():
    assert builtin_recipes() == ["tiny", "tiny-base"]
    for model in MODELS:
        for row in ROWS:
            assert (RECIPES / model / f"{row}.yaml").is_file(), (model, row)
    assert {p.name for p in ACCELERATE.glob("*.yaml")} == {"zero2.yaml", "zero3.yaml", "fsdp.yaml", "multi_cpu.yaml"}


@pytest.mark.parametrize("name", ALL)
def test_every_recipe_loads_resolves_and_round_trips(name, tmp_path):
    recipe = load_recipe(name)
    assert isinstance(recipe.reward.config(), RewardConfig)
    assert recipe.curriculum.build().stages
    resolved = recipe.resolved()
    assert resolved.name and resolved.output.dir == f"runs/{resolved.name}"
    assert resolved.reward.format_reward is not None
    for r in (recipe, resolved):
        path = r.save(tmp_path / "recipe.yaml")
        again = load_recipe(path)
        assert again == r
        assert yaml.safe_load(path.read_text()) == r.to_dict()


@pytest.mark.parametrize("name", ALL)
def test_kwargs_build_real_trl_configs(name, tmp_path):
    import peft
    import trl

    recipe = load_recipe(name)
    grpo = trl.GRPOConfig(**grpo_config_kwargs(recipe, tmp_path))
    g = recipe.grpo
    assert grpo.shuffle_dataset is False
    assert grpo.num_generations == g.num_generations and grpo.beta == g.beta and grpo.epsilon == g.epsilon
    assert grpo.learning_rate == g.lr and grpo.entropy_coef == g.entropy_coef and grpo.loss_type == g.loss_type
    assert grpo.temperature == g.temperature and grpo.max_completion_length == g.max_completion_length
    assert grpo.use_bias_correction_kl is g.kl_bias_correction and grpo.use_vllm is g.use_vllm
    # one rollout batch of prompts_per_step prompts is one optimizer update
    assert grpo.generation_batch_size == g.prompts_per_step * g.num_generations
    assert grpo.steps_per_generation == grpo.gradient_accumulation_steps
    sft = trl.SFTConfig(**sft_config_kwargs(recipe, tmp_path))
    assert sft.learning_rate == recipe.sft.lr and sft.max_length == recipe.sft.max_length
    assert sft.per_device_train_batch_size * sft.gradient_accumulation_steps == recipe.sft.batch_size
    grouped = recipe.sft.balance_lengths
    assert (sft.train_sampling_strategy == "batch_rebalance") is grouped
    assert sft.remove_unused_columns is not grouped  # the sampler reads the `length` column
    for lora in (recipe.model.lora, recipe.sft.lora):
        peft.LoraConfig(**lora.peft_kwargs())


@pytest.mark.parametrize("name", [n for n in ALL if n != "tiny"])
@pytest.mark.parametrize("processes", [4, 8])
def test_a_step_splits_over_the_gpus(name, processes):
    recipe = load_recipe(name)
    for kwargs, batch in ((grpo_config_kwargs(recipe, "out", num_processes=processes),
                           recipe.grpo.prompts_per_step * recipe.grpo.num_generations),
                          (sft_config_kwargs(recipe, "out", num_processes=processes), recipe.sft.batch_size)):
        assert kwargs["per_device_train_batch_size"] * processes * kwargs["gradient_accumulation_steps"] == batch


def test_tiny_is_an_offline_cpu_demo():
    from rewardmap.model.tiny import TinyModelConfig

    tiny = load_recipe("tiny")
    assert tiny.model.name_or_path == "tiny-base" and tiny.data.dataset is None and tiny.data.heldout_cities > 0
    TinyModelConfig(**tiny.model.tiny)  # its keys are the tiny model's (`--set model.name_or_path=tiny`)
    base = load_recipe("tiny-base")
    assert tiny.model.tiny == base.model.tiny  # a new tiny model has the shipped one's shape
    assert not tiny.sft.enabled and tiny.grpo.enabled and tiny.eval.enabled  # tiny-base is the warm-up
    assert base.sft.enabled and not base.grpo.enabled and base.model.name_or_path == "tiny"
    assert tiny.curriculum.preset == "rewardmap" and tiny.grpo.num_generations == 8
    assert tiny.grpo.lr <= 2e-4 and tiny.grpo.beta in (0.0, 1e-3)
    assert tiny.reward.variant == "robust" and tiny.reward.config().format_reward > 0
    assert not tiny.grpo.use_vllm and tiny.grpo.max_completion_length <= 128
    # the whole method: every type, every stage of the curriculum trained, route planning last
    stages = tiny.curriculum.build().stages
    assert set(tiny.data.types) == set(QUESTION_TYPES) == set(tiny.sft.types) and stages[-1] == ("planning",)
    assert all(set(stage) & set(tiny.data.types) for stage in stages)
    assert tiny.reward.mode == "difficulty_aware" and tiny.reward.alpha > 0  # the detail reward scores routes
    # effects of a few points are measurable: at least 300 held-out questions of each Plus type,
    # Counting3 (one per map) included, 100 route questions, and 8 samples of each Plus answer
    assert tiny.eval.per_type >= 300 and tiny.data.heldout_cities >= tiny.eval.per_type
    assert tiny.eval.route_questions >= 100 and tiny.eval.samples == 8 and tiny.eval.train_per_type > 0


def test_paper_recipes_follow_section_8():
    base = load_recipe("recipes/qwen2.5-vl-7b/rewardmap.yaml")
    g = base.grpo
    assert (g.num_generations, g.prompts_per_step, g.temperature, g.lr, g.lr_scheduler) == (8, 16, 1.0, 1e-6, "constant")
    assert (g.weight_decay, g.beta, g.epsilon, g.entropy_coef, g.max_grad_norm) == (0.01, 1e-3, 0.2, 1e-3, 1.0)
    assert (g.num_iterations, g.epochs, g.max_completion_length, g.max_prompt_length) == (1, 1.0, 2048, 20000)
    assert (g.scale_rewards, g.kl_bias_correction, g.bf16, g.use_vllm) == ("group", False, True, True)
    assert g.text_after_image == "\n"  # the released prompt: the map, a newline, the question
    # the script's data bounds resize a map before the processor, which keeps its own (loaded without pixel settings)
    assert (base.data.min_pixels, base.data.max_pixels) == (3136, 128450560)
    assert (base.model.min_pixels, base.model.max_pixels, base.model.lora.enabled) == (None, None, False)
    assert base.reward.config() == RewardConfig(variant="reference", mode="difficulty_aware")
    s = base.sft
    assert (s.lora.enabled, s.lora.r, s.lr, s.lr_scheduler, s.warmup_ratio, s.epochs) == (True, 8, 1e-4, "cosine", 0.1, 1.0)
    assert set(s.types) == set(PLUS_TYPES) and set(base.data.types) == set(QUESTION_TYPES)
    script = load_recipe("recipes/qwen2.5-vl-7b/rewardmap-released-script.yaml")
    assert diff(base, script) == {"grpo.num_generations": 4, "grpo.beta": 0.01, "grpo.vllm_tensor_parallel_size": 4}
    server = load_recipe("recipes/qwen2.5-vl-7b/rewardmap-vllm-server.yaml")
    assert diff(base, server) == {"grpo.vllm_mode": "server", "grpo.vllm_server_host": "127.0.0.1"}
    kwargs = grpo_config_kwargs(server, "out", num_processes=4)
    assert kwargs["vllm_mode"] == "server" and kwargs["gradient_accumulation_steps"] == 32
    assert grpo_config_kwargs(base, "out", num_processes=8)["vllm_max_model_length"] == 22048
    # the released actor's loss (benchmarks/parity_released.py): each sequence's token mean, then over sequences,
    # one sequence per micro-batch, the plain PPO ratio under vLLM as in server mode
    for recipe in (base, server):
        kwargs = grpo_config_kwargs(recipe, "out", num_processes=8)
        assert (kwargs["loss_type"], kwargs["per_device_train_batch_size"]) == ("grpo", 1)
        assert kwargs["vllm_importance_sampling_correction"] is False
    assert "vllm_importance_sampling_correction" not in grpo_config_kwargs(load_recipe("tiny"), "out")


def test_sft_lora_targets_the_language_model_only():
    import re

    pattern = load_recipe("recipes/qwen2.5-vl-7b/sft-plus.yaml").sft.lora.target_modules
    assert re.fullmatch(pattern, "model.language_model.layers.3.mlp.down_proj")
    assert re.fullmatch(pattern, "model.language_model.layers.0.self_attn.q_proj")
    for name in ("model.visual.blocks.0.mlp.down_proj", "model.visual.blocks.0.attn.qkv",
                 "model.visual.merger.mlp.0", "lm_head"):
        assert not re.fullmatch(pattern, name)


# What the paper changes per row, relative to the RewardMap row (paper, Table 1).
PLAIN = {"reward.mode": "baseline", "reward.alpha": 0.0}
ROW_DIFFS = {
    "rewardmap": {},
    "zero-shot": {"grpo.enabled": False},
    "grpo-routes": {"data.types": ["planning"], "curriculum.preset": "shuffled", **PLAIN},
    "rl-baseline": {"curriculum.preset": "shuffled", **PLAIN},
    "sft-plus": {"sft.enabled": True, "grpo.enabled": False},
    "sft-rl": {"sft.enabled": True, "curriculum.preset": "shuffled"},
    "ablation-reward-only": {"curriculum.preset": "shuffled"},
    "ablation-curriculum-only": PLAIN,
    "ablation-coarse": {"curriculum.preset": "coarse"},
    "ablation-fine": {"curriculum.preset": "fine"},
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("row", ROWS)
def test_table_rows_differ_exactly_where_the_paper_says(model, row):
    full = load_recipe(f"recipes/{model}/rewardmap.yaml")
    assert diff(full, load_recipe(f"recipes/{model}/{row}.yaml")) == ROW_DIFFS[row]


@pytest.mark.parametrize("row", ROWS)
def test_3b_rows_are_the_7b_rows_with_the_3b_model(row):
    big, small = (load_recipe(f"recipes/{m}/{row}.yaml") for m in MODELS)
    assert diff(big, small) == {"model.name_or_path": "Qwen/Qwen2.5-VL-3B-Instruct"}
    assert small.name == f"qwen2.5-vl-3b-{row}"


def test_run_names_are_unique():
    names = [load_recipe(n).resolved().name for n in ALL]
    assert len(names) == len(set(names))


def test_unsupported_settings_are_named_in_the_recipes():
    base = (RECIPES / "qwen2.5-vl-7b" / "base.yaml").read_text()
    readme = (RECIPES / "README.md").read_text()
    for key in UNSUPPORTED:
        assert key in base and key in readme, key


# ---------------------------------------------------------------- inheritance

def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_inheritance_merges_sections_and_replaces_lists(tmp_path):
    write(tmp_path / "shared" / "base.yaml", "grpo: {lr: 3.0e-6, beta: 0.01}\ndata: {types: [TorF1, TorF2]}\n"
          "model: {tiny: {hidden_size: 32, seed: 1}}\n")
    row = write(tmp_path / "rows" / "row.yaml", "inherit: ../shared/base.yaml\ngrpo: {beta: 0.02}\n"
                "data: {types: [TorF1]}\nmodel: {tiny: {seed: 2}}\n")
    recipe = load_recipe(row)
    assert (recipe.grpo.lr, recipe.grpo.beta) == (3e-6, 0.02)
    assert recipe.data.types == ["TorF1"]
    assert recipe.model.tiny == {"hidden_size": 32, "seed": 2}
    assert recipe.grpo.num_generations == Recipe().grpo.num_generations  # untouched: the default


def test_inheritance_from_builtin_and_lists_of_parents(tmp_path):
    write(tmp_path / "a.yaml", "grpo: {lr: 1.0e-5}\n")
    write(tmp_path / "b.yaml", "grpo: {lr: 2.0e-5, beta: 0.5}\n")
    recipe = load_recipe(write(tmp_path / "c.yaml", "inherit: [tiny, a.yaml, b.yaml]\nname: c\n"))
    tiny = load_recipe("tiny")
    assert diff(tiny, recipe) == {"grpo.lr": 2e-5, "grpo.beta": 0.5}


def test_a_nested_section_keeps_its_parents_defaults(tmp_path):
    recipe = load_recipe(write(tmp_path / "r.yaml", "sft: {lora: {r: 4}}\nmodel: {lora: {r: 4}}\n"))
    assert (recipe.sft.lora.r, recipe.sft.lora.enabled, recipe.sft.lora.dropout) == (4, True, 0.0)
    assert (recipe.model.lora.r, recipe.model.lora.enabled, recipe.model.lora.dropout) == (4, False, 0.05)


def test_inheritance_errors_name_the_file(tmp_path):
    write(tmp_path / "loop_a.yaml", "inherit: loop_b.yaml\n")
    write(tmp_path / "loop_b.yaml", "inherit: loop_a.yaml\n")
    with pytest.raises(InputError, match="cycle"):
        load_recipe(tmp_path / "loop_a.yaml")
    with pytest.raises(InputError, match=r"nothere\.yaml: no such recipe file \(relative to .*child\.yaml\)"):
        load_recipe(write(tmp_path / "child.yaml", "inherit: nothere.yaml\n"))
    write(tmp_path / "parent.yaml", "grpo: {num_generations: lots}\n")
    with pytest.raises(InputError, match=r"parent\.yaml: field 'grpo\.num_generations': expected an integer"):
        load_recipe(write(tmp_path / "kid.yaml", "inherit: parent.yaml\n"))
    with pytest.raises(InputError, match=r"field 'inherit'"):
        load_recipe(write(tmp_path / "bad.yaml", "inherit: {a: 1}\n"))


# ---------------------------------------------------------------- overrides and errors

def test_overrides():
    recipe = load_recipe("tiny", ["grpo.lr=1e-6", "curriculum.preset=fine", "model.tiny.hidden_size=32",
                                  "data.types=[TorF1, planning]", "grpo.extra={num_completions_to_print: 2}",
                                  "grpo.epsilon_high=null", "reward.map_weights=[1, 1.1, 1.2]", "grpo.bf16=true"])
    assert recipe.grpo.lr == 1e-6 and isinstance(recipe.grpo.lr, float)
    assert recipe.curriculum.build().stages[0] == ("TorF1",)
    assert recipe.model.tiny["hidden_size"] == 32 and recipe.model.tiny["image_size"] == 112
    assert recipe.data.types == ["TorF1", "planning"]
    assert recipe.reward.map_weights == [1.0, 1.1, 1.2] and recipe.grpo.bf16 is True
    assert grpo_config_kwargs(recipe, "out")["num_completions_to_print"] == 2
    assert load_recipe("tiny", ["grpo.lr=3e-4", "grpo.lr=5e-5"]).grpo.lr == 5e-5  # last wins
    assert recipe.resolved().to_yaml().startswith("# rewardmap recipe, from tiny (built-in) --set grpo.lr=1e-6 ")


@pytest.mark.parametrize("override, message", [
    ("grpo.lrr=1e-6", r"tiny \(built-in\) \(--set grpo\.lrr\): field 'grpo\.lrr': unknown setting; did you mean 'grpo\.lr'\?"),
    ("grpo.learning_rate=1e-6", r"field 'grpo\.learning_rate': unknown setting; did you mean 'grpo\.lr'\?"),
    ("gpro.lr=1e-6", r"field 'gpro': unknown setting; did you mean 'grpo'\?"),
    ("grpo.num_generations=abc", r"field 'grpo\.num_generations': expected an integer, got 'abc'"),
    ("grpo.num_generations=2.5", r"field 'grpo\.num_generations': expected an integer, got 2\.5"),
    ("grpo.num_generations=1", r"field 'grpo\.num_generations': must be at least 2, got 1"),
    ("grpo.use_vllm=maybe", r"field 'grpo\.use_vllm': expected true or false, got 'maybe'"),
    ("grpo.lr=nan", r"field 'grpo\.lr': expected a number"),
    ("curriculum.preset=finer", r"field 'curriculum\.preset': 'finer' is not one of .* \(did you mean 'fine'\?\)"),
    ("data.types=TorF1", r"field 'data\.types': expected a list of texts, got 'TorF1'"),
    ("data.types=[TorF3]", r"field 'data\.types': unknown question type 'TorF3' \(did you mean 'TorF2'\?\)"),
    ("grpo=3", r"field 'grpo': expected a mapping, got 3"),
    ("grpo.lr", r"expected key=value with a dotted key"),
    ("inherit=x.yaml", r"inherit is read from files only"),
    ("curriculum.stages=[[TorF1]]", r"field 'curriculum\.stages': give stages exactly when curriculum\.preset is custom"),
    ("reward.map_weights=[1, 2]", r"field 'reward\.map_weights': map_weights must be three"),
    ("grpo.per_device_batch_size=5", r"field 'grpo\.per_device_batch_size': 5 does not divide the 32 completions"),
    ("grpo.epochs=0", r"field 'grpo\.epochs': must be above 0"),
    ("data.heldout_cities=1000", r"field 'data\.heldout_cities': holding out 1000 of 1000 synthetic cities"),
    ("sft.per_type={Countng3: 4}", r"field 'sft\.per_type\.Countng3': unknown question type \(did you mean 'Counting3'\?\)"),
    ("grpo.per_type={planning: 0}", r"field 'grpo\.per_type\.planning': must be at least 1, got 0"),
    ("grpo.per_type={planning: many}", r"field 'grpo\.per_type\.planning': expected an integer, got 'many'"),
    ("sft.per_device_batch_size=16", r"field 'sft\.balance_lengths': needs per_device_batch_size below batch_size "
                                     r"\(16 >= 16\)"),
])
def test_bad_overrides_give_one_line_errors(override, message):
    with pytest.raises(InputError, match=message) as info:
        load_recipe("tiny", [override])
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("tiny (built-in)")


def test_custom_stages():
    recipe = load_recipe("tiny", ["curriculum.preset=custom",
                                  "curriculum.stages=[[TorF2, TorF1], [Counting1, Counting2, Counting3], [planning]]"])
    assert recipe.curriculum.build().stages == (("TorF2", "TorF1"), ("Counting1", "Counting2", "Counting3"),
                                                ("planning",))
    with pytest.raises(InputError, match=r"field 'curriculum\.stages': no stage trains Counting1"):
        load_recipe("tiny", ["curriculum.preset=custom",
                             "curriculum.stages=[[TorF1, TorF2], [Counting2, Counting3], [planning]]"])
    with pytest.raises(InputError, match=r"field 'curriculum\.stages': .*TorF1"):
        load_recipe("tiny", ["curriculum.preset=custom", "curriculum.stages=[[TorF1], [TorF1]]"])


@pytest.mark.parametrize("text, message", [
    ("grpo:\n  lrr: 1.0e-6\n", r"r\.yaml: field 'grpo\.lrr': unknown setting; did you mean 'grpo\.lr'\?"),
    ("sft:\n  lora:\n    rank: 4\n", r"r\.yaml: field 'sft\.lora\.rank': unknown setting; did you mean 'sft\.lora\.r'\?"),
    ("grpo: {lr: 1.0e-6}\ngrpo: {beta: 0}\n", r"r\.yaml:2: invalid YAML: key 'grpo' given twice"),
    ("grpo: [\n", r"r\.yaml:2: invalid YAML"),
    ("- a\n- b\n", r"r\.yaml: a recipe is a mapping of settings, got list"),
    ("reward: {mode: difficulty}\n", r"field 'reward\.mode': 'difficulty' is not one of difficulty_aware, baseline"),
    ("model: {lora: {dropout: 2}}\n", r"field 'model\.lora\.dropout': must be at most 1\.0, got 2\.0"),
])
def test_bad_files_give_one_line_errors(tmp_path, text, message):
    path = write(tmp_path / "r.yaml", text)
    with pytest.raises(InputError, match=message) as info:
        load_recipe(path)
    assert "\n" not in str(info.value)


def test_missing_recipe():
    with pytest.raises(InputError, match=r"nope\.yaml: no such recipe file; built-in recipes: tiny"):
        load_recipe("nope.yaml")


def test_kwargs_refuse_what_the_recipe_cannot_split_or_already_sets():
    recipe = load_recipe("tiny")
    with pytest.raises(InputError, match=r"field 'grpo\.per_device_batch_size': 32 samples per step do not split "
                                         r"over 3 processes"):
        grpo_config_kwargs(recipe, "out", num_processes=3)
    bad = load_recipe("tiny", ["grpo.extra={beta: 0.5}"])
    with pytest.raises(InputError, match=r"field 'grpo\.extra\.beta': the recipe already sets beta"):
        grpo_config_kwargs(bad, "out")
    typo = load_recipe("tiny", ["sft.extra={packin: true}"])
    with pytest.raises(InputError, match=r"field 'sft\.extra\.packin': SFTConfig has no argument 'packin' "
                                         r"\(did you mean 'packing'\?\)"):
        sft_config_kwargs(typo, "out")


def test_device_choice(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert grpo_config_kwargs(load_recipe("tiny"), "out")["use_cpu"] is True
    paper = load_recipe("recipes/qwen2.5-vl-7b/rewardmap.yaml", ["model.device=cpu"])
    assert grpo_config_kwargs(paper, "out")["use_cpu"] is True
    with pytest.raises(InputError, match=r"rewardmap\.yaml: field 'model\.device': cuda, but torch sees no GPU"):
        grpo_config_kwargs(load_recipe("recipes/qwen2.5-vl-7b/rewardmap.yaml", ["model.device=cuda"]), "out")


def test_world_size_comes_from_the_environment(monkeypatch):
    recipe = load_recipe("tiny", ["grpo.per_device_batch_size=8"])
    assert grpo_config_kwargs(recipe, "out")["gradient_accumulation_steps"] == 4
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert grpo_config_kwargs(recipe, "out")["gradient_accumulation_steps"] == 2


def test_every_setting_has_a_default_and_help():
    def walk(cls):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name}"
            assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            value = getattr(cls(), f.name)
            if dataclasses.is_dataclass(value):
                walk(type(value))
    walk(Recipe)
    Recipe().reward.config()


# ---------------------------------------------------------------- accelerate

@pytest.mark.parametrize("name, kind, processes", [
    ("zero2", "DEEPSPEED", 8), ("zero3", "DEEPSPEED", 8), ("fsdp", "FSDP", 8), ("multi_cpu", "MULTI_GPU", 2),
])
def test_accelerate_configs(name, kind, processes):
    from accelerate.commands.config.config_args import load_config_from_file

    path = ACCELERATE / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text())
    config = load_config_from_file(str(path))  # accelerate's own reader: unknown keys fail
    assert raw["distributed_type"] == kind and config.num_processes == raw["num_processes"] == processes
    assert config.num_machines == 1
    if name == "multi_cpu":
        assert raw["use_cpu"] is True and raw["mixed_precision"] == "no"
        return
    assert raw["mixed_precision"] == "bf16" and raw["use_cpu"] is False
    if kind == "DEEPSPEED":
        assert raw["deepspeed_config"]["zero_stage"] == int(name[-1])
        assert not raw.get("fsdp_config")
    else:
        fsdp = raw["fsdp_config"]
        assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
        assert set(fsdp["fsdp_transformer_layer_cls_to_wrap"].split(",")) == {"Qwen2_5_VLDecoderLayer",
                                                                               "Qwen2_5_VLVisionBlock"}
        assert not raw.get("deepspeed_config")


def test_fsdp_wraps_classes_that_exist():
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as qwen

    fsdp = yaml.safe_load((ACCELERATE / "fsdp.yaml").read_text())["fsdp_config"]
    for cls in fsdp["fsdp_transformer_layer_cls_to_wrap"].split(","):
        assert hasattr(qwen, cls)


def test_a_bad_recipe_is_refused_before_the_training_libraries_load():
    """A typo in --set is answered at once, not after seconds of importing transformers."""
    script = ("import sys\nfrom typer.testing import CliRunner\nfrom rewardmap.cli import app\n"
              "result = CliRunner().invoke(app, ['train', '--set', 'grpo.lrr=1'])\n"
              "print(result.exit_code, 'transformers' in sys.modules, 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=ENV)
    assert result.stdout.split() == ["2", "False", "False"], result.stdout + result.stderr


def test_speed_levers_reach_trl(tmp_path, monkeypatch):
    import importlib.util

    import trl

    from rewardmap.curriculum import trl_chunking

    recipe = load_recipe("tiny", ["grpo.steps_per_rollout_batch=2", "grpo.cache_implementation=static",
                                  "grpo.compile_generation=true"])
    grpo, g = trl.GRPOConfig(**grpo_config_kwargs(recipe, tmp_path)), recipe.grpo
    assert grpo.generation_batch_size == 2 * g.prompts_per_step * g.num_generations  # two steps' rollouts at once
    assert grpo.steps_per_generation == 2 * grpo.gradient_accumulation_steps
    assert trl_chunking(grpo) == (2 * g.prompts_per_step, 2)  # the curriculum plans two steps per rollout batch
    assert grpo.cache_implementation == "static" and grpo.use_liger_kernel is False
    with pytest.raises(InputError, match="field 'grpo.compile_generation': needs grpo.cache_implementation static"):
        load_recipe("tiny", ["grpo.compile_generation=true"])
    with pytest.raises(InputError, match="field 'grpo.cache_implementation': 'dynamic' is not one of"):
        load_recipe("tiny", ["grpo.cache_implementation=dynamic"])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "liger_kernel" else real(name, *a))
    with pytest.raises(InputError, match=r"field 'grpo.use_liger_kernel': liger-kernel is not installed \(pip install "):
        load_recipe("tiny", ["grpo.use_liger_kernel=true"])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "liger_kernel" else real(name, *a))
    liger = load_recipe("tiny", ["grpo.use_liger_kernel=true"])
    assert trl.GRPOConfig(**grpo_config_kwargs(liger, tmp_path)).use_liger_kernel is True
    # the micro-batch and activation checkpointing
    for micro, checkpointing in ((2, True), (4, False)):
        other = load_recipe("tiny", [f"grpo.per_device_batch_size={micro}", f"grpo.gradient_checkpointing={checkpointing}"])
        config = trl.GRPOConfig(**grpo_config_kwargs(other, tmp_path))
        assert config.per_device_train_batch_size == micro and config.activation_checkpointing is checkpointing
        assert micro * config.gradient_accumulation_steps == other.grpo.prompts_per_step * other.grpo.num_generations


def test_max_pixels_reaches_the_processor(tmp_path):
    """`model.max_pixels` bounds the image the processor makes of a map, so its vision tokens."""
    from PIL import Image

    from rewardmap.model import tiny
    from rewardmap.train.policy import load_pretrained

    model, processor = tiny.build_tiny_model(["a map question", "an answer"], tiny.TinyModelConfig(image_size=112))
    tiny.save_tiny(model, processor, tmp_path / "m")
    image = Image.new("RGB", (448, 448), "white")
    tokens = {}
    for pixels in (None, 56 * 56):
        recipe = load_recipe("tiny", [] if pixels is None else [f"model.max_pixels={pixels}"])
        _, loaded = load_pretrained(tmp_path / "m", recipe)
        tokens[pixels] = int(loaded.image_processor(images=[image])["image_grid_thw"].prod())
    assert tokens[56 * 56] < tokens[None]


def test_a_recipe_that_builds_a_tiny_model_starts_from_a_checkpoint_with_one_override():
    """`model.tiny` is read only for a new tiny model: naming a folder is enough to start from it."""
    recipe = load_recipe("tiny", ["model.name_or_path=runs/tiny/final"])
    assert recipe.model.name_or_path == "runs/tiny/final" and recipe.model.tiny  # inherited, unused


def test_grpo_epochs_pass_over_each_stage_and_trl_runs_one_epoch_of_the_plan():
    from collections import Counter

    from rewardmap.train.run import _grpo_questions

    records = [{"id": f"{t}{i}", "type": t} for t in ("TorF1", "Counting3", "planning") for i in range(10)]

    def questions(epochs):
        recipe = load_recipe("tiny", [f"grpo.epochs={epochs}"])
        recipe.grpo.per_type = {}  # every question once per pass
        return _grpo_questions(records, recipe)

    once, twice, half = questions(1), questions(2), questions(0.5)
    assert Counter(r["type"] for r in once) == {"TorF1": 10, "Counting3": 10, "planning": 10}
    assert Counter(r["type"] for r in twice) == {"TorF1": 20, "Counting3": 20, "planning": 20}
    assert Counter(r["type"] for r in half) == {"TorF1": 5, "Counting3": 5, "planning": 5}
    assert len({r["id"] for r in twice}) == 60 and {r["id"].split("#")[0] for r in twice} == {r["id"] for r in records}
    recipe = load_recipe("tiny", ["grpo.epochs=3"])
    assert grpo_config_kwargs(recipe, "out")["num_train_epochs"] == 1.0


def test_sampled_evaluation_answers_need_a_temperature():
    """eval.samples draws at eval.temperature, else grpo.temperature: 0 there is refused in one line."""
    with pytest.raises(InputError, match=r"eval\.temperature.*sampled answers need a temperature above 0"):
        load_recipe("tiny", ["grpo.temperature=0"])
    assert load_recipe("tiny", ["grpo.temperature=0", "eval.samples=0"]).eval.sampling(load_recipe("tiny").grpo) is None
    recipe = load_recipe("tiny", ["grpo.temperature=0", "eval.temperature=0.7"])
    assert recipe.eval.sampling(recipe.grpo).temperature == 0.7
