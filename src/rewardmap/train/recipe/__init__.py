"""Recipes: one YAML file per experiment, read into small dataclasses and mapped onto TRL.

    recipe = load_recipe("recipes/qwen2.5-vl-7b/rewardmap.yaml", ["grpo.lr=2e-6"])
    args = trl.GRPOConfig(**grpo_config_kwargs(recipe, run_dir))

Every setting is a dataclass field with a default and a help string (as in TRL), so the
YAML files, `--set` and the docs read from one place. A file may `inherit:` other files
(paths relative to it, or the name of a built-in recipe): mappings merge key by key over
the parent, lists and scalars replace. `--set a.b=value` overrides come last, each value
read as YAML. A mistake is one InputError line naming the file and the dotted setting,
with the nearest known name when there is one. `tiny`, built in, is the default recipe:
offline on a CPU in minutes. Settings of the paper that TRL cannot express are listed in
`UNSUPPORTED`, and named in the recipe files, rather than silently dropped.

The package, one module per idea: `schema` (the settings), `loading` (files, inheritance,
overrides), `coerce` (values read into the schema), `validate` (checks across settings) and
`trl_args` (the mapping onto TRL).
"""

from __future__ import annotations

from .loading import BUILTIN_DIR, builtin_recipes, load_recipe
from .schema import (CurriculumArgs, DataArgs, EvalArgs, GRPOArgs, LoraArgs, ModelArgs, OutputArgs, Recipe, RewardArgs,
                     SFTArgs, SyntheticArgs, setting)
from .trl_args import UNSUPPORTED, grpo_config_kwargs, runs_on_cpu, sft_config_kwargs

__all__ = ["BUILTIN_DIR", "UNSUPPORTED", "CurriculumArgs", "DataArgs", "EvalArgs", "GRPOArgs", "LoraArgs", "ModelArgs",
           "OutputArgs", "Recipe", "RewardArgs", "SFTArgs", "SyntheticArgs", "builtin_recipes", "grpo_config_kwargs",
           "load_recipe", "runs_on_cpu", "setting", "sft_config_kwargs"]
