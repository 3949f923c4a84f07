"""A recipe mapped onto TRL: the keyword arguments of `trl.GRPOConfig` and `trl.SFTConfig`, and
the settings of the paper that TRL cannot express (`UNSUPPORTED`), named rather than dropped."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from ...errors import InputError, where
from .coerce import did_you_mean
from .loading import stem
from .schema import Recipe


# What the paper or the released RewardMap script sets and TRL 1.16 cannot:
# the recipes name these, and `rewardmap train` should say them in its log, not drop them.
UNSUPPORTED = {
    "max_prompt_length": "20,000 tokens in paper and script: GRPOConfig 1.16 has no prompt limit and never "
                         "truncates a prompt (cutting one would cut image tokens); grpo.max_prompt_length only "
                         "sizes vLLM's context (vllm_max_model_length = it + max_completion_length)",
    "kl_clamp": "the released code's low_var_kl clamps the per-token k3 KL to [-10, 10]; TRL computes the same "
                "k3 estimator unclamped",
    "advantage_epsilon": "the released advantages divide by the group's standard deviation + 1e-6, TRL's by + 1e-4 "
                         "(fixed in its code): a relative difference of about 1e-4 / std (1.6e-5 to 2.5e-5 on "
                         "benchmarks/parity_released.py's batch)",
    "actor_offload": "the script offloads actor parameters and optimizer state to CPU between phases (EasyR1 "
                     "offload); TRL has no such switch: FSDP/DeepSpeed offload in the accelerate config is the "
                     "nearest",
    "vllm_chunked_prefill": "the script's rollout.enable_chunked_prefill is a vLLM engine option TRL does not "
                            "expose (vLLM's default applies)",
    "sft_val_size": "the SFT script holds out 10% for a validation loss every 100 steps (monitoring only); "
                    "not reproduced",
}


def _device(recipe: Recipe) -> tuple[bool, bool]:
    """(use_cpu, bf16 by default) for this machine."""
    if recipe.model.device == "cpu":
        return True, False
    import torch

    if torch.cuda.is_available():
        return False, torch.cuda.is_bf16_supported()
    if recipe.model.device == "cuda":
        raise InputError(f"{where(recipe.source, field='model.device')}: cuda, but torch sees no GPU")
    return True, False


def runs_on_cpu(recipe: Recipe) -> bool:
    """Whether the trainers get `use_cpu` on this machine (no GPU, or model.device: cpu)."""
    return _device(recipe)[0]


def _world(num_processes: int | None) -> int:
    return num_processes if num_processes is not None else int(os.environ.get("WORLD_SIZE", "1"))


def one_to_one(args) -> dict:
    """The settings of ARGS (a section of the recipe) that are one TRL argument each, under TRL's
    name: declared with the setting itself (`setting(..., trl=NAME)`), so adding one is one line."""
    return {f.metadata["trl"]: getattr(args, f.name) for f in dataclasses.fields(args) if "trl" in f.metadata}


def _trainer_kwargs(recipe: Recipe, args, output_dir, config_cls, batch: int, what: str,
                    num_processes: int | None) -> dict:
    """TrainingArguments shared by SFT and GRPO; `batch`: samples per optimizer step over all processes."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    world = _world(num_processes)
    per_step = args.per_device_batch_size * world
    if batch % per_step:
        raise InputError(f"{where(recipe.source, field=f'{what}.per_device_batch_size')}: {batch} samples per step "
                         f"do not split over {world} processes x {args.per_device_batch_size} per process")
    use_cpu, bf16 = _device(recipe)
    save = args.save_steps > 0
    kwargs = {
        "output_dir": str(output_dir), "run_name": recipe.name or stem(recipe.source), **one_to_one(args),
        "gradient_accumulation_steps": batch // per_step, "bf16": bf16 if args.bf16 is None else args.bf16,
        "use_cpu": use_cpu, "save_strategy": "steps" if save else "no",
        "trust_remote_code": recipe.model.trust_remote_code,
    }
    if save:
        kwargs["save_steps"] = args.save_steps
    # transformers 5 renamed these; older 5.x releases have only the old names
    kwargs["warmup_ratio" if "warmup_ratio" in names else "warmup_steps"] = args.warmup_ratio
    kwargs["activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"] = (
        args.gradient_checkpointing)
    return kwargs


def _add_extra(kwargs: dict, extra: Mapping, config_cls, what: str, label: str) -> dict:
    names = {f.name for f in dataclasses.fields(config_cls) if f.init}
    for key, value in extra.items():
        dotted = f"{what}.extra.{key}"
        if key in kwargs:
            raise InputError(f"{where(label, field=dotted)}: the recipe already sets {key}; change the recipe "
                             "setting instead")
        if key not in names:
            hint = did_you_mean(key, names)
            raise InputError(f"{where(label, field=dotted)}: {config_cls.__name__} has no argument {key!r}{hint}")
        kwargs[key] = value
    return kwargs


def grpo_config_kwargs(recipe: Recipe, output_dir: str | os.PathLike, *, num_processes: int | None = None) -> dict:
    """Keyword arguments of `trl.GRPOConfig` (TRL 1.16) for `recipe`.

    A step is `prompts_per_step` prompts x `num_generations` rollouts, generated once and
    spread over `num_processes` (default: $WORLD_SIZE, else 1) x `per_device_batch_size`
    x gradient accumulation; `shuffle_dataset` is False because the curriculum orders the data.
    """
    from trl import GRPOConfig

    g = recipe.grpo
    completions = g.prompts_per_step * g.num_generations
    kwargs = _trainer_kwargs(recipe, g, output_dir, GRPOConfig, completions, "grpo", num_processes)
    kwargs["num_train_epochs"] = 1.0  # grpo.epochs repeats questions inside the curriculum plan (train.run)
    kwargs.update({
        "steps_per_generation": kwargs["gradient_accumulation_steps"],  # one rollout batch per update
        "shuffle_dataset": False, "remove_unused_columns": False,
    })
    kwargs["steps_per_generation"] *= g.steps_per_rollout_batch
    if g.use_vllm:
        kwargs.update({"vllm_mode": g.vllm_mode, "vllm_enable_sleep_mode": g.vllm_enable_sleep_mode})
        if g.vllm_importance_sampling is not None:
            kwargs["vllm_importance_sampling_correction"] = g.vllm_importance_sampling
        if g.vllm_mode == "colocate":
            kwargs.update({"vllm_gpu_memory_utilization": g.vllm_gpu_memory_utilization,
                           "vllm_tensor_parallel_size": g.vllm_tensor_parallel_size})
            if g.max_prompt_length is not None:
                kwargs["vllm_max_model_length"] = g.max_prompt_length + g.max_completion_length
        else:
            kwargs.update({"vllm_server_base_url": g.vllm_server_base_url, "vllm_server_host": g.vllm_server_host,
                           "vllm_server_port": g.vllm_server_port})
    return _add_extra(kwargs, g.extra, GRPOConfig, "grpo", recipe.source)


def sft_config_kwargs(recipe: Recipe, output_dir: str | os.PathLike, *, num_processes: int | None = None) -> dict:
    """Keyword arguments of `trl.SFTConfig` (TRL 1.16) for the recipe's SFT stage."""
    from trl import SFTConfig

    s = recipe.sft
    kwargs = _trainer_kwargs(recipe, s, output_dir, SFTConfig, s.batch_size, "sft", num_processes)
    if s.balance_lengths:  # the sampler reads each row's `length` (`data.sft_rows`), which must not be dropped
        kwargs.update(train_sampling_strategy="batch_rebalance", length_column_name="length",
                      remove_unused_columns=False)
    return _add_extra(kwargs, s.extra, SFTConfig, "sft", recipe.source)
