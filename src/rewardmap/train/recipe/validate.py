"""The checks of a recipe that involve more than one setting."""

from __future__ import annotations

import importlib.util

from ...errors import InputError, where
from ...questions.kinds import QUESTION_TYPES
from .coerce import did_you_mean
from .schema import Recipe


def validate(recipe: Recipe, label: str) -> None:
    """Checks that involve more than one field."""
    for key, types in (("data.types", recipe.data.types), ("sft.types", recipe.sft.types)):
        for t in types:
            if t not in QUESTION_TYPES:
                hint = did_you_mean(t, QUESTION_TYPES)
                raise InputError(f"{where(label, field=key)}: unknown question type {t!r}{hint}; "
                                 f"known: {', '.join(QUESTION_TYPES)}")
        if len(set(types)) != len(types):
            raise InputError(f"{where(label, field=key)}: a question type is listed twice")
    for key, per_type in (("sft.per_type", recipe.sft.per_type), ("grpo.per_type", recipe.grpo.per_type)):
        for t, n in per_type.items():
            if t not in QUESTION_TYPES:
                hint = did_you_mean(t, QUESTION_TYPES)
                raise InputError(f"{where(label, field=f'{key}.{t}')}: unknown question type{hint}; "
                                 f"known: {', '.join(QUESTION_TYPES)}")
            if n < 1:
                raise InputError(f"{where(label, field=f'{key}.{t}')}: must be at least 1, got {n} (leave a type "
                                 "out with data.types or sft.types)")
    if not recipe.data.types:
        raise InputError(f"{where(label, field='data.types')}: no question types to train on")
    if recipe.grpo.enabled and recipe.grpo.epochs <= 0:
        raise InputError(f"{where(label, field='grpo.epochs')}: must be above 0 (turn GRPO off with grpo.enabled: "
                         "false)")
    if recipe.eval.samples and not recipe.eval.sampling_temperature(recipe.grpo) > 0:
        raise InputError(f"{where(label, field='eval.temperature')}: sampled answers need a temperature above 0 "
                         "(eval.samples: 0 turns them off)")
    if recipe.sft.enabled and not set(recipe.sft.types) & set(recipe.data.types):
        raise InputError(f"{where(label, field='sft.types')}: none of them is in data.types, so SFT has nothing "
                         "to train on")
    data = recipe.data
    if data.dataset is None and data.heldout_cities >= data.synthetic.cities:
        raise InputError(f"{where(label, field='data.heldout_cities')}: holding out {data.heldout_cities} of "
                         f"{data.synthetic.cities} synthetic cities leaves none to train on")
    cur = recipe.curriculum
    if (cur.preset == "custom") != (cur.stages is not None):
        raise InputError(f"{where(label, field='curriculum.stages')}: give stages exactly when curriculum.preset "
                         f"is custom (preset is {cur.preset!r})")
    try:
        curriculum = cur.build()
    except InputError as e:
        raise InputError(f"{where(label, field='curriculum.stages')}: {str(e).removeprefix('curriculum: ')}") from None
    unstaged = [t for t in data.types if curriculum.stage_of(t) is None]
    if unstaged:
        raise InputError(f"{where(label, field='curriculum.stages')}: no stage trains {', '.join(unstaged)}, which "
                         "data.types keeps")
    try:
        recipe.reward.config()
    except ValueError as e:
        name = str(e).split()[0]
        raise InputError(f"{where(label, field=f'reward.{name}')}: {e}") from None
    grpo = recipe.grpo
    if (grpo.prompts_per_step * grpo.num_generations) % grpo.per_device_batch_size:
        raise InputError(f"{where(label, field='grpo.per_device_batch_size')}: {grpo.per_device_batch_size} does "
                         f"not divide the {grpo.prompts_per_step * grpo.num_generations} completions of a step "
                         "(prompts_per_step x num_generations)")
    if grpo.compile_generation and grpo.cache_implementation not in ("static", "offloaded_static"):
        raise InputError(f"{where(label, field='grpo.compile_generation')}: needs grpo.cache_implementation static "
                         "(transformers compiles decoding only over a static cache)")
    if grpo.use_liger_kernel and importlib.util.find_spec("liger_kernel") is None:
        raise InputError(f"{where(label, field='grpo.use_liger_kernel')}: liger-kernel is not installed (pip "
                         "install rewardmap[liger])")
    if recipe.sft.balance_lengths and recipe.sft.per_device_batch_size >= recipe.sft.batch_size:
        raise InputError(f"{where(label, field='sft.balance_lengths')}: needs per_device_batch_size below "
                         f"batch_size ({recipe.sft.per_device_batch_size} >= {recipe.sft.batch_size}): the questions "
                         "of one step are split into forward passes by length")
    if recipe.sft.batch_size % recipe.sft.per_device_batch_size:
        raise InputError(f"{where(label, field='sft.per_device_batch_size')}: {recipe.sft.per_device_batch_size} "
                         f"does not divide sft.batch_size {recipe.sft.batch_size}")


