"""One RewardMap GRPO step of a Qwen2.5-VL-7B-sized model on a GPU: where its time goes.

The model has Qwen2.5-VL-7B-Instruct's architecture (or 3B's) with random weights built
from its config in bf16 (no download); the tokenizer is trained on the spot, so sampled ids
beyond it decode to nothing, and every completion runs to `--max-completion`. Prompts are
synthetic map questions (Plus and routes) with maps of `--image-size` pixels. The step is
TRL's GRPOTrainer with the paper's settings (8 rollouts, 16 prompts per step, KL 1e-3 with
a reference model, entropy 1e-3, clip 0.2, bf16, activation checkpointing) and the
RewardMap reward. Each step's time per phase (`rewardmap.train.timing`: generation, reward,
log-probs, forward and backward, optimizer, ...), tokens/s, peak memory and MFU are printed;
step 1 warms up. The recipe's speed levers are flags, off by default, so one run measures
the step before a lever and another after it.

    python benchmarks/bench_train_gpu.py [--size 7b] [--steps 2] [--max-completion 256] [--use-vllm]
        [--steps-per-rollout-batch 2] [--static-cache] [--compile-generation] [--liger]
        [--per-device-batch 8] [--no-checkpointing] [--image-size 784]
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import torch

SIZES = {  # Qwen2.5-VL-{7B,3B}-Instruct config.json, the fields that set compute and memory
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
    "3b": dict(hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
               num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    # a check of this script on a CPU, nothing to measure
    "test": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, vocab_size=8192, tie_word_embeddings=True),
}
CUDA = torch.cuda.is_available()


def build(size: str, texts: list[str], image_size: int):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from rewardmap.model import tiny

    tokenizer = tiny.train_tokenizer(texts, 4096)
    processor = tiny.build_processor(tokenizer, tiny.TinyModelConfig(image_size=image_size))
    s = SIZES[size]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tiny.SPECIAL_TOKENS}
    text = dict(vocab_size=s["vocab_size"], hidden_size=s["hidden_size"], intermediate_size=s["intermediate_size"],
                num_hidden_layers=s["num_hidden_layers"], num_attention_heads=s["num_attention_heads"],
                num_key_value_heads=s["num_key_value_heads"], max_position_embeddings=128000,
                max_window_layers=s["num_hidden_layers"], rms_norm_eps=1e-6,
                rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                 "mrope_section": [4, 6, 6] if size == "test" else [16, 24, 24]},
                bos_token_id=ids[tiny.PAD_TOKEN], eos_token_id=ids[tiny.EOS_TOKEN], pad_token_id=ids[tiny.PAD_TOKEN])
    vision = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=s["hidden_size"],
                  patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                  fullatt_block_indexes=[7, 15, 23, 31])
    if size == "test":
        vision.update(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, fullatt_block_indexes=[1])
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=s["tie_word_embeddings"],
                              image_token_id=ids[tiny.IMAGE_TOKEN], video_token_id=ids["<|video_pad|>"],
                              vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
                              attn_implementation="sdpa")
    torch.set_default_dtype(torch.bfloat16 if CUDA else torch.float32)
    with torch.device("cuda" if CUDA else "cpu"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    torch.set_default_dtype(torch.float32)
    model.generation_config = tiny.generation_config(tokenizer)
    return model, processor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="7b")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--per-device-batch", type=int, default=4)
    parser.add_argument("--max-completion", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=1008, help="pixels per side after resizing (x28)")
    parser.add_argument("--use-vllm", action="store_true")
    # the speed levers of the recipe's grpo section, off by default (the "before" configuration)
    parser.add_argument("--steps-per-rollout-batch", type=int, default=1, help="grpo.steps_per_rollout_batch")
    parser.add_argument("--static-cache", action="store_true", help="grpo.cache_implementation: static")
    parser.add_argument("--compile-generation", action="store_true", help="grpo.compile_generation (static cache)")
    parser.add_argument("--liger", action="store_true", help="grpo.use_liger_kernel (pip install liger-kernel)")
    parser.add_argument("--no-checkpointing", action="store_true", help="grpo.gradient_checkpointing: false")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from datasets import Dataset, Image
    from trl import GRPOConfig, GRPOTrainer
    from trl.trainer import grpo_trainer

    from rewardmap.datasets.synthetic import synth_dataset
    from rewardmap.rewards import RewardConfig
    from rewardmap.rewards.adapters import make_trl_reward
    from rewardmap.datasets.records import load_records
    from rewardmap.train.data import grpo_rows, target_text
    from rewardmap.train.timing import PHASES, StepTiming

    tmp = Path(tempfile.mkdtemp())
    synth_dataset(tmp / "data", cities=4, seed=0, size=1024, per_city=args.prompts)
    records = load_records(tmp / "data")
    rows = grpo_rows(records[: args.prompts * args.steps * args.steps_per_rollout_batch])
    t0 = time.perf_counter()
    model, processor = build(args.size, [r["question"] for r in records] + [target_text(r) for r in records],
                             args.image_size)
    build_s = time.perf_counter() - t0
    # The reference model is a copy of the random policy (TRL would load it from a path).
    grpo_trainer.create_model_from_path = lambda *a, **k: copy.deepcopy(model).eval()
    completions = args.prompts * args.generations
    accumulation = completions // args.per_device_batch
    config = GRPOConfig(
        output_dir=str(tmp / "out"), bf16=CUDA, use_cpu=not CUDA,
        activation_checkpointing=CUDA and not args.no_checkpointing,
        learning_rate=1e-6, cache_implementation="static" if args.static_cache or args.compile_generation else None,
        use_liger_kernel=args.liger,
        lr_scheduler_type="constant", weight_decay=0.01, max_grad_norm=1.0, beta=1e-3, use_bias_correction_kl=False,
        epsilon=0.2, entropy_coef=1e-3, loss_type="dapo", scale_rewards="group", temperature=1.0,
        num_generations=args.generations, per_device_train_batch_size=args.per_device_batch,
        gradient_accumulation_steps=accumulation, steps_per_generation=accumulation * args.steps_per_rollout_batch,
        max_completion_length=args.max_completion, max_steps=args.steps, shuffle_dataset=False, logging_steps=1,
        save_strategy="no", report_to="none", disable_tqdm=True, remove_unused_columns=False,
        use_vllm=args.use_vllm, **({"vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.3}
                                   if args.use_vllm else {}))
    dataset = Dataset.from_list(rows).cast_column("image", Image())
    trainer = GRPOTrainer(model=model, reward_funcs=make_trl_reward(RewardConfig()), args=config,
                          train_dataset=dataset, processing_class=processor)
    trainer.generation_config.disable_compile = not args.compile_generation  # as `rewardmap train` sets it
    timing = StepTiming().attach(trainer)
    trainer.train()
    levers = {k: getattr(args, k) for k in ("steps_per_rollout_batch", "static_cache", "compile_generation", "liger",
                                            "no_checkpointing", "per_device_batch", "image_size")}
    results = {"gpu": torch.cuda.get_device_name() if CUDA else "cpu", "size": args.size, "build_seconds": build_s,
               "prompts": args.prompts, "generations": args.generations, "max_completion": args.max_completion,
               "image_tokens": (args.image_size // 28) ** 2, "use_vllm": args.use_vllm, "levers": levers,
               "steps": timing.periods}
    print(json.dumps(results, indent=1))
    print("seconds per phase, step by step (step 1 warms up):")
    print("step " + " ".join(f"{p:>9.9}" for p in ("total", *PHASES)) + "  gen tok/s  MFU")
    for p in timing.periods:
        print(f"{p['step']:>4} " + " ".join(f"{p[k]:9.2f}" for k in ("time/step", *(f"time/{q}" for q in PHASES)))
              + f"  {p['tokens/generated_per_s']:9.0f}  {p.get('gpu/mfu', 0):.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
