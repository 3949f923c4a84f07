"""What a recipe builds, exactly: the keyword arguments of trl.GRPOConfig and trl.SFTConfig under
their TRL names, the model's and processor's loading arguments, LoRA, the sampled evaluation, the
resolved and saved recipe, and the words of each coercion error. test_settings_arrive checks that
each setting changes something; these check what, and under which name."""

from __future__ import annotations

import dataclasses

import pytest

from rewardmap.errors import InputError
from rewardmap.model.generate import Sampling
from rewardmap.train.recipe import Recipe, grpo_config_kwargs, load_recipe, runs_on_cpu, setting, sft_config_kwargs

PAPER = "recipes/qwen2.5-vl-7b/rewardmap.yaml"


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch):
    """The same arguments on every machine: model.device auto finds no GPU."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _version_names(cls) -> dict:
    """transformers 5 renamed two arguments; older 5.x releases have only the old names."""
    names = _names(cls)
    return {"warmup": "warmup_ratio" if "warmup_ratio" in names else "warmup_steps",
            "checkpointing": "activation_checkpointing" if "activation_checkpointing" in names
            else "gradient_checkpointing"}


def _shared(run_name, seed, lr, scheduler, weight_decay, per_device, accumulation, bf16, logging, save_steps,
            save_limit, warmup, checkpointing, names) -> dict:
    out = {"output_dir": "runs/x", "run_name": run_name, "seed": seed, "num_train_epochs": 1.0, "max_steps": -1,
           "learning_rate": lr, "lr_scheduler_type": scheduler, "weight_decay": weight_decay, "max_grad_norm": 1.0,
           "per_device_train_batch_size": per_device, "gradient_accumulation_steps": accumulation, "bf16": bf16,
           "use_cpu": True, "logging_steps": logging, "save_strategy": "steps", "save_total_limit": save_limit,
           "report_to": "tensorboard", "trust_remote_code": False, "save_steps": save_steps,
           names["warmup"]: warmup, names["checkpointing"]: checkpointing}
    return out


def test_tiny_maps_onto_these_trl_arguments():
    from trl import GRPOConfig, SFTConfig

    recipe = load_recipe("tiny")
    grpo = {**_shared("tiny", 0, 3e-5, "constant_with_warmup", 0.01, 32, 1, False, 5, 40, 2, 0.05, False,
                      _version_names(GRPOConfig)),
            "steps_per_generation": 1, "shuffle_dataset": False, "num_generations": 8, "temperature": 1.0,
            "top_p": 1.0, "max_completion_length": 96, "beta": 0.0, "use_bias_correction_kl": False,
            "loss_type": "dapo", "scale_rewards": "group", "epsilon": 0.2, "epsilon_high": None, "entropy_coef": 0.0,
            "num_iterations": 1, "mask_truncated_completions": False, "log_completions": False,
            "remove_unused_columns": False, "use_vllm": False, "cache_implementation": None,
            "use_liger_kernel": False}
    assert grpo_config_kwargs(recipe, "runs/x") == grpo
    sft = {**_shared("tiny", 0, 3e-3, "constant", 0.0, 4, 4, False, 10, 200, 2, 0.0, False, _version_names(SFTConfig)),
           "max_length": None, "train_sampling_strategy": "batch_rebalance", "length_column_name": "length",
           "remove_unused_columns": False}
    assert sft_config_kwargs(recipe, "runs/x") == sft
    every_step = grpo_config_kwargs(load_recipe("tiny", ["grpo.save_steps=1"]), "runs/x")
    assert (every_step["save_strategy"], every_step["save_steps"]) == ("steps", 1)
    plain = load_recipe("tiny", ["sft.balance_lengths=false", "sft.max_length=512", "sft.save_steps=0"])
    assert sft_config_kwargs(plain, "runs/x") == {
        **{k: v for k, v in sft.items() if k not in ("train_sampling_strategy", "length_column_name",
                                                     "remove_unused_columns", "save_steps")},
        "max_length": 512, "save_strategy": "no"}


@pytest.mark.parametrize("variant, vllm", [
    ("", {"vllm_mode": "colocate", "vllm_enable_sleep_mode": True, "vllm_importance_sampling_correction": False,
          "vllm_gpu_memory_utilization": 0.35, "vllm_tensor_parallel_size": 1, "vllm_max_model_length": 22048}),
    ("-vllm-server", {"vllm_mode": "server", "vllm_enable_sleep_mode": True,
                      "vllm_importance_sampling_correction": False, "vllm_server_base_url": None,
                      "vllm_server_host": "127.0.0.1", "vllm_server_port": 8000}),
])
def test_the_paper_row_maps_onto_these_trl_arguments(variant, vllm):
    from trl import GRPOConfig

    recipe = load_recipe(PAPER.replace(".yaml", f"{variant}.yaml"))
    expected = {**_shared(f"qwen2.5-vl-7b-rewardmap{variant}", 42, 1e-6, "constant", 0.01, 1, 128, True, 1, 100,
                          None, 0.0, True, _version_names(GRPOConfig)),
                "steps_per_generation": 128, "shuffle_dataset": False, "num_generations": 8, "temperature": 1.0,
                "top_p": 1.0, "max_completion_length": 2048, "beta": 0.001, "use_bias_correction_kl": False,
                "loss_type": "grpo", "scale_rewards": "group", "epsilon": 0.2, "epsilon_high": None,
                "entropy_coef": 0.001, "num_iterations": 1, "mask_truncated_completions": False,
                "log_completions": False, "remove_unused_columns": False, "use_vllm": True,
                "cache_implementation": None, "use_liger_kernel": False, **vllm}
    assert grpo_config_kwargs(recipe, "runs/x") == expected


def test_vllm_settings_that_are_left_empty_or_off_stay_trls():
    recipe = load_recipe(PAPER, ["grpo.vllm_importance_sampling=null", "grpo.max_prompt_length=null"])
    kwargs = grpo_config_kwargs(recipe, "out")
    assert "vllm_importance_sampling_correction" not in kwargs and "vllm_max_model_length" not in kwargs
    off = grpo_config_kwargs(load_recipe(PAPER, ["grpo.use_vllm=false"]), "out")
    assert not any(k.startswith("vllm") for k in off) and off["use_vllm"] is False


def test_errors_of_the_trl_mapping_name_the_recipe_and_the_setting():
    recipe = load_recipe("tiny")
    with pytest.raises(InputError) as info:
        sft_config_kwargs(recipe, "out", num_processes=3)
    assert str(info.value) == ("tiny (built-in): field 'sft.per_device_batch_size': 16 samples per step do not "
                               "split over 3 processes x 4 per process")
    with pytest.raises(InputError) as info:
        sft_config_kwargs(load_recipe("tiny", ["sft.extra={max_length: 5}"]), "out")
    assert str(info.value) == ("tiny (built-in): field 'sft.extra.max_length': the recipe already sets max_length; "
                               "change the recipe setting instead")


def test_model_processor_and_lora_arguments():
    recipe = load_recipe("tiny", ["model.revision=v1", "model.attn_implementation=eager", "model.min_pixels=100",
                                  "model.max_pixels=200", "model.trust_remote_code=true", "model.dtype=bfloat16",
                                  "model.lora.target_modules=[q_proj]", "sft.lora.r=4"])
    model = recipe.model
    assert model.from_pretrained_kwargs() == {"dtype": "bfloat16", "trust_remote_code": True, "revision": "v1",
                                              "attn_implementation": "eager"}
    assert model.processor_kwargs() == {"min_pixels": 100, "max_pixels": 200, "revision": "v1",
                                        "trust_remote_code": True}
    default = load_recipe("tiny").model  # empty settings are left to transformers
    assert default.from_pretrained_kwargs() == {"dtype": "float32", "trust_remote_code": False}
    assert default.processor_kwargs() == {"trust_remote_code": False}
    assert model.lora.peft_kwargs() == {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": ["q_proj"],
                                        "task_type": "CAUSAL_LM"}
    assert recipe.sft.lora.peft_kwargs() == {"r": 4, "lora_alpha": 16, "lora_dropout": 0.0,
                                             "target_modules": "all-linear", "task_type": "CAUSAL_LM"}


def test_sampled_evaluation_takes_grpos_top_p_and_its_own_seed():
    recipe = load_recipe("tiny", ["eval.samples=4", "eval.seed=7", "grpo.top_p=0.9", "grpo.temperature=0.8"])
    assert recipe.eval.sampling(recipe.grpo) == Sampling(k=4, temperature=0.8, top_p=0.9, seed=7)


def test_resolving_fills_the_name_the_folder_and_the_format_reward(tmp_path):
    path = tmp_path / "my-run.yaml"
    path.write_text("reward: {variant: robust}\n", encoding="utf-8")
    recipe = load_recipe(path)
    assert grpo_config_kwargs(recipe, "out")["run_name"] == sft_config_kwargs(recipe, "out")["run_name"] == "my-run"
    resolved = recipe.resolved()
    assert (resolved.name, resolved.output.dir, resolved.reward.format_reward) == ("my-run", "runs/my-run", 1.0)
    assert load_recipe(PAPER).resolved().reward.format_reward == 0.0  # reference: the released code pays none
    unnamed = load_recipe("tiny", ["name=null"])  # a built-in recipe's name, not its label's
    assert unnamed.resolved().name == grpo_config_kwargs(unnamed, "out")["run_name"] == "tiny"
    changed = load_recipe("tiny")
    changed.grpo.lr = -1.0  # a recipe changed in code is checked again, and the error names where it came from
    with pytest.raises(InputError, match=r"^tiny \(built-in\): field 'grpo\.lr': must be at least 0\.0, got -1\.0$"):
        changed.resolved()


def test_the_saved_recipe_reads_as_written():
    recipe = load_recipe("tiny", ["name=carte-été", "grpo.lr=1e-5"])
    text = recipe.to_yaml()
    lines = text.splitlines()
    assert lines[:2] == ["# rewardmap recipe, from tiny (built-in) --set name=carte-été --set grpo.lr=1e-5",
                         "# curriculum stages: TorF1+TorF2 -> Counting2+Counting3 -> Counting1 -> planning"]
    assert lines[2] == "name: carte-été"  # settings in the recipe's order, unicode as it is
    assert [line.split(":")[0] for line in lines if not line.startswith((" ", "#"))] == [
        "name", "data", "model", "curriculum", "reward", "sft", "grpo", "eval", "output"]
    assert "  types: [TorF1, TorF2, Counting1, Counting2, Counting3, planning]" in lines  # a list on one line


@pytest.mark.parametrize("override, words", [
    ("model.min_pixels=abc", "field 'model.min_pixels': expected an integer (or empty), got 'abc'"),
    ("grpo.vllm_importance_sampling=maybe", "field 'grpo.vllm_importance_sampling': expected true or false (or "
                                            "empty), got 'maybe'"),
    ("grpo.report_to=5", "field 'grpo.report_to': expected a text or a list of texts, got 5"),
    ("reward.map_weights=x", "field 'reward.map_weights': expected a list of numbers, got 'x'"),
    ("reward.map_weights=[1, x, 2]", "field 'reward.map_weights.1': expected a number, got 'x'"),
    ("curriculum.stages=5", "field 'curriculum.stages': expected a list of lists of texts (or empty), got 5"),
    ("grpo.per_type=5", "field 'grpo.per_type': expected a mapping, got 5"),
    ("model.tiny=[1]", "field 'model.tiny': expected a mapping, got [1]"),
    ("model.lora=3", "field 'model.lora': expected a mapping, got 3"),
])
def test_a_value_of_the_wrong_kind_is_named_in_words(override, words):
    key = override.split("=")[0]
    with pytest.raises(InputError) as info:
        load_recipe("tiny", [override])
    assert str(info.value) == f"tiny (built-in) (--set {key}): {words}"


def test_a_setting_declares_its_default_help_and_rules():
    plain = setting(3, "Three.", min=1, max=5)
    assert (plain.default, dict(plain.metadata)) == (3, {"help": "Three.", "min": 1, "max": 5})
    made = setting(factory=list, help="A list.", choices=("a",))
    assert made.default_factory is list and made.default is dataclasses.MISSING
    assert dict(made.metadata) == {"help": "A list.", "choices": ("a",)}
    bare = setting()
    assert bare.default is None and dict(bare.metadata) == {"help": ""}


@pytest.mark.parametrize("override, words", [
    ("grpo.lr=[1", "tiny (built-in) (--set grpo.lr): field 'grpo.lr': value '[1' is not valid YAML (expected ',' "
                   "or ']', but got '<stream end>')"),
    ("grpo.lr=\x07", "tiny (built-in) (--set grpo.lr): field 'grpo.lr': value '\\x07' is not valid YAML "
                     "(unacceptable character #x0007: special characters are not allowed in \"<unicode string>\", "
                     "position 0)"),
    ("grpo..lr=1", "tiny (built-in): override 'grpo..lr=1': expected key=value with a dotted key, e.g. grpo.lr=1e-6"),
    (".lr=1", "tiny (built-in): override '.lr=1': expected key=value with a dotted key, e.g. grpo.lr=1e-6"),
    ("inherit.x=1", "tiny (built-in): override 'inherit.x=1': inherit is read from files only"),
    ("grpo.lr=\t", "tiny (built-in) (--set grpo.lr): field 'grpo.lr': expected a number, got None"),  # empty
])
def test_a_bad_override_is_named_in_words(override, words):
    with pytest.raises(InputError) as info:
        load_recipe("tiny", [override])
    assert str(info.value) == words


def test_an_override_splits_at_its_first_equals_sign():
    assert load_recipe("tiny", ["name=run=2"]).name == "run=2"


@pytest.mark.parametrize("gpu, device, expected", [(False, "auto", (True, False)), (True, "auto", (False, True)),
                                                   (True, "cpu", (True, False)), (False, "cpu", (True, False))])
def test_the_device_decides_use_cpu_and_the_default_bf16(monkeypatch, gpu, device, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    recipe = load_recipe("tiny", [f"model.device={device}", "grpo.bf16=null", "sft.bf16=null"])
    for kwargs in (grpo_config_kwargs(recipe, "out"), sft_config_kwargs(recipe, "out")):
        assert (kwargs["use_cpu"], kwargs["bf16"]) == expected
    assert runs_on_cpu(recipe) is expected[0]


def test_older_transformers_names_get_the_warmup_ratio_and_gradient_checkpointing(monkeypatch):
    """transformers 5.0-5.x before the rename: warmup_ratio and gradient_checkpointing."""
    import trl

    for cls in ("GRPOConfig", "SFTConfig"):
        names = _names(getattr(trl, cls)) - {"warmup_steps", "activation_checkpointing"}
        old = dataclasses.make_dataclass(cls, [(n, object, None) for n in
                                               sorted(names | {"warmup_ratio", "gradient_checkpointing"})])
        monkeypatch.setattr(trl, cls, old)
    recipe = load_recipe("tiny", ["grpo.gradient_checkpointing=true"])
    grpo, sft = grpo_config_kwargs(recipe, "out"), sft_config_kwargs(recipe, "out")
    assert (grpo["warmup_ratio"], grpo["gradient_checkpointing"], sft["warmup_ratio"]) == (0.05, True, 0.0)
    assert not {"warmup_steps", "activation_checkpointing"} & (grpo.keys() | sft.keys())


KNOWN = "known: Counting1, Counting2, Counting3, TorF1, TorF2, planning"
CROSS_CHECKS = [  # (overrides of tiny, the error after "tiny (built-in): ", or None: accepted)
    (["data.types=[TorF3]"], f"field 'data.types': unknown question type 'TorF3' (did you mean 'TorF2'?); {KNOWN}"),
    (["data.types=[Xyzzy]"], f"field 'data.types': unknown question type 'Xyzzy'; {KNOWN}"),
    (["sft.types=[TorF1, TorF1]"], "field 'sft.types': a question type is listed twice"),
    (["data.types=[]"], "field 'data.types': no question types to train on"),
    (["sft.per_type={Countng3: 4}"], f"field 'sft.per_type.Countng3': unknown question type (did you mean "
                                     f"'Counting3'?); {KNOWN}"),
    (["sft.per_type={Xyzzy: 1}"], f"field 'sft.per_type.Xyzzy': unknown question type; {KNOWN}"),
    (["grpo.per_type={planning: 0}"], "field 'grpo.per_type.planning': must be at least 1, got 0 (leave a type out "
                                      "with data.types or sft.types)"),
    (["grpo.per_type={TorF1: 1}", "sft.per_type={TorF1: 1}"], None),
    (["grpo.epochs=0"], "field 'grpo.epochs': must be above 0 (turn GRPO off with grpo.enabled: false)"),
    (["grpo.enabled=false", "grpo.epochs=0"], None),
    (["grpo.temperature=0"], "field 'eval.temperature': sampled answers need a temperature above 0 (eval.samples: 0 "
                             "turns them off)"),
    (["sft.enabled=true", "sft.types=[planning]", "data.types=[TorF1]"],
     "field 'sft.types': none of them is in data.types, so SFT has nothing to train on"),
    (["sft.enabled=false", "sft.types=[planning]", "data.types=[TorF1]"], None),
    (["data.heldout_cities=1000"], "field 'data.heldout_cities': holding out 1000 of 1000 synthetic cities leaves "
                                   "none to train on"),
    (["data.heldout_cities=999"], None),
    (["data.dataset=x", "data.heldout_cities=1000"], None),  # a dataset folder's cities are counted when it is read
    (["curriculum.preset=custom"], "field 'curriculum.stages': give stages exactly when curriculum.preset is custom "
                                   "(preset is 'custom')"),
    (["curriculum.preset=custom", "curriculum.stages=[[TorF1], [TorF1]]"],
     "field 'curriculum.stages': question type 'TorF1' is in stage 1 and stage 2; a type belongs to one stage"),
    (["curriculum.preset=custom", "curriculum.stages=[[TorF1, TorF2], [Counting1, Counting2]]"],
     "field 'curriculum.stages': no stage trains Counting3, planning, which data.types keeps"),
    (["grpo.use_liger_kernel=true"], "field 'grpo.use_liger_kernel': liger-kernel is not installed (pip install "
                                     "rewardmap[liger])"),  # find_spec finds none here (the test says so)
    (["reward.map_weights=[1, 2]"], "field 'reward.map_weights': map_weights must be three finite numbers > 0, got "
                                    "(1.0, 2.0)"),
    (["grpo.per_device_batch_size=5"], "field 'grpo.per_device_batch_size': 5 does not divide the 32 completions of "
                                       "a step (prompts_per_step x num_generations)"),
    (["grpo.compile_generation=true", "grpo.cache_implementation=offloaded"],
     "field 'grpo.compile_generation': needs grpo.cache_implementation static (transformers compiles decoding only "
     "over a static cache)"),
    (["grpo.compile_generation=true", "grpo.cache_implementation=offloaded_static"], None),
    (["sft.per_device_batch_size=16"], "field 'sft.balance_lengths': needs per_device_batch_size below batch_size "
                                       "(16 >= 16): the questions of one step are split into forward passes by length"),
    (["sft.balance_lengths=false", "sft.per_device_batch_size=16"], None),
    (["sft.per_device_batch_size=5"], "field 'sft.per_device_batch_size': 5 does not divide sft.batch_size 16"),
]


@pytest.mark.parametrize("overrides, error", CROSS_CHECKS, ids=[" ".join(c[0]) for c in CROSS_CHECKS])
def test_checks_across_settings_name_the_setting_in_words(monkeypatch, overrides, error):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "liger_kernel" else real(name, *a))
    if error is None:
        load_recipe("tiny", overrides)
        return
    with pytest.raises(InputError) as info:
        load_recipe("tiny", overrides)
    assert str(info.value) == f"tiny (built-in): {error}"


@pytest.mark.parametrize("extra, error", [
    ("{xyzzy: 1}", "field 'grpo.extra.xyzzy': GRPOConfig has no argument 'xyzzy'"),
    ("{num_generation: 1}", "field 'grpo.extra.num_generation': GRPOConfig has no argument 'num_generation' (did you "
                            "mean 'num_generations'?)"),
    ("{beta: 1}", "field 'grpo.extra.beta': the recipe already sets beta; change the recipe setting instead"),
])
def test_extra_trl_arguments_are_refused_in_words(extra, error):
    with pytest.raises(InputError) as info:
        grpo_config_kwargs(load_recipe("tiny", [f"grpo.extra={extra}"]), "out")
    assert str(info.value) == f"tiny (built-in): {error}"


@pytest.mark.parametrize("content, error", [
    (b"name: caf\xe9\n", "r.yaml: not UTF-8 text (byte 9)"),  # Latin-1: once a traceback
    (b"grpo:\n  lr: [1\n", "r.yaml:3: invalid YAML: ...expected ',' or ']'"),  # libyaml's words, or PyYAML's
    (b"7\n", "r.yaml: a recipe is a mapping of settings, got int"),
    (b"data: {types: &x [*x]}\n", "r.yaml: field 'data.types.0': expected a text, got [[...]]"),  # holds itself
    (b"name: a\x07\n", "r.yaml: invalid YAML: ...unacceptable character #x0007"),  # a reader's error: no line
    (b"inherit: [a.yaml, 3]\n", "r.yaml: field 'inherit': expected a path or a list of paths, got ['a.yaml', 3]"),
    (b"inherit: nothere.yaml\n", "nothere.yaml: no such recipe file (relative to r.yaml); built-in recipes: "
                                 "tiny, tiny-base"),
    (b"inherit: r.yaml\n", "r.yaml: field 'inherit': r.yaml inherits back from this file (a cycle)"),
])
def test_a_bad_recipe_file_is_one_line_naming_it(tmp_path, monkeypatch, content, error):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.yaml").write_bytes(content)
    with pytest.raises(InputError) as info:
        load_recipe("r.yaml")
    message = str(info.value)
    if "..." not in error:
        assert message == error
        return
    start, words = error.split("...")  # the YAML library's problem, in one line, without where it found it
    assert message.startswith(start) and words in message and "\n" not in message, message
    assert "line" not in message and "column" not in message and "while" not in message, message


def test_an_empty_recipe_file_is_the_defaults(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing set\n", encoding="utf-8")
    recipe = load_recipe(tmp_path / "empty.yaml")
    assert recipe == Recipe() and recipe.source == str(tmp_path / "empty.yaml")


COERCED = [  # (override of tiny, the value the setting then holds)
    ("grpo.lr=1", 1.0), ("grpo.lr='3e-6'", 3e-6), ("grpo.num_generations='8'", 8), ("grpo.num_generations=8.0", 8),
    ("grpo.report_to=[wandb, tensorboard]", ["wandb", "tensorboard"]), ("grpo.bf16=null", None),
    ("model.lora.dropout=1.0", 1.0), ("model.lora.dropout=0", 0.0), ("eval.temperature=0.5", 0.5),
    ("data.min_pixels=1", 1), ("grpo.top_p=1", 1.0), ("grpo.loss_type=grpo", "grpo"),
]


@pytest.mark.parametrize("override, value", COERCED, ids=[c[0] for c in COERCED])
def test_a_value_is_read_as_its_settings_type(override, value):
    held = load_recipe("tiny", [override])
    for part in override.split("=")[0].split("."):
        held = getattr(held, part)
    assert held == value and type(held) is type(value)


def _field(key):
    return f"tiny (built-in) (--set {key}): field '{key}'"


@pytest.mark.parametrize("override, error", [
    ("grpo.lr=.inf", "expected a number, got inf"), ("grpo.lr='inf'", "expected a number, got inf"),
    ("grpo.lr=null", "expected a number, got None"),
    ("grpo.num_generations=true", "expected an integer, got True"),
    ("model.lora.dropout=1.5", "must be at most 1.0, got 1.5"), ("grpo.top_p=1.0001", "must be at most 1.0, got 1.0001"),
    ("grpo.lr=-1", "must be at least 0.0, got -1.0"), ("data.min_pixels=0", "must be at least 1, got 0"),
    ("grpo.loss_type=xyzzy", "'xyzzy' is not one of grpo, dr_grpo, dapo, bnpo, cispo, sapo, luspo, vespo"),
    ("grpo.loss_type=dapoo", "'dapoo' is not one of grpo, dr_grpo, dapo, bnpo, cispo, sapo, luspo, vespo (did you "
                             "mean 'dapo'?)"),
    ("zzzz=1", "unknown setting; known here: name, data, model, curriculum, reward, sft, grpo, eval, output"),
])
def test_a_value_outside_its_settings_rules_is_named(override, error):
    key = override.split("=")[0]
    with pytest.raises(InputError) as info:
        load_recipe("tiny", [override])
    assert str(info.value) == f"{_field(key)}: {error}"


@pytest.mark.parametrize("override, error", [
    ("grpo.per_type={1: 2}", "tiny (built-in) (--set grpo.per_type): field 'grpo.per_type.1': expected a text, got 1"),
    ("data.types=[TorF1, 3]", "tiny (built-in) (--set data.types): field 'data.types.1': expected a text, got 3"),
])
def test_an_item_of_the_wrong_kind_is_named_by_its_place(override, error):
    with pytest.raises(InputError) as info:
        load_recipe("tiny", [override])
    assert str(info.value) == error


def test_a_mapping_setting_merges_over_the_recipes():
    tiny = load_recipe("tiny", ["model.tiny={a: 1}"]).model.tiny
    assert tiny == {**load_recipe("tiny").model.tiny, "a": 1}


def test_a_recipe_file_is_read_as_utf8_whatever_the_locale(tmp_path, ascii_locale):
    (tmp_path / "r.yaml").write_bytes("name: carte-été\n".encode())
    assert load_recipe(tmp_path / "r.yaml").name == "carte-été"



def test_a_recipe_file_that_cannot_be_read_is_named(tmp_path, monkeypatch):
    from pathlib import Path

    (tmp_path / "r.yaml").write_text("name: r\n", encoding="utf-8")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(InputError) as info:
        load_recipe(tmp_path / "r.yaml")
    assert str(info.value) == f"{tmp_path / 'r.yaml'}: cannot read (Permission denied)"


def test_the_default_recipe_is_tiny():
    assert load_recipe() == load_recipe("tiny") and load_recipe().source == "tiny (built-in)"


def test_errors_name_a_file_as_given_and_a_parent_by_its_normal_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for rel, text in (("shared/base.yaml", "grpo: {num_generations: lots}\n"), ("rows/row.yaml", "inherit: "
                      "../shared/./base.yaml\n"), ("bad.yaml", "grpo: {lr: x}\n"), ("loop_a.yaml", "inherit: loop_b.yaml\n"),
                      ("loop_b.yaml", "inherit: loop_a.yaml\n")):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    for name, error in (("rows/row.yaml", "shared/base.yaml: field 'grpo.num_generations': expected an integer, got 'lots'"),
                        ("rows/../bad.yaml", "rows/../bad.yaml: field 'grpo.lr': expected a number, got 'x'"),
                        ("loop_a.yaml", "loop_b.yaml: field 'inherit': loop_a.yaml inherits back from this file (a cycle)")):
        with pytest.raises(InputError) as info:
            load_recipe(name)
        assert str(info.value) == error
