"""The settings of a recipe: one dataclass per section, each setting a field with its default,
its help string and its rules (choices, min, max), so the YAML files, `--set`, the checks and the
documentation's settings reference all read them from one place."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from ...curriculum import PRESETS, Curriculum
from ...questions.kinds import PLUS_TYPES, QUESTION_TYPES
from ...rewards.reward import MODES, VARIANTS, RewardConfig

SCHEDULERS_HELP = "transformers scheduler name: constant, linear, cosine, constant_with_warmup, ..."
PER_TYPE_HELP = ("Questions of a type this phase trains on, e.g. {planning: 256, Counting3: 2000}: fewer than "
                 "there are: a sample drawn with the phase's seed; more: every one, repeated (a type with one "
                 "question per map is otherwise rare); a type not named: each question once.")


def setting(default=None, help: str = "", *, factory=None, **rules) -> Any:
    """A dataclass field with a help string; `rules`: choices, min, max (checked on load), and
    `trl`: the name of the TRL argument it is passed to as it is (`trl_args.one_to_one`)."""
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
    epochs: float = setting(1.0, "Passes over the SFT questions (max_steps wins when set).", min=0.0,
                            trl="num_train_epochs")
    max_steps: int = setting(-1, "Optimizer steps; -1: from epochs.", min=-1, trl="max_steps")
    lr: float = setting(1e-4, "Peak learning rate (AdamW).", min=0.0, trl="learning_rate")
    lr_scheduler: str = setting("cosine", SCHEDULERS_HELP, trl="lr_scheduler_type")
    warmup_ratio: float = setting(0.1, "Fraction of the steps spent warming the learning rate up.", min=0.0, max=0.999)
    weight_decay: float = setting(0.0, "AdamW weight decay.", min=0.0, trl="weight_decay")
    max_grad_norm: float = setting(1.0, "Gradient norm clip; 0: none.", min=0.0, trl="max_grad_norm")
    batch_size: int = setting(16, "Questions per optimizer step, over all processes.", min=1)
    per_device_batch_size: int = setting(1, "Questions per process per forward pass (the rest is gradient "
                                         "accumulation).", min=1, trl="per_device_train_batch_size")
    max_length: int | None = setting(None, "Truncate longer sequences; empty: never (cutting through image "
                                     "tokens breaks Qwen2.5-VL).", min=1, trl="max_length")
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
    logging_steps: int = setting(10, "Log every this many steps.", min=1, trl="logging_steps")
    save_steps: int = setting(500, "Checkpoint every this many steps; 0: only the final model.", min=0)
    save_total_limit: int | None = setting(None, "Keep at most this many checkpoints.", min=1, trl="save_total_limit")
    seed: int = setting(42, "Seed of the trainer (init, data order).", trl="seed")
    report_to: str | list[str] = setting("tensorboard", "Trackers: none, tensorboard, wandb, trackio, ... "
                                         "(metrics.jsonl is always written).", trl="report_to")
    extra: dict = setting(factory=dict, help="More trl.SFTConfig arguments, passed verbatim.")


@dataclass
class GRPOArgs:
    """GRPO (trl.GRPOTrainer) on the curriculum-ordered questions; `grpo_config_kwargs` maps it onto GRPOConfig."""

    enabled: bool = setting(True, "Run GRPO.")
    num_generations: int = setting(8, "Rollouts per prompt: the group whose rewards are normalised together.", min=2,
                                   trl="num_generations")
    prompts_per_step: int = setting(16, "Prompts per rollout batch and per optimizer update, over all processes.",
                                    min=1)
    per_device_batch_size: int = setting(1, "Completions per process per forward/backward pass (the rest of a "
                                         "step is gradient accumulation).", min=1, trl="per_device_train_batch_size")
    temperature: float = setting(1.0, "Sampling temperature of the rollouts.", min=0.0, trl="temperature")
    top_p: float = setting(1.0, "Nucleus sampling of the rollouts; 1: off.", min=0.0, max=1.0, trl="top_p")
    text_after_image: str | None = setting(None, "Text between the map and the question in the rollouts' prompts "
                                           "(the released trainer's prompt is the map, a newline, the "
                                           "question); empty: none.")
    max_completion_length: int = setting(2048, "Most tokens a rollout may generate.", min=1,
                                         trl="max_completion_length")
    max_prompt_length: int | None = setting(20000, "Longest prompt, image tokens included. Not a GRPOConfig field "
                                            "in TRL 1.16 (see UNSUPPORTED): it sizes vLLM's context.", min=1)
    per_type: dict[str, int] = setting(factory=dict, help=PER_TYPE_HELP)
    epochs: float = setting(1.0, "Passes over the questions (one in the paper). Under the curriculum each stage's "
                            "questions are passed over this many times (a fraction: a seeded sample) before the next "
                            "stage starts; the plan holds every pass, so TRL itself runs one epoch over it.",
                            min=0.0, trl="num_train_epochs")
    max_steps: int = setting(-1, "Optimizer steps; -1: from epochs.", min=-1, trl="max_steps")
    lr: float = setting(1e-6, "Learning rate (AdamW).", min=0.0, trl="learning_rate")
    lr_scheduler: str = setting("constant", SCHEDULERS_HELP, trl="lr_scheduler_type")
    warmup_ratio: float = setting(0.0, "Fraction of the steps spent warming the learning rate up.", min=0.0, max=0.999)
    weight_decay: float = setting(0.01, "AdamW weight decay.", min=0.0, trl="weight_decay")
    max_grad_norm: float = setting(1.0, "Gradient norm clip; 0: none.", min=0.0, trl="max_grad_norm")
    beta: float = setting(1e-3, "KL coefficient (TRL's per-token k3 estimator); 0: no reference model.", min=0.0,
                          trl="beta")
    kl_bias_correction: bool = setting(False, "Multiply the KL term by the importance ratio (TRL's default, after "
                                       "DeepSeek-V3.2); False: the plain k3 KL loss of verl/EasyR1.",
                                       trl="use_bias_correction_kl")
    loss_type: str = setting("dapo", "How token losses are averaged: dapo: over the tokens of the whole update "
                             "(verl's token-mean); grpo: per sequence, then over sequences; ...",
                             choices=("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"),
                             trl="loss_type")
    scale_rewards: str = setting("group", "Advantage scaling: group: by the group's std (GRPO); batch; none.",
                                 choices=("group", "batch", "none"), trl="scale_rewards")
    epsilon: float = setting(0.2, "PPO clip range.", min=0.0, trl="epsilon")
    epsilon_high: float | None = setting(None, "Upper clip range; empty: epsilon.", min=0.0, trl="epsilon_high")
    entropy_coef: float = setting(1e-3, "Entropy bonus coefficient; 0: none.", min=0.0, trl="entropy_coef")
    num_iterations: int = setting(1, "Updates per rollout batch (PPO epochs).", min=1, trl="num_iterations")
    mask_truncated_completions: bool = setting(False, "Leave out of the loss rollouts that hit the length limit.",
                                               trl="mask_truncated_completions")
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
                                               "needs).", choices=("static", "offloaded", "offloaded_static"),
                                               trl="cache_implementation")
    compile_generation: bool = setting(False, "Let transformers compile the decoding step (with "
                                       "cache_implementation: static, on a GPU; TRL switches it off by default). "
                                       "The first steps pay the compilation.")
    use_liger_kernel: bool = setting(False, "Liger's Triton kernels (RMSNorm, RoPE, SwiGLU) in the policy: less "
                                     "memory and time per forward pass; needs a GPU and pip install "
                                     "rewardmap[liger]. The 152k-vocabulary logits are never materialised whole "
                                     "either way: TRL computes log-probabilities through a chunked, fused LM head.",
                                     trl="use_liger_kernel")
    map_cache_mb: int | None = setting(None, "Megabytes per training process of maps prepared by the processor (resized, "
                                "normalised, cut into patches), kept for the rest of the run, least recently used "
                                "first out: a map is prepared once, not twice per rollout, and decoded once a step, "
                                "not once per rollout and micro-batch (a map at Qwen2.5-VL-7B's 12.8 Mpx takes about "
                                "300 MB, the 11 real ReasonMap maps 1.8 GB); empty: 8,192; 0: every rollout's map "
                                "decoded and prepared, as TRL does alone.", min=0)
    use_vllm: bool = setting(False, "Generate rollouts with vLLM (pip install rewardmap[vllm]).", trl="use_vllm")
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
    logging_steps: int = setting(10, "Log every this many steps.", min=1, trl="logging_steps")
    log_completions: bool = setting(False, "Log sample completions with the metrics.", trl="log_completions")
    save_steps: int = setting(100, "Checkpoint every this many steps; 0: only the final model.", min=0)
    save_total_limit: int | None = setting(None, "Keep at most this many checkpoints.", min=1, trl="save_total_limit")
    seed: int = setting(42, "Seed of the trainer (init, sampling).", trl="seed")
    report_to: str | list[str] = setting("tensorboard", "Trackers: none, tensorboard, wandb, trackio, ... "
                                         "(metrics.jsonl is always written).", trl="report_to")
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
        from ...model.generate import Sampling

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
        from .coerce import build
        from .loading import stem

        out = build(Recipe, self.to_dict(), (), self.source)  # a deep copy
        out.source, out.overrides = self.source, self.overrides
        out.name = self.name or stem(self.source)
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
        from ...fileio import write_text_atomic

        write_text_atomic(path, self.to_yaml())
        return Path(path)


