"""The data phase of GRPO steps on the real ReasonMap maps: each rollout's map decoded and
prepared by the processor (TRL alone) against maps prepared once per run (`grpo.map_cache_mb`,
`rewardmap.train.map_cache`), on the same rows in the same run.

The data phase is what a GRPO step does to its rollout batch besides generating, scoring and
training, as the Trainer runs it: every micro-batch of the step fetched first (their maps
decoded), then each prepared (`GRPOTrainer._prepare_inputs`): the first tokenises the prompts
with their maps for generation and prepares the maps again for the policy's forward pass, the
others take their slice. Generation is replaced by one fixed token and the reward by a
constant. The rows are built as `rewardmap train` builds them under recipes/qwen2.5-vl-7b/base.yaml
(maps brought within its `data.min_pixels` 3,136 / `data.max_pixels` 128,450,560: Dubai is
resized; the map, a newline, the question); the processor has Qwen2.5-VL-7B-Instruct's image
settings (3,136 to 12,845,056 pixels, 14-pixel patches, merge 2, CLIP mean and std, bicubic)
and the tiny model's tokenizer (the model never runs).

Questions come from the real station files of the 11 cities with a map, the same number per
city, in a seeded order as a shuffled curriculum stage draws them. A step is one training
process's share of a rollout batch, `--prompts` x `--generations` rows, one row per micro-batch
(`grpo.per_device_batch_size` 1, as the 7B recipes have it). The paper's 16 prompts x 8 rollouts
over 8 processes gives each 2 x 8; TRL alone then decodes (2 x 8)^2 = 256 maps a step per process
and holds them all at once, more memory than this machine has, so the defaults are smaller.
Steps alternate which trainer goes first; each step's first micro-batch is checked to be identical
(tests/test_map_cache.py compares every one).
Prints each step's seconds, the medians with their spread (min-max), the totals and the speedups.

    OMP_NUM_THREADS=1 python benchmarks/bench_map_prep.py [--steps 24] [--prompts 1] [--generations 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _real_data import REAL_DATA  # noqa: E402  (beside this script)

RECIPE = Path(__file__).resolve().parents[1] / "recipes/qwen2.5-vl-7b/base.yaml"
PROCESSOR_PIXELS = (3136, 12_845_056)  # Qwen2.5-VL-7B-Instruct's preprocessor_config.json


def real_dataset(folder: Path, per_city: int, seed: int):
    """GRPO's rows, as `rewardmap train` builds them under the 7B recipe (maps within its data
    bounds, its prompt), for questions on the real cities that have a map, in a seeded order."""
    from rewardmap.datasets.build import build_dataset
    from rewardmap.datasets.records import load_records
    from rewardmap.train.recipe import load_recipe
    from rewardmap.train.run import grpo_dataset

    stations = folder / "stations"
    for image in sorted((REAL_DATA / "maps").glob("*/*.png")):
        station_file = REAL_DATA / "stations" / image.parent.name / f"{image.stem}.json"
        if station_file.is_file():
            (stations / image.parent.name).mkdir(parents=True, exist_ok=True)
            (stations / image.parent.name / station_file.name).symlink_to(station_file)
    build_dataset(stations, folder / "data", maps=REAL_DATA / "maps", per_city=per_city, seed=seed,
                  types=("TorF1", "TorF2", "Counting1", "Counting2", "Counting3"))
    records = load_records(folder / "data")
    random.Random(seed).shuffle(records)
    return grpo_dataset(load_recipe(str(RECIPE)), folder, records)


def seven_b_processor():
    """The tiny model's processor with Qwen2.5-VL-7B-Instruct's image processor settings."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from rewardmap.model.packaged import model_path
    from rewardmap.model.tiny import ImageOnlyQwen2_5_VLProcessor, load_tiny

    model, tiny = load_tiny(model_path("tiny-base"))
    image_processor = Qwen2VLImageProcessorPil(min_pixels=PROCESSOR_PIXELS[0], max_pixels=PROCESSOR_PIXELS[1],
                                               patch_size=14, merge_size=2, temporal_patch_size=2)
    return model, ImageOnlyQwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tiny.tokenizer,
                                               chat_template=tiny.chat_template)


def data_phase_trainer(model, processor, dataset, cache_mb: int, args, out: Path):
    """A GRPOTrainer whose rollouts are one fixed token, and its dataloader's iterator."""
    from trl import GRPOConfig, GRPOTrainer

    from rewardmap.train.map_cache import maps_prepared_once

    class NoGeneration(GRPOTrainer):
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, **kwargs):
            return [[self.eos_token_ids[0]] for _ in prompt_ids], None

    def constant(completions, **columns):
        return [0.0] * len(completions)

    batch = args.prompts * args.generations
    config = GRPOConfig(output_dir=str(out), per_device_train_batch_size=1, gradient_accumulation_steps=batch,
                        steps_per_generation=batch, num_generations=args.generations, beta=0.0,
                        max_completion_length=4, shuffle_dataset=False, remove_unused_columns=False,
                        use_cpu=True, report_to="none", disable_tqdm=True)
    dataset, processing, _ = maps_prepared_once(dataset, processor, cache_mb * 2**20)
    trainer = NoGeneration(model=model, reward_funcs=constant, args=config, train_dataset=dataset,
                           processing_class=processing)
    return trainer, iter(trainer.get_train_dataloader())


def timed_step(trainer, batches) -> tuple[float, dict]:
    """One optimizer step's data phase as the Trainer runs it: every micro-batch of the step
    fetched first (`get_batch_samples`), then each prepared; the first generates the rollout
    batch, the others take their slice of it. Returns (seconds, the first micro-batch's inputs)."""
    start = time.perf_counter()
    samples, _ = trainer.get_batch_samples(batches, trainer.args.gradient_accumulation_steps, trainer.args.device)
    first = None
    for batch in samples:
        inputs = trainer._prepare_inputs(batch)
        first = inputs if first is None else first
        trainer._step += 1  # as `GRPOTrainer.training_step` counts micro-batches
    return time.perf_counter() - start, first


def same(a: dict, b: dict) -> bool:
    import torch

    return list(a) == list(b) and all(torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k]
                                      for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--prompts", type=int, default=1, help="prompts per step (per training process)")
    parser.add_argument("--generations", type=int, default=2, help="rollouts per prompt")
    parser.add_argument("--per-city", type=int, default=30, help="questions per real city")
    parser.add_argument("--cache-mb", type=int, default=8192, help="grpo.map_cache_mb of the cached trainer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (REAL_DATA / "maps").is_dir():
        print(f"skipped: no real ReasonMap maps at {REAL_DATA} (set $REWARDMAP_REAL_DATA)")
        sys.exit(0)
    import torch
    from datasets import Image
    from transformers.utils import logging as hf_logging

    from rewardmap.images import quiet_pillow

    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp, quiet_pillow():
        tmp = Path(tmp)
        dataset = real_dataset(tmp, args.per_city, args.seed)
        images = dataset.cast_column("image", Image(decode=False))["image"]
        model, processor = seven_b_processor()
        model.train()
        trainers = {"before": data_phase_trainer(model, processor, dataset, 0, args, tmp / "before"),
                    "after": data_phase_trainer(model, processor, dataset, args.cache_mb, args, tmp / "after")}
        cache = trainers["after"][0].processing_class.image_processor.maps
        times, prepared = {"before": [], "after": []}, []
        for step in range(args.steps):
            misses, inputs = cache.misses, {}
            for name in ("before", "after") if step % 2 == 0 else ("after", "before"):
                torch.manual_seed(args.seed + step)  # TRL shuffles the rollout batch: the same way for both
                seconds, inputs[name] = timed_step(*trainers[name])
                times[name].append(seconds)
            assert same(inputs["before"], inputs["after"]), f"step {step + 1}: the cached trainer's inputs differ"
            del inputs
            prepared.append(cache.misses - misses)
            maps = sorted({Path(image["path"]).stem.split("-")[0]
                           for image in images[step * args.prompts:(step + 1) * args.prompts]})
            print(f"step {step + 1}: before {times['before'][-1]:.2f} s, after {times['after'][-1]:.2f} s "
                  f"({', '.join(maps)}; maps prepared by the cache: {prepared[-1]})", flush=True)
    table = Table(title=f"GRPO data phase per step: {args.prompts} prompt(s) x {args.generations} rollouts, real "
                        f"maps, 7B pixel settings, {args.steps} steps")
    for col in ("", "steps", "s/step, median", "min-max", "total s"):
        table.add_column(col)
    warm = [t for t, p in zip(times["after"], prepared) if not p]
    for label, t in (("before: each rollout's map prepared (TRL alone)", times["before"]),
                     ("after: maps prepared once (map cache)", times["after"]),
                     ("after, steps that prepared no map", warm)):
        if t:
            table.add_row(label, str(len(t)), f"{statistics.median(t):.2f}", f"{min(t):.2f}-{max(t):.2f}",
                          f"{sum(t):.1f}")
    Console(width=160).print(table)
    speedups = [b / a for b, a in zip(times["before"], times["after"])]
    print(f"speedup: {statistics.median(times['before']) / statistics.median(times['after']):.1f}x of the medians, "
          f"{sum(times['before']) / sum(times['after']):.1f}x of the totals, "
          f"per step {statistics.median(speedups):.1f}x median ({min(speedups):.1f}-{max(speedups):.1f}x). "
          f"Cache: {len(cache)} maps, {cache.bytes / 2**20:.0f} MB, {cache.hits} hits, {cache.misses} misses. "
          "Each step's first micro-batch is identical.")


if __name__ == "__main__":
    main()
