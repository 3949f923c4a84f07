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
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib.util
import math
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, ClassVar, Union

import yaml

from ..curriculum import PRESETS, Curriculum
from ..errors import InputError, where
from ..questions.kinds import PLUS_TYPES, QUESTION_TYPES
from ..rewards.reward import MODES, VARIANTS, RewardConfig

BUILTIN_DIR = "recipes"
SCHEDULERS_HELP = "transformers scheduler name: constant, linear, cosine, constant_with_warmup, ..."
PER_TYPE_HELP = ("Questions of a type this phase trains on, e.g. {planning: 256, Counting3: 2000}: fewer than "
                 "there are: a sample drawn with the phase's seed; more: every one, repeated (a type with one "
                 "question per map is otherwise rare); a type not named: each question once.")


def setting(default=None, help: str = "", *, factory=None, **rules) -> Any:
    """A dataclass field with a help string; `rules`: choices, min, max (checked on load)."""
    if factory is not None:
        return field(default_factory=factory, metadata={"help": help, **rules})
    return field(default=default, metadata={"help": help, **rules})


@dataclass
class LoraArgs:
    """A LoRA adapter (peft.LoraConfig)."""

    enabled: bool = setting(False, "Train a LoRA adapter instead of every weight.")
    r: int = setting(8, "Rank of the adapter.", min=1)
    alpha: int = setting(16, "lora_alpha: the update is scaled by alpha / r.", min=1)
    dropout: float = setting(0.05, "Dropout on the adapter's input.", min=0.0, max=1.0)
    target_modules: str | list[str] = setting(
        "all-linear", "Modules to adapt: 'all-linear', a list of module names, or one regular expression "
        "matched against full module names (peft).")

    def peft_kwargs(self) -> dict:
        """Keyword arguments of `peft.LoraConfig`."""
        return {"r": self.r, "lora_alpha": self.alpha, "lora_dropout": self.dropout,
                "target_modules": self.target_modules, "task_type": "CAUSAL_LM"}


@dataclass
class SyntheticArgs:
    """Synthetic cities drawn by `rewardmap data synth` when `data.dataset` is empty."""

    cities: int = setting(10, "Cities to draw, held-out ones included.", min=1)
    per_city: int = setting(50, "Questions per city, split over data.types.", min=1)
    seed: int = setting(0, "Seed of the cities and questions: the same seed gives the same files.")
    size: int = setting(1024, "Map image side in pixels (the model's processor may shrink it).", min=256, max=8192)
    difficulty: str = setting("mixed", "Map difficulty.", choices=("easy", "middle", "hard", "mixed"))


@dataclass
class DataArgs:
    """Training questions, and the cities held out of them for evaluation."""

    dataset: str | None = setting(None, "Dataset folder holding questions.jsonl (`rewardmap data build/import/"
                                  "download/synth`), relative to the working directory; empty: draw `synthetic` "
                                  "cities into the run folder.")
    synthetic: SyntheticArgs = setting(factory=SyntheticArgs, help="Settings of the synthetic cities.")
    types: list[str] = setting(factory=lambda: list(QUESTION_TYPES),
                               help=f"Question types kept for training (of {', '.join(QUESTION_TYPES)}).")
    heldout_cities: int = setting(0, "Whole cities held out of training and asked at evaluation, so the model is "
                                  "scored on maps it never saw; 0: none.", min=0)
    heldout_seed: int = setting(0, "Seed that draws the held-out cities.")
    min_pixels: int | None = setting(None, "A map smaller than this is enlarged to it, for training and the run's "
                                     "evaluations (one factor on both sides, nearest-neighbour), before the "
                                     "processor's own bounds apply, as the released trainer's data.min_pixels; "
                                     "empty: never.", min=1)
    max_pixels: int | None = setting(None, "A map larger than this is shrunk to it (as data.min_pixels; "
                                     "the released trainer's data.max_pixels); empty: never. The model's processor "
                                     "bounds it further (model.max_pixels, or its own default).", min=1)


@dataclass
class ModelArgs:
    """The policy model and its processor."""

    name_or_path: str = setting("tiny", "A local folder or Hub id (Qwen/Qwen2.5-VL-7B-Instruct), or 'tiny': the "
                                "offline tiny Qwen2.5-VL built from a seed (rewardmap.model.tiny).")
    revision: str | None = setting(None, "Hub revision (branch, tag or commit) for a Hub id.")
    tiny: dict = setting(factory=dict, help="TinyModelConfig settings, passed through as they are: hidden_size, "
                         "num_hidden_layers, image_size, seed, ... Read only when name_or_path is 'tiny' (a new "
                         "model), so a recipe that inherits them starts from a checkpoint with one --set "
                         "model.name_or_path=FOLDER.")
    dtype: str = setting("auto", "Weights dtype when loading.", choices=("auto", "bfloat16", "float16", "float32"))
    trust_remote_code: bool = setting(False, "Run model code shipped with a Hub checkpoint (Qwen2.5-VL needs none).")
    attn_implementation: str | None = setting(None, "Attention kernel: sdpa, eager, flash_attention_2; empty: "
                                              "transformers' choice.")
    min_pixels: int | None = setting(None, "Fewest pixels an image is resized to (Qwen processor); empty: the "
                                     "processor's default.", min=1)
    max_pixels: int | None = setting(None, "Most pixels an image is resized to (Qwen processor); empty: the "
                                     "processor's default.", min=1)
    device: str = setting("auto", "auto: a GPU when there is one; cpu: CPU even beside a GPU (TrainingArguments."
                          "use_cpu, which also lets CPU processes of one launch join one gloo group).",
                          choices=("auto", "cpu", "cuda"))
    lora: LoraArgs = setting(factory=LoraArgs, help="LoRA for the GRPO policy (the paper trains all weights).")

    def from_pretrained_kwargs(self) -> dict:
        """Keyword arguments of `from_pretrained` for a Hub or local model."""
        kwargs = {"dtype": self.dtype, "trust_remote_code": self.trust_remote_code, "revision": self.revision,
                  "attn_implementation": self.attn_implementation}
        return {k: v for k, v in kwargs.items() if v is not None}

    def processor_kwargs(self) -> dict:
        """Keyword arguments of `AutoProcessor.from_pretrained` (image size bounds)."""
        kwargs = {"min_pixels": self.min_pixels, "max_pixels": self.max_pixels, "revision": self.revision,
                  "trust_remote_code": self.trust_remote_code}
        return {k: v for k, v in kwargs.items() if v is not None}


@dataclass
class CurriculumArgs:
    """The order of GRPO's training questions (rewardmap.curriculum)."""

    preset: str = setting("rewardmap", "rewardmap: TorF -> Counting2+3 -> Counting1 -> planning; coarse: all Plus "
                          "-> planning; fine: one type per stage; shuffled: no curriculum; custom: `stages`.",
                          choices=(*PRESETS, "custom"))
    stages: list[list[str]] | None = setting(None, "Explicit stages when preset is custom: lists of question "
                                             "types, in training order, each shuffled inside.")
    easy_to_hard: bool = setting(False, "Inside a stage, easy maps and questions first (the paper shuffles).")
    seed: int = setting(0, "Seed of the shuffle inside each stage.")

    def build(self) -> Curriculum:
        return Curriculum(self.stages if self.preset == "custom" else self.preset, self.seed, self.easy_to_hard)


@dataclass
class RewardArgs:
    """The reward (rewardmap.rewards.RewardConfig): W * (R_format + correct_reward * correct + alpha * detail)."""

    variant: str = setting("reference", "reference: the released code, quirks included (what produced the "
                           "published numbers); robust: quirks repaired.", choices=VARIANTS)
    mode: str = setting("difficulty_aware", "difficulty_aware: W by map difficulty and transfers; baseline: W = 1.",
                        choices=MODES)
    map_weights: list[float] = setting(factory=lambda: [1.0, 1.2, 1.5], help="W of an easy, middle, hard map.")
    transfer_bonus: float = setting(0.5, "Added to W for a route question whose reference route transfers.", min=0.0)
    alpha: float = setting(0.5, "Weight of the detail reward of partly right routes; 0: none (a plain reward).",
                           min=0.0)
    correct_reward: float = setting(10.0, "Reward of a correct answer.", min=0.0)
    format_reward: float | None = setting(None, "R_format, paid for exactly the requested answer form; empty: 0 "
                                          "for reference (the released code has none), 1 for robust.", min=0.0)

    def config(self) -> RewardConfig:
        return RewardConfig(variant=self.variant, mode=self.mode, map_weights=tuple(self.map_weights),
                            transfer_bonus=self.transfer_bonus, alpha=self.alpha,
                            correct_reward=self.correct_reward, format_reward=self.format_reward)


@dataclass
class SFTArgs:
    """Supervised fine-tuning on answers in the requested form (trl.SFTTrainer): the SFT baselines, and the
    warm-up that makes a fresh tiny model's answers parseable before GRPO."""

    enabled: bool = setting(False, "Run SFT before GRPO.")
    types: list[str] = setting(factory=lambda: list(PLUS_TYPES), help="Question types SFT trains on (those also "
                               "in data.types); the paper: the Plus types, short targets.")
    max_samples: int | None = setting(None, "At most this many SFT questions (the first ones); empty: all.", min=1)
    per_type: dict[str, int] = setting(factory=dict, help=PER_TYPE_HELP)
    epochs: float = setting(1.0, "Passes over the SFT questions (max_steps wins when set).", min=0.0)
    max_steps: int = setting(-1, "Optimizer steps; -1: from epochs.", min=-1)
    lr: float = setting(1e-4, "Peak learning rate (AdamW).", min=0.0)
    lr_scheduler: str = setting("cosine", SCHEDULERS_HELP)
    warmup_ratio: float = setting(0.1, "Fraction of the steps spent warming the learning rate up.", min=0.0, max=0.999)
    weight_decay: float = setting(0.0, "AdamW weight decay.", min=0.0)
    max_grad_norm: float = setting(1.0, "Gradient norm clip; 0: none.", min=0.0)
    batch_size: int = setting(16, "Questions per optimizer step, over all processes.", min=1)
    per_device_batch_size: int = setting(1, "Questions per process per forward pass (the rest is gradient "
                                         "accumulation).", min=1)
    max_length: int | None = setting(None, "Truncate longer sequences; empty: never (cutting through image "
                                     "tokens breaks Qwen2.5-VL).", min=1)
    balance_lengths: bool = setting(False, "Inside each optimizer step's questions (still a random mix), run those "
                                    "of similar length in the same forward pass (transformers' batch-rebalance "
                                    "sampler), so a short perception question is not padded to a route answer's "
                                    "length. Needs gradient accumulation: per_device_batch_size below batch_size.")
    max_pixels: int | None = setting(None, "Image size bound for SFT; empty: model.max_pixels.", min=1)
    lora: LoraArgs = setting(factory=lambda: LoraArgs(enabled=True, r=8, alpha=16, dropout=0.0),
                             help="The SFT adapter (the paper: rank 8 on all linear layers).")
    merge_lora: bool = setting(True, "Merge the adapter into the weights before GRPO and when saving.")
    bf16: bool | None = setting(None, "bf16 mixed precision; empty: on a GPU yes, on a CPU no.")
    gradient_checkpointing: bool = setting(True, "Recompute activations in the backward pass (less memory).")
    logging_steps: int = setting(10, "Log every this many steps.", min=1)
    save_steps: int = setting(500, "Checkpoint every this many steps; 0: only the final model.", min=0)
    save_total_limit: int | None = setting(None, "Keep at most this many checkpoints.", min=1)
    seed: int = setting(42, "Seed of the trainer (init, data order).")
    report_to: str | list[str] = setting("tensorboard", "Trackers: none, tensorboard, wandb, trackio, ... "
                                         "(metrics.jsonl is always written).")
    extra: dict = setting(factory=dict, help="More trl.SFTConfig arguments, passed verbatim.")


@dataclass
class GRPOArgs:
    """GRPO (trl.GRPOTrainer) on the curriculum-ordered questions; `grpo_config_kwargs` maps it onto GRPOConfig."""

    enabled: bool = setting(True, "Run GRPO.")
    num_generations: int = setting(8, "Rollouts per prompt: the group whose rewards are normalised together.", min=2)
    prompts_per_step: int = setting(16, "Prompts per rollout batch and per optimizer update, over all processes.",
                                    min=1)
    per_device_batch_size: int = setting(1, "Completions per process per forward/backward pass (the rest of a "
                                         "step is gradient accumulation).", min=1)
    temperature: float = setting(1.0, "Sampling temperature of the rollouts.", min=0.0)
    top_p: float = setting(1.0, "Nucleus sampling of the rollouts; 1: off.", min=0.0, max=1.0)
    text_after_image: str | None = setting(None, "Text between the map and the question in the rollouts' prompts "
                                           "(the released trainer's prompt is the map, a newline, the "
                                           "question); empty: none.")
    max_completion_length: int = setting(2048, "Most tokens a rollout may generate.", min=1)
    max_prompt_length: int | None = setting(20000, "Longest prompt, image tokens included. Not a GRPOConfig field "
                                            "in TRL 1.16 (see UNSUPPORTED): it sizes vLLM's context.", min=1)
    per_type: dict[str, int] = setting(factory=dict, help=PER_TYPE_HELP)
    epochs: float = setting(1.0, "Passes over the questions (one in the paper). Under the curriculum each stage's "
                            "questions are passed over this many times (a fraction: a seeded sample) before the next "
                            "stage starts; the plan holds every pass, so TRL itself runs one epoch over it.",
                            min=0.0)
    max_steps: int = setting(-1, "Optimizer steps; -1: from epochs.", min=-1)
    lr: float = setting(1e-6, "Learning rate (AdamW).", min=0.0)
    lr_scheduler: str = setting("constant", SCHEDULERS_HELP)
    warmup_ratio: float = setting(0.0, "Fraction of the steps spent warming the learning rate up.", min=0.0, max=0.999)
    weight_decay: float = setting(0.01, "AdamW weight decay.", min=0.0)
    max_grad_norm: float = setting(1.0, "Gradient norm clip; 0: none.", min=0.0)
    beta: float = setting(1e-3, "KL coefficient (TRL's per-token k3 estimator); 0: no reference model.", min=0.0)
    kl_bias_correction: bool = setting(False, "Multiply the KL term by the importance ratio (TRL's default, after "
                                       "DeepSeek-V3.2); False: the plain k3 KL loss of verl/EasyR1.")
    loss_type: str = setting("dapo", "How token losses are averaged: dapo: over the tokens of the whole update "
                             "(verl's token-mean); grpo: per sequence, then over sequences; ...",
                             choices=("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"))
    scale_rewards: str = setting("group", "Advantage scaling: group: by the group's std (GRPO); batch; none.",
                                 choices=("group", "batch", "none"))
    epsilon: float = setting(0.2, "PPO clip range.", min=0.0)
    epsilon_high: float | None = setting(None, "Upper clip range; empty: epsilon.", min=0.0)
    entropy_coef: float = setting(1e-3, "Entropy bonus coefficient; 0: none.", min=0.0)
    num_iterations: int = setting(1, "Updates per rollout batch (PPO epochs).", min=1)
    mask_truncated_completions: bool = setting(False, "Leave out of the loss rollouts that hit the length limit.")
    bf16: bool | None = setting(None, "bf16 mixed precision; empty: on a GPU yes, on a CPU no.")
    gradient_checkpointing: bool = setting(True, "Recompute activations in the backward pass: less memory, about "
                                           "a third more compute per backward pass; off lets per_device_batch_size "
                                           "grow only where memory allows.")
    steps_per_rollout_batch: int = setting(1, "Optimizer steps whose rollouts are generated together (TRL's "
                                           "generation_batch_size is this x prompts_per_step x num_generations): "
                                           "fewer, larger generate calls, independent of the micro-batch; above 1, "
                                           "later steps learn from rollouts of a slightly older policy (the PPO "
                                           "clip corrects for it).", min=1)
    cache_implementation: str | None = setting(None, "KV cache of transformers' generation: empty: dynamic; "
                                               "static: allocated once at its full length (what compiled decoding "
                                               "needs).", choices=("static", "offloaded", "offloaded_static"))
    compile_generation: bool = setting(False, "Let transformers compile the decoding step (with "
                                       "cache_implementation: static, on a GPU; TRL switches it off by default). "
                                       "The first steps pay the compilation.")
    use_liger_kernel: bool = setting(False, "Liger's Triton kernels (RMSNorm, RoPE, SwiGLU) in the policy: less "
                                     "memory and time per forward pass; needs a GPU and pip install "
                                     "rewardmap[liger]. The 152k-vocabulary logits are never materialised whole "
                                     "either way: TRL computes log-probabilities through a chunked, fused LM head.")
    map_cache_mb: int | None = setting(None, "Megabytes per training process of maps prepared by the processor (resized, "
                                "normalised, cut into patches), kept for the rest of the run, least recently used "
                                "first out: a map is prepared once, not twice per rollout, and decoded once a step, "
                                "not once per rollout and micro-batch (a map at Qwen2.5-VL-7B's 12.8 Mpx takes about "
                                "300 MB, the 11 real ReasonMap maps 1.8 GB); empty: 8,192; 0: every rollout's map "
                                "decoded and prepared, as TRL does alone.", min=0)
    use_vllm: bool = setting(False, "Generate rollouts with vLLM (pip install rewardmap[vllm]).")
    vllm_mode: str = setting("colocate", "colocate: vLLM inside each training process; server: a separate "
                             "`trl vllm-serve` (see recipes/README.md).", choices=("colocate", "server"))
    vllm_gpu_memory_utilization: float = setting(0.3, "GPU memory share of a colocated vLLM.", min=0.0, max=1.0)
    vllm_tensor_parallel_size: int = setting(1, "Tensor parallel size of a colocated vLLM.", min=1)
    vllm_enable_sleep_mode: bool = setting(False, "Let a colocated vLLM release its memory during the update.")
    vllm_importance_sampling: bool | None = setting(None, "Weight each token's loss by the (truncated) ratio of "
                                                    "the policy's probability to vLLM's (TRL's correction of the two "
                                                    "engines' mismatch); False: the plain PPO ratio, as verl/EasyR1 "
                                                    "train; empty: TRL's default (on).")
    vllm_server_base_url: str | None = setting(None, "vLLM server URL (server mode); empty: host and port.")
    vllm_server_host: str = setting("0.0.0.0", "vLLM server host (server mode).")
    vllm_server_port: int = setting(8000, "vLLM server port (server mode).", min=1)
    logging_steps: int = setting(10, "Log every this many steps.", min=1)
    log_completions: bool = setting(False, "Log sample completions with the metrics.")
    save_steps: int = setting(100, "Checkpoint every this many steps; 0: only the final model.", min=0)
    save_total_limit: int | None = setting(None, "Keep at most this many checkpoints.", min=1)
    seed: int = setting(42, "Seed of the trainer (init, sampling).")
    report_to: str | list[str] = setting("tensorboard", "Trackers: none, tensorboard, wandb, trackio, ... "
                                         "(metrics.jsonl is always written).")
    extra: dict = setting(factory=dict, help="More trl.GRPOConfig arguments, passed verbatim (not ones the "
                          "recipe already sets).")


@dataclass
class EvalArgs:
    """Evaluation after training: greedy answers to held-out questions and to benchmark folders, scored with the
    benchmark metrics."""

    enabled: bool = setting(True, "Evaluate after training.")
    datasets: list[str] = setting(factory=list, help="Benchmark dataset folders (e.g. the held-out splits of "
                                  "ReasonMap and ReasonMap-Plus), relative to the working directory, besides the "
                                  "held-out cities of data.heldout_cities. Checked before the run starts; the final "
                                  "model answers each as `rewardmap eval --model RUN/final` does, into "
                                  "RUN/benchmarks/<folder name>/<benchmark>/ (planning records: reasonmap; the Plus "
                                  "types: reasonmap-plus; both when the folder holds both).")
    per_type: int | None = setting(None, "At most this many held-out questions of each type, spread over the "
                                   "held-out cities (each city asked once before any twice); empty: all.", min=1)
    route_questions: int | None = setting(None, "At most this many held-out route questions (each is asked in "
                                          "two wordings, and its answers are long); empty: eval.per_type.", min=1)
    max_questions: int | None = setting(None, "At most this many questions per dataset (the held-out questions; "
                                        "the first of each benchmark of eval.datasets, as `rewardmap eval --limit`); "
                                        "empty: all.", min=1)
    max_new_tokens: int = setting(2048, "Most tokens an answer may have (greedy decoding).", min=1)
    batch_size: int = setting(8, "Questions generated together.", min=1)
    variant: str = setting("reference", "Answer parsing of the metrics: reference (the benchmark's) or robust.",
                           choices=VARIANTS)
    samples: int = setting(0, "Answers sampled per question besides the greedy one, as GRPO samples its rollouts "
                           "(sampled accuracy and pass@k: what GRPO optimises moves first); 0: greedy only.", min=0)
    temperature: float | None = setting(None, "Temperature of those samples; empty: grpo.temperature.", min=0.0)
    seed: int = setting(0, "Seed of the sampled answers.")
    train_per_type: int = setting(0, "Questions of each type drawn from GRPO's own training questions and evaluated "
                                  "like the held-out ones before and after GRPO (what RL moves first is its own "
                                  "distribution); 0: none.", min=0)

    def sampling(self, grpo: GRPOArgs):
        """How answers are sampled (None: greedy only): at GRPO's temperature and top-p unless set."""
        from ..model.generate import Sampling

        if not self.samples:
            return None
        return Sampling(k=self.samples, temperature=self.sampling_temperature(grpo), top_p=grpo.top_p, seed=self.seed)

    def sampling_temperature(self, grpo: GRPOArgs) -> float:
        return grpo.temperature if self.temperature is None else self.temperature


@dataclass
class OutputArgs:
    """Where the run is written."""

    dir: str | None = setting(None, "Run folder (checkpoints, metrics.jsonl, recipe.yaml); empty: runs/<name>.")


@dataclass
class Recipe:
    """One experiment: data, model, curriculum, reward, SFT, GRPO, evaluation and output."""

    name: str | None = setting(None, "Run name; empty: the recipe file's name.")
    data: DataArgs = setting(factory=DataArgs, help="Training questions.")
    model: ModelArgs = setting(factory=ModelArgs, help="The policy model.")
    curriculum: CurriculumArgs = setting(factory=CurriculumArgs, help="Order of the GRPO questions.")
    reward: RewardArgs = setting(factory=RewardArgs, help="The GRPO reward.")
    sft: SFTArgs = setting(factory=SFTArgs, help="Supervised stage before GRPO.")
    grpo: GRPOArgs = setting(factory=GRPOArgs, help="The RL stage.")
    eval: EvalArgs = setting(factory=EvalArgs, help="Evaluation after training.")
    output: OutputArgs = setting(factory=OutputArgs, help="Output folder.")

    # Where it came from, for error messages and the saved file's header; not settings.
    source: ClassVar[str] = "<defaults>"
    overrides: ClassVar[tuple[str, ...]] = ()

    def resolved(self) -> Recipe:
        """A copy with every empty default that has a definite value filled in (name, output
        folder, format reward), as the run folder should record it."""
        out = _build(Recipe, self.to_dict(), (), self.source)  # a deep copy
        out.source, out.overrides = self.source, self.overrides
        out.name = self.name or _stem(self.source)
        out.output.dir = self.output.dir or f"runs/{out.name}"
        out.reward.format_reward = self.reward.config().format_reward
        return out

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        """The recipe as YAML that `load_recipe` reads back into an equal recipe."""
        stages = " -> ".join("+".join(s) for s in self.curriculum.build().stages)
        sets = "".join(f" --set {item}" for item in self.overrides)
        head = f"# rewardmap recipe, from {self.source}{sets}\n# curriculum stages: {stages}\n"
        return head + yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, allow_unicode=True)

    def save(self, path: str | os.PathLike) -> Path:
        from ..fileio import write_text_atomic

        write_text_atomic(path, self.to_yaml())
        return Path(path)


# ---------------------------------------------------------------- loading

def builtin_recipes() -> list[str]:
    """Names of the recipes shipped inside the package."""
    folder = resources.files(__package__).joinpath(BUILTIN_DIR)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_recipe(name_or_path: str | os.PathLike = "tiny", overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a built-in recipe by name (`tiny`) or a YAML file, its `inherit:` chain, then
    the `key=value` overrides; check everything; return the recipe (not yet `resolved()`).

    >>> load_recipe("tiny", ["grpo.lr=1e-5", "curriculum.preset=fine"]).grpo.lr
    1e-05
    """
    path, label = _locate(str(name_or_path), None)
    tree = _read_tree(path, label, (str(path.resolve()),))
    for item in overrides:
        key, value = _parse_override(item, label)
        tree = _merge(tree, _nest(key, value))
        _build(Recipe, _nest(key, value), (), f"{label} (--set {key})")
    recipe = _build(Recipe, tree, (), label)
    recipe.source, recipe.overrides = label, tuple(str(item) for item in overrides)
    _validate(recipe, label)
    return recipe


def _locate(name: str, relative_to: Path | None) -> tuple[Path, str]:
    """(path, label) of a recipe file: a path (relative to `relative_to` when given), else a built-in name."""
    candidate = Path(name) if relative_to is None else relative_to.parent / name
    if candidate.is_file():
        return candidate, str(candidate if relative_to is None else os.path.normpath(candidate))
    if name in builtin_recipes():
        builtin = resources.files(__package__).joinpath(BUILTIN_DIR).joinpath(f"{name}.yaml")
        return Path(str(builtin)), f"{name} (built-in)"
    where_from = f" (relative to {relative_to})" if relative_to is not None else ""
    raise InputError(f"{name}: no such recipe file{where_from}; built-in recipes: {', '.join(builtin_recipes())}")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when there is one) that refuses a key given twice (PyYAML would
    keep the last one silently)."""


def _no_duplicates(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _read_yaml(path: Path, label: str) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{label}{at}: invalid YAML: {' '.join(str(problem).split())}") from None
    except OSError as e:
        raise InputError(f"{label}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{label}: not UTF-8 text (byte {e.start})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{label}: a recipe is a mapping of settings, got {type(data).__name__}")
    return data


def _read_tree(path: Path, label: str, chain: tuple[str, ...]) -> dict:
    """The file's settings merged over those of the files it inherits, each file checked on its own
    (so an error names the file that holds the bad setting)."""
    raw = _read_yaml(path, label)
    parents = raw.pop("inherit", None)
    if parents is None:
        parents = []
    elif isinstance(parents, str):
        parents = [parents]
    elif not (isinstance(parents, list) and all(isinstance(p, str) for p in parents)):
        raise InputError(f"{where(label, field='inherit')}: expected a path or a list of paths, got {parents!r}")
    _build(Recipe, raw, (), label)
    tree: dict = {}
    for parent in parents:
        ppath, plabel = _locate(parent, path)
        key = str(ppath.resolve())
        if key in chain:
            raise InputError(f"{where(label, field='inherit')}: {parent} inherits back from this file (a cycle)")
        tree = _merge(tree, _read_tree(ppath, plabel, chain + (key,)))
    return _merge(tree, raw)


def _merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _nest(dotted: str, value) -> dict:
    tree = value
    for part in reversed(dotted.split(".")):
        tree = {part: tree}
    return tree


def _parse_override(item: str, label: str) -> tuple[str, Any]:
    key, eq, text = str(item).partition("=")
    key = key.strip()
    if not eq or not key or any(not part for part in key.split(".")):
        raise InputError(f"{label}: override {item!r}: expected key=value with a dotted key, e.g. grpo.lr=1e-6")
    if key == "inherit" or key.startswith("inherit."):
        raise InputError(f"{label}: override {item!r}: inherit is read from files only")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{where(f'{label} (--set {key})', field=key)}: value {text!r} is not valid YAML "
                         f"({' '.join(str(problem).split())})") from None
    return key, value


# ---------------------------------------------------------------- checking

@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


@functools.cache
def _all_keys(cls, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(cls):
        tp = _hints(cls)[f.name]
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(tp):
            keys += _all_keys(tp, f"{prefix}{f.name}.")
    return keys


# TRL / transformers / verl names that people will type, and the recipe's name for each.
_ALIASES = {
    "learning_rate": "lr", "lr_scheduler_type": "lr_scheduler", "num_train_epochs": "epochs",
    "per_device_train_batch_size": "per_device_batch_size", "kl_coef": "beta", "kl_loss_coef": "beta",
    "clip_ratio": "epsilon", "entropy_coeff": "entropy_coef", "n": "num_generations", "rollout_n": "num_generations",
    "max_response_length": "max_completion_length", "lora_rank": "r", "rank": "r", "lora_alpha": "alpha",
    "lora_dropout": "dropout", "model_name_or_path": "name_or_path", "model": "name_or_path",
    "torch_dtype": "dtype", "warmup_steps": "warmup_ratio", "gradient_accumulation_steps": "per_device_batch_size",
}


def _build(cls, mapping: Mapping, path: tuple[str, ...], label: str, base=None):
    """An instance of dataclass `cls` from a (possibly partial) mapping; unknown keys, wrong
    types and values outside a field's rules are InputErrors naming `label` and the dotted key.

    A missing nested setting takes the default of its section as the parent declares it
    (sft.lora.dropout is 0.0, model.lora.dropout 0.05), not its class default.
    """
    hints, known = _hints(cls), {f.name: f for f in dataclasses.fields(cls)}
    base = cls() if base is None else base
    kwargs = {}
    for key, value in mapping.items():
        dotted = ".".join((*path, str(key)))
        if key not in known:
            alias = _ALIASES.get(str(key))
            close = ([".".join((*path, alias))] if alias in known else
                     difflib.get_close_matches(dotted, _all_keys(Recipe), n=1, cutoff=0.6))
            hint = f"; did you mean '{close[0]}'?" if close else f"; known here: {', '.join(known)}"
            raise InputError(f"{where(label, field=dotted)}: unknown setting{hint}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, Mapping):
                raise _wrong(value, tp, (*path, key), label)
            value = _build(tp, value, (*path, key), label, getattr(base, key))
        else:
            value = _coerce(value, tp, (*path, key), label)
        _check_rules(value, known[key].metadata, dotted, label)
        kwargs[key] = value
    return dataclasses.replace(base, **kwargs)


def _coerce(value, tp, path: tuple[str, ...], label: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, path, label)
            except _WrongType:
                continue
        raise _wrong(value, tp, path, label)
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(value, tp, path, label)
        return [_coerce(v, args[0], (*path, str(i)), label) for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise _wrong(value, tp, path, label)
        if not args:
            return dict(value)
        return {_coerce(k, args[0], (*path, str(k)), label): _coerce(v, args[1], (*path, str(k)), label)
                for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise _wrong(value, tp, path, label)
        return value
    if tp in (int, float) and isinstance(value, str):
        try:  # PyYAML reads 1e-6 (no dot) as text
            value = float(value.strip())
        except ValueError:
            raise _wrong(value, tp, path, label) from None
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if tp is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if tp is str and isinstance(value, str):
        return value
    raise _wrong(value, tp, path, label)


class _WrongType(InputError):
    pass


def _describe(tp) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, UnionType):
        parts = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" (or empty)" if type(None) in args else "")
    if origin is list:  # "a list of texts", "a list of lists of texts": the item's noun, without its article
        head, of, rest = _describe(args[0]).partition(" ")[2].partition(" of ")
        return f"a list of {head}s{of}{rest}"
    if dataclasses.is_dataclass(tp) or tp is dict or origin is dict:
        return "a mapping"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a text"}.get(tp, str(tp))


def _wrong(value, tp, path, label) -> _WrongType:
    return _WrongType(f"{where(label, field='.'.join(path))}: expected {_describe(tp)}, got {value!r}")


def _did_you_mean(word: str, known) -> str:
    """` (did you mean 'X'?)` for the known name nearest WORD, or nothing when none is near."""
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_rules(value, rules: Mapping, dotted: str, label: str) -> None:
    choices = rules.get("choices")
    if choices is not None and isinstance(value, str) and value not in choices:
        hint = _did_you_mean(value, choices)
        raise InputError(f"{where(label, field=dotted)}: {value!r} is not one of {', '.join(choices)}{hint}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in rules and value < rules["min"]:
            raise InputError(f"{where(label, field=dotted)}: must be at least {rules['min']}, got {value!r}")
        if "max" in rules and value > rules["max"]:
            raise InputError(f"{where(label, field=dotted)}: must be at most {rules['max']}, got {value!r}")


def _validate(recipe: Recipe, label: str) -> None:
    """Checks that involve more than one field."""
    for key, types in (("data.types", recipe.data.types), ("sft.types", recipe.sft.types)):
        for t in types:
            if t not in QUESTION_TYPES:
                hint = _did_you_mean(t, QUESTION_TYPES)
                raise InputError(f"{where(label, field=key)}: unknown question type {t!r}{hint}; "
                                 f"known: {', '.join(QUESTION_TYPES)}")
        if len(set(types)) != len(types):
            raise InputError(f"{where(label, field=key)}: a question type is listed twice")
    for key, per_type in (("sft.per_type", recipe.sft.per_type), ("grpo.per_type", recipe.grpo.per_type)):
        for t, n in per_type.items():
            if t not in QUESTION_TYPES:
                hint = _did_you_mean(t, QUESTION_TYPES)
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


def _stem(label: str) -> str:
    return Path(label.removesuffix(" (built-in)")).stem


# ---------------------------------------------------------------- TRL

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
        "output_dir": str(output_dir), "run_name": recipe.name or _stem(recipe.source), "seed": args.seed,
        "num_train_epochs": args.epochs, "max_steps": args.max_steps,
        "learning_rate": args.lr, "lr_scheduler_type": args.lr_scheduler, "weight_decay": args.weight_decay,
        "max_grad_norm": args.max_grad_norm,
        "per_device_train_batch_size": args.per_device_batch_size, "gradient_accumulation_steps": batch // per_step,
        "bf16": bf16 if args.bf16 is None else args.bf16, "use_cpu": use_cpu,
        "logging_steps": args.logging_steps, "save_strategy": "steps" if save else "no",
        "save_total_limit": args.save_total_limit, "report_to": args.report_to,
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
            hint = _did_you_mean(key, names)
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
        "shuffle_dataset": False,
        "num_generations": g.num_generations, "temperature": g.temperature, "top_p": g.top_p,
        "max_completion_length": g.max_completion_length,
        "beta": g.beta, "use_bias_correction_kl": g.kl_bias_correction,
        "loss_type": g.loss_type, "scale_rewards": g.scale_rewards,
        "epsilon": g.epsilon, "epsilon_high": g.epsilon_high, "entropy_coef": g.entropy_coef,
        "num_iterations": g.num_iterations, "mask_truncated_completions": g.mask_truncated_completions,
        "log_completions": g.log_completions, "remove_unused_columns": False,
        "use_vllm": g.use_vllm, "cache_implementation": g.cache_implementation,
        "use_liger_kernel": g.use_liger_kernel,
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
    kwargs["max_length"] = s.max_length
    if s.balance_lengths:  # the sampler reads each row's `length` (`data.sft_rows`), which must not be dropped
        kwargs.update(train_sampling_strategy="batch_rebalance", length_column_name="length",
                      remove_unused_columns=False)
    return _add_extra(kwargs, s.extra, SFTConfig, "sft", recipe.source)
