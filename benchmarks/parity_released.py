"""Our GRPO objective against the released RewardMap trainer's, number by number.

One batch (4 prompts with synthetic maps, 8 or 4 rollouts each of 3 to 40 tokens, some cut at the
length limit, rewards on the method's scale with one group all equal, old and reference
log-probabilities drawn around the policy's own, the shipped tiny model's weights, float64) goes:

- through our GRPO step as the 7B recipe configures it (`grpo_config_kwargs`; the model swapped
  for the tiny one, no vLLM, no bf16): TRL's own `_generate_and_score_completions` (generation
  replaced by the fixed completions, reward by the fixed rewards) computes the advantages, TRL's
  `compute_loss` the loss of each micro-batch, backward the gradients;
- through the released trainer's own functions, loaded from a checkout of its repository (read,
  never copied): `compute_grpo_outcome_advantage` of verl/trainer/core_algos.py, and
  `DataParallelPPOActor.update_policy` of verl/workers/actor/dp_actor.py run whole (policy loss,
  entropy bonus, `low_var_kl` loss, micro-batches of one sequence, division by the accumulation
  count) with the released script's micro-batch size.

It prints the largest relative difference (max |ours - released| / max |released|) of the
advantages, each loss term, the total loss and every parameter's gradient, for the paper's
settings (rewardmap.yaml) and the released script's (rewardmap-released-script.yaml), against the
released side as released, with TRL's advantage epsilon (the one mapped term that differs), and
with that and float32 log-probabilities (TRL's kernel takes them in float32 whatever the model's
dtype); then the float32 floor (the released code against itself, float32 log-probabilities
against float64) and the KL clamp's reach. The last line, `parity: max relative difference X`,
is the largest difference of the third comparison: the objectives alone.

    python benchmarks/parity_released.py --reference DIR             # DIR: a RewardMap checkout
    python benchmarks/parity_released.py --reference DIR --write-fixture tests/fixtures/parity_released.json
    python benchmarks/parity_released.py --fixture tests/fixtures/parity_released.json   # no checkout

With `--fixture`, the released side's numbers come from the file (written once from the checkout
by `--write-fixture`), and the gradients are compared by their norm, sum and a fixed random
projection per parameter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"paper": "recipes/qwen2.5-vl-7b/rewardmap.yaml",
            "script": "recipes/qwen2.5-vl-7b/rewardmap-released-script.yaml"}
PROMPTS, SEED = 4, 0
TRL_ADVANTAGE_EPSILON, RELEASED_ADVANTAGE_EPSILON = 1e-4, 1e-6  # TRL hard-codes its epsilon
GOAL = 1e-6
# The released side as released; with TRL's advantage epsilon (the one known difference of a mapped
# term); and with both that and its log-probabilities and entropies taken in float32, as TRL's
# chunked log-probability kernel takes them whatever the model's dtype. The last column compares
# the objectives alone: the parity line is its largest difference.
COLUMNS = {"as released": (RELEASED_ADVANTAGE_EPSILON,), "epsilon aligned": (TRL_ADVANTAGE_EPSILON,),
           "+ float32 log-probs": (TRL_ADVANTAGE_EPSILON, True)}


# ------------------------------------------------------------------ the released code, loaded

def load_released(reference: Path) -> dict:
    """The released modules, imported from REFERENCE without running `verl/__init__.py` (which
    imports ray and the whole distributed stack): the packages are registered empty, so only
    the files named here and what they import are executed."""
    if not (reference / "verl" / "trainer" / "core_algos.py").is_file():
        sys.exit(f"{reference}: not a RewardMap checkout (no verl/trainer/core_algos.py)")
    for name in [n for n in sys.modules if n == "verl" or n.startswith("verl.")]:
        del sys.modules[name]
    for package in ("verl", "verl.utils", "verl.trainer", "verl.workers", "verl.workers.actor", "verl.models",
                    "verl.models.transformers"):
        module = types.ModuleType(package)
        module.__path__ = [str(reference / package.replace(".", "/"))]
        sys.modules[package] = module
    sys.modules["verl"].DataProto = ReleasedBatch  # the type dp_actor annotates with
    return {"core_algos": importlib.import_module("verl.trainer.core_algos"),
            "dp_actor": importlib.import_module("verl.workers.actor.dp_actor"),
            "config": importlib.import_module("verl.workers.actor.config"),
            "rl_dataset": importlib.import_module("verl.utils.rl_dataset")}


class ReleasedBatch:
    """What `update_policy` reads of a verl `DataProto`: select, split, to, batch, non_tensor_batch, meta_info."""

    def __init__(self, batch: dict, non_tensor_batch: dict, meta_info: dict):
        self.batch, self.non_tensor_batch, self.meta_info = batch, non_tensor_batch, meta_info

    def __len__(self):
        return len(next(iter(self.batch.values())))

    def select(self, keys, non_tensor_keys=None):
        return ReleasedBatch({k: self.batch[k] for k in keys},
                             {k: self.non_tensor_batch[k] for k in non_tensor_keys or ()}, self.meta_info)

    def split(self, size: int):
        return [ReleasedBatch({k: v[i:i + size] for k, v in self.batch.items()},
                              {k: v[i:i + size] for k, v in self.non_tensor_batch.items()}, self.meta_info)
                for i in range(0, len(self), size)]

    def to(self, device):  # the released actor moves each micro-batch to "cuda"; here all stays on the CPU
        return self


class GradientRecorder:
    """The released actor's optimizer, replaced: `step` keeps the gradients instead of applying them."""

    def __init__(self, model):
        self.model, self.gradients = model, None

    def zero_grad(self):
        self.model.zero_grad(set_to_none=True)

    def step(self):
        self.gradients = {n: p.grad.detach().clone() for n, p in self.model.named_parameters() if p.grad is not None}


# ------------------------------------------------------------------ the batch

def build_recipe(setting: str):
    """The recipe of SETTING with the tiny model on the CPU, 4 prompts a step, rollouts of 40 tokens at most."""
    from rewardmap.train.recipe import load_recipe

    return load_recipe(ROOT / SETTINGS[setting], overrides=[
        "model.name_or_path=tiny-base", "model.dtype=float32", "model.device=cpu", "grpo.use_vllm=false",
        "grpo.bf16=false", "grpo.gradient_checkpointing=false", f"grpo.prompts_per_step={PROMPTS}",
        "grpo.report_to=none", "grpo.max_completion_length=40"])


@dataclass
class Case:
    recipe: object
    trainer: object  # TRL's GRPOTrainer for the recipe
    batch: dict  # TRL's generation batch, with the old and reference log-probabilities set
    rewards: list[float]
    current: torch.Tensor  # the policy's own log-probabilities of the completions
    twin: object  # the same weights in a model of their own, for the released actor
    records: list[dict]  # the questions of the batch, one per prompt


def build(setting: str, work: Path, data: Path) -> Case:
    """The recipe of SETTING with the tiny model, TRL's trainer for it, and TRL's generation batch
    for the fixed completions and rewards."""
    from trl import GRPOConfig, GRPOTrainer

    from rewardmap.datasets.records import load_records
    from rewardmap.datasets.synthetic import synth_dataset
    from rewardmap.train.policy import load_policy
    from rewardmap.train.recipe import grpo_config_kwargs
    from rewardmap.train.run import grpo_dataset

    recipe = build_recipe(setting)
    if not (data / "questions.jsonl").is_file():
        synth_dataset(data, cities=2, seed=SEED, size=256, per_city=18)
    records = load_records(data)
    chosen = [next(r for r in records if r["type"] == t) for t in ("TorF1", "Counting2", "Counting1", "planning")]
    model, processor = load_policy(recipe, work, [])
    model = model.to(torch.float64)
    twin = load_policy(recipe, work, [])[0].to(torch.float64)  # not a deepcopy: the trainer binds forward wrappers
    twin.load_state_dict(model.state_dict())
    rows = grpo_dataset(recipe, work, chosen)  # as `rewardmap train` builds it
    config = GRPOConfig(**grpo_config_kwargs(recipe, work / "grpo", num_processes=1), disable_tqdm=True)
    g = config.num_generations
    rewards = _rewards(g)
    trainer = GRPOTrainer(model=model, reward_funcs=lambda prompts, completions, **_: rewards[:len(completions)],
                          args=config, train_dataset=rows, processing_class=processor)
    completions = _completions(processor.tokenizer, PROMPTS * g, config.max_completion_length)
    trainer._generate_single_turn = lambda prompt_ids, *args, **kwargs: (completions, None)
    trainer.model.train()
    batch = trainer._generate_and_score_completions([rows[i] for i in range(PROMPTS) for _ in range(g)])
    current = _old_and_reference(trainer, batch)
    return Case(recipe, trainer, batch, rewards, current, twin, chosen)


def _rewards(g: int) -> list[float]:
    """Rewards on the method's scale (10 x W for a right answer, partial detail credit, 0), one group
    all equal (its advantages are 0 in both trainers)."""
    rng = np.random.default_rng(SEED)
    values = [0.0, 1.0, 5.0, 10.0, 12.0, 15.0, 17.5]
    rewards = [float(v) for v in rng.choice(values, size=PROMPTS * g)]
    rewards[g:2 * g] = [10.0] * g
    return rewards


def _completions(tokenizer, n: int, limit: int) -> list[list[int]]:
    """N completions of ordinary tokens, 3 to LIMIT long; every third cut at LIMIT (no end token)."""
    rng = np.random.default_rng(SEED + 1)
    special = set(tokenizer.all_special_ids) | {tokenizer.convert_tokens_to_ids(t) for t in tokenizer.get_vocab()
                                                if t.startswith("<|")}
    ordinary = [i for i in range(len(tokenizer)) if i not in special]
    out = []
    for k in range(n):
        if k % 3 == 2:
            out.append([int(t) for t in rng.choice(ordinary, size=limit)])
        else:
            length = int(rng.integers(3, limit))
            out.append([int(t) for t in rng.choice(ordinary, size=length - 1)] + [tokenizer.eos_token_id])
    return out


def _old_and_reference(trainer, batch: dict) -> torch.Tensor:
    """Old and reference log-probabilities around the policy's own (so that the clip and the KL act):
    the old ones 0.3 nats apart on average, the reference 0.5."""
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    with torch.no_grad():
        current, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, ids, mask, batch["completion_ids"].size(1), batch_size=len(ids),
            pixel_values=batch["pixel_values"], image_grid_thw=batch["image_grid_thw"], num_images=batch["num_images"],
            mm_token_type_ids=batch["mm_token_type_ids"])  # without it Qwen2.5-VL's rope positions are wrong
    rng = torch.Generator().manual_seed(SEED + 2)
    batch["old_per_token_logps"] = current + 0.3 * torch.randn(current.shape, generator=rng)
    batch["ref_per_token_logps"] = current + 0.5 * torch.randn(current.shape, generator=rng)
    return current


# ------------------------------------------------------------------ our side: TRL as the recipe configures it

def ours(trainer, batch: dict) -> dict:
    """Advantages, loss terms, total loss and gradients of TRL's step on BATCH, micro-batch by
    micro-batch as `_prepare_inputs` splits it (its shuffle left out, so that both sides see the
    sequences in one order; with one sequence per micro-batch the loss does not depend on it)."""
    from trl.trainer.utils import split_pixel_values_by_grid, split_tensor_dict, unsplit_pixel_values_by_grid

    args = trainer.args
    parts = [unsplit_pixel_values_by_grid(p)
             for p in split_tensor_dict(split_pixel_values_by_grid(dict(batch)), args.steps_per_generation)]
    trainer.current_gradient_accumulation_steps = args.gradient_accumulation_steps
    beta, coef = trainer.beta, trainer.entropy_coef

    def total(kl: float, entropy: float, backward: bool = False) -> float:
        trainer.beta, trainer.entropy_coef = kl, entropy
        trainer._entropy_bonus_enabled = entropy != 0
        value = 0.0
        for part in parts:
            with torch.set_grad_enabled(backward):
                loss = trainer.compute_loss(trainer.model, part)
            if backward:
                loss.backward()
            value += loss.item()
        return value

    trainer.model.zero_grad(set_to_none=True)
    loss = total(beta, coef, backward=True)
    gradients = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    policy = total(0.0, 0.0)
    terms = {"policy": policy,
             "kl": (total(beta, 0.0) - policy) / beta if beta else 0.0,
             "entropy": (policy - total(0.0, coef)) / coef if coef else 0.0}
    trainer.beta, trainer.entropy_coef, trainer._entropy_bonus_enabled = beta, coef, coef != 0
    return {"advantages": batch["advantages"].detach().clone(), "terms": terms, "loss": loss, "gradients": gradients}


# ------------------------------------------------------------------ the released side

def released(code: dict, case: Case, epsilon: float, float32_logits: bool = False) -> dict:
    """The same batch through the released advantage function and `update_policy`, with the
    recipe's settings and the script's micro-batch of one sequence. FLOAT32_LOGITS: the model's
    logits in float32, so that the released code takes its log-probabilities and entropies in
    float32, as TRL's log-probability kernel does whatever the model's dtype."""
    core = code["core_algos"]
    batch, rewards, g = case.batch, case.rewards, case.recipe.grpo
    n = len(rewards)
    mask = batch["completion_mask"].to(torch.float64)
    last = mask.sum(-1).long() - 1
    token_rewards = torch.zeros_like(mask)
    token_rewards[torch.arange(n), last] = torch.tensor(rewards)  # verl puts the score on the last response token
    index = np.array([str(i // g.num_generations) for i in range(n)], dtype=object)
    advantages, _ = core.compute_grpo_outcome_advantage(token_rewards, mask, index, epsilon=epsilon)

    model = case.twin
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    grids = batch["image_grid_thw"]
    rope = code["rl_dataset"].get_rope_index  # what the released dataset stores per prompt, (3, length)
    positions = torch.stack([rope(case.trainer.processing_class, input_ids=ids[i], image_grid_thw=grids[i:i + 1],
                                  attention_mask=attention[i]) for i in range(n)])
    patches = [int(t * h * w) for t, h, w in grids.tolist()]
    data = ReleasedBatch(
        {"responses": batch["completion_ids"], "input_ids": ids, "attention_mask": attention,
         "position_ids": positions, "old_log_probs": batch["old_per_token_logps"],
         "advantages": advantages, "ref_log_prob": batch["ref_per_token_logps"]},
        {"pixel_values": list(batch["pixel_values"].split(patches)), "image_grid_thw": [r[None] for r in grids]},
        {"temperature": g.temperature})
    config = code["config"].ActorConfig(global_batch_size=n, clip_ratio=g.epsilon, entropy_coeff=g.entropy_coef,
                                        use_kl_loss=g.beta > 0, kl_loss_coef=g.beta, kl_loss_type="low_var_kl",
                                        max_grad_norm=math.inf)  # unclipped: the gradients are compared before the clip
    config.global_batch_size_per_device = n  # one process, one update for the whole rollout batch
    config.micro_batch_size_per_device_for_update = 1  # the released script's setting
    actor = code["dp_actor"].DataParallelPPOActor(config, model, GradientRecorder(model))
    rounding = model.get_output_embeddings().register_forward_hook(
        lambda module, inputs, output: output.float()) if float32_logits else None
    metrics = actor.update_policy(data)
    # update_policy logs the KL of its last micro-batch only: each sequence's is recomputed with the
    # released forward pass, kl_penalty and masked_mean (the weights are those of the update: the
    # recorder applied nothing)
    kl_terms = []
    with torch.no_grad():
        for part in data.split(1):
            _, logp = actor._forward_micro_batch({**part.batch, **part.non_tensor_batch}, temperature=g.temperature)
            kld = core.kl_penalty(logprob=logp, ref_logprob=part.batch["ref_log_prob"], kl_penalty="low_var_kl")
            kl_terms.append(float(core.verl_F.masked_mean(kld, part.batch["attention_mask"][:, -logp.size(1):])))
    if rounding:
        rounding.remove()
    terms = {"policy": float(np.mean(metrics["actor/pg_loss"])), "kl": float(np.mean(kl_terms)),
             "entropy": float(np.mean(metrics["actor/entropy_loss"]))}
    loss = terms["policy"] - g.entropy_coef * terms["entropy"] + g.beta * terms["kl"]
    return {"advantages": advantages[:, 0].clone(), "terms": terms, "loss": loss,
            "gradients": actor.actor_optimizer.gradients}


# ------------------------------------------------------------------ the data path

def released_prompts(code: dict, case: Case, work: Path) -> list[list[int]]:
    """The prompt token ids the released dataset (`RLHFDataset.__getitem__`, with the released
    script's system prompt and pixel bounds) builds for the batch's questions, left padding
    removed; its image grids and pixel values are checked against TRL's on the way."""
    import contextlib
    import io

    from datasets import Dataset, DatasetDict

    folder = work / "released-dataset"
    columns = [{"question": r["question"], "figure": r["figure"], "type": r["type"]} for r in case.records]
    DatasetDict({"train": Dataset.from_list(columns)}).save_to_disk(str(folder))
    processor, d = case.trainer.processing_class, case.recipe.data
    with contextlib.redirect_stdout(io.StringIO()):  # it prints each prompt's length
        dataset = code["rl_dataset"].RLHFDataset(
            str(folder), processor.tokenizer, processor, prompt_key="question", max_prompt_length=20000,
            truncation="right", system_prompt="You are a helpful assistant.", min_pixels=d.min_pixels,
            max_pixels=d.max_pixels)
        items = {item["question"]: item for item in (dataset[i] for i in range(len(dataset)))}
    g, batch, out = case.recipe.grpo.num_generations, case.batch, []
    patches = [int(t * h * w) for t, h, w in batch["image_grid_thw"].tolist()]
    pixels = batch["pixel_values"].split(patches)
    for k, record in enumerate(case.records):
        item, row = items[record["question"]], k * g
        if not (torch.equal(item["image_grid_thw"], batch["image_grid_thw"][row:row + 1])
                and torch.equal(item["pixel_values"].to(pixels[row].dtype), pixels[row])):
            sys.exit(f"{record['figure']}: the released dataset's image grid or pixels differ from TRL's")
        out.append(item["input_ids"][item["attention_mask"].bool()].tolist())
    return out


def our_prompts(case: Case) -> list[list[int]]:
    g, batch = case.recipe.grpo.num_generations, case.batch
    return [batch["prompt_ids"][k * g][batch["prompt_mask"][k * g].bool()].tolist() for k in range(PROMPTS)]


def report_prompts(case: Case, theirs: list[list[int]]) -> int:
    """Print how our prompts differ from the released ones; returns the number of differing tokens."""
    import difflib

    tokenizer, differing = case.trainer.processing_class.tokenizer, 0
    for ours, released_ids in zip(our_prompts(case), theirs, strict=True):
        changes = [op for op in difflib.SequenceMatcher(a=ours, b=released_ids, autojunk=False).get_opcodes()
                   if op[0] != "equal"]
        differing += sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in changes)
        shown = "; ".join(f"ours {tokenizer.decode(ours[i1:i2])!r}, released {tokenizer.decode(released_ids[j1:j2])!r}"
                          for _, i1, i2, j1, j2 in changes[:3])
        print(f"  prompt of {len(ours)} tokens (released {len(released_ids)}): "
              + (f"{len(changes)} difference(s): {shown}" if changes else "identical"))
    return differing


def map_grids(code: dict, maps: Path, recipe) -> None:
    """Each real map through the released loader and resize (`_figure_to_pil`, `process_image`) and
    through ours (`bounded_maps`, then decoding as training does), into an image processor with
    Qwen2.5-VL-7B-Instruct's published pixel bounds: the grids (image tokens) and pixel values
    must be equal."""
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from rewardmap.images import quiet_pillow
    from rewardmap.train.map_bounds import bounded_maps

    processor = Qwen2VLImageProcessorPil(min_pixels=3136, max_pixels=12_845_056, patch_size=14, merge_size=2,
                                         temporal_patch_size=2)
    d, ds = recipe.data, code["rl_dataset"]
    paths = sorted(str(p) for p in maps.rglob("*.png"))
    with tempfile.TemporaryDirectory() as tmp, quiet_pillow():
        ours = bounded_maps(paths, Path(tmp), d.min_pixels, d.max_pixels)
        print(f"\nmaps: {len(paths)} real maps, data.min_pixels {d.min_pixels}, data.max_pixels {d.max_pixels}, "
              "processor bounds 3,136 to 12,845,056 pixels")
        for path in paths:
            released = processor([ds.process_image(ds._figure_to_pil(path, None), d.max_pixels, d.min_pixels)],
                                 return_tensors="pt")
            with Image.open(ours[path]) as image:
                mine = processor([image], return_tensors="pt")
            same = torch.equal(mine["image_grid_thw"], released["image_grid_thw"]) and torch.equal(
                mine["pixel_values"], released["pixel_values"])
            t, h, w = released["image_grid_thw"][0].tolist()
            print(f"  {Path(path).stem:<16} grid {t}x{h}x{w}, {t * h * w // 4:>6} image tokens: "
                  + ("identical" if same else f"DIFFERENT (ours {mine['image_grid_thw'][0].tolist()})"))
            if not same:
                sys.exit(f"{path}: our training would feed the model other pixels than the released trainer")


# ------------------------------------------------------------------ comparison

def relative(ours, theirs) -> float:
    """max |ours - theirs| / max |theirs| (0 where both are 0)."""
    a, b = torch.as_tensor(ours, dtype=torch.float64), torch.as_tensor(theirs, dtype=torch.float64)
    scale = b.abs().max().item()
    diff = (a - b).abs().max().item()
    return diff / scale if scale else diff


def summary(gradients: dict) -> dict:
    """Per parameter: norm, sum and a fixed random projection (what the fixture keeps of a gradient)."""
    out = {}
    for name, grad in sorted(gradients.items()):
        rng = torch.Generator().manual_seed(SEED + 3)
        direction = torch.randn(grad.shape, generator=rng, dtype=torch.float64)
        out[name] = [grad.norm().item(), grad.sum().item(), (grad * direction).sum().item()]
    return out


def reduce(result: dict) -> dict:
    """RESULT as the fixture keeps it."""
    return {"advantages": result["advantages"].tolist(), "terms": result["terms"], "loss": float(result["loss"]),
            "gradients": summary(result["gradients"])}


def differences(mine: dict, theirs: dict) -> dict:
    """Relative differences of every compared quantity (gradients by their fixture summary
    when THEIRS holds summaries only)."""
    out = {"advantages": relative(mine["advantages"], theirs["advantages"])}
    out.update({f"{name} term": relative(mine["terms"][name], theirs["terms"][name]) for name in mine["terms"]})
    out["total loss"] = relative(mine["loss"], theirs["loss"])
    if set(mine["gradients"]) != set(theirs["gradients"]):
        sys.exit(f"parameters differ: {sorted(set(mine['gradients']) ^ set(theirs['gradients']))[:5]}")
    summaries = isinstance(next(iter(theirs["gradients"].values())), list)
    mine_g = summary(mine["gradients"]) if summaries else mine["gradients"]
    grads = {name: relative(mine_g[name], theirs["gradients"][name]) for name in theirs["gradients"]}
    worst = max(grads, key=grads.get)
    out[f"gradients, worst of {len(grads)} parameters"] = grads[worst]
    out["worst parameter"] = worst
    return out


def report(setting: str, case: Case, rows: dict[str, dict]) -> float:
    """Print the table of SETTING; returns the largest difference of the aligned comparison."""
    g, batch = case.recipe.grpo, case.batch
    tokens = int(batch["completion_mask"].sum())
    print(f"\n{setting} ({SETTINGS[setting]}): {PROMPTS} prompts x {g.num_generations} rollouts, {tokens} "
          f"completion tokens; loss_type {g.loss_type}, beta {g.beta}, entropy_coef {g.entropy_coef}, "
          f"epsilon {g.epsilon}, one sequence per micro-batch ({g.per_device_batch_size} per device)")
    worst = {label: row["worst parameter"] for label, row in rows.items()}
    print(f"  {'relative difference of':<40}" + "".join(f"{label:>21}" for label in rows))
    for name in [n for n in next(iter(rows.values())) if n != "worst parameter"]:
        print(f"  {name:<40}" + "".join(f"{rows[label][name]:>21.3e}" for label in rows))
    print("  worst parameter: " + ", ".join(f"{worst[label]} ({label})" for label in rows))
    # the released low_var_kl clamps each token's k3 to [-10, 10]; TRL's is unclamped
    x = batch["ref_per_token_logps"] - case.current
    clamped = int(((torch.exp(x) - x - 1 > 10) & batch["completion_mask"].bool()).sum())
    print(f"  KL clamp of the released low_var_kl: {clamped} of {tokens} tokens beyond 10 (no effect on this batch "
          "unless above 0)")
    return max(v for k, v in rows["+ float32 log-probs"].items() if k != "worst parameter")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="a checkout of the released RewardMap repository")
    parser.add_argument("--fixture", type=Path, help="released numbers written earlier by --write-fixture")
    parser.add_argument("--write-fixture", type=Path, help="write the released side's numbers here")
    parser.add_argument("--json", type=Path, help="write every relative difference here")
    parser.add_argument("--maps", type=Path, help="a folder of real maps (*.png) to send through both loaders "
                        "(with --reference)")
    args = parser.parse_args()
    if (args.reference is None) == (args.fixture is None):
        parser.error("give --reference DIR (a RewardMap checkout) or --fixture FILE")
    if args.write_fixture and not args.reference:
        parser.error("--write-fixture needs --reference")
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(SEED)
    code = load_released(args.reference.resolve()) if args.reference else None
    stored = json.loads(args.fixture.read_text(encoding="utf-8")) if args.fixture else None
    out, worst, floors, table = {}, 0.0, [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for setting in SETTINGS:
            case = build(setting, Path(tmp) / setting, Path(tmp) / "data")
            mine = ours(case.trainer, case.batch)
            if code:
                theirs = {label: released(code, case, *how) for label, how in COLUMNS.items()}
                out[setting] = {label: reduce(result) for label, result in theirs.items()}
            else:
                theirs = {k: v for k, v in stored["settings"][setting].items() if k != "float32 floor"}
            rows = {label: differences(mine, result) for label, result in theirs.items()}
            if setting == "paper":  # the prompts do not depend on the GRPO settings
                print("\nprompts: the released dataset's against TRL's, same questions, maps and tokenizer")
                prompts = released_prompts(code, case, Path(tmp)) if code else stored["prompts"]
                out["prompts"] = prompts
                prompt_tokens = report_prompts(case, prompts)
            if code:  # how far float32 log-probabilities alone move the released code's own numbers
                floor = differences(theirs["+ float32 log-probs"], theirs["epsilon aligned"])
                out[setting]["float32 floor"] = floor
            else:
                floor = stored["settings"][setting]["float32 floor"]
            rows["float32 floor"] = floor
            table[setting] = rows
            floors.append(max(v for k, v in floor.items() if k != "worst parameter"))
            worst = max(worst, report(setting, case, rows))
    print(f"\n'as released': the released advantage epsilon ({RELEASED_ADVANTAGE_EPSILON:g}); TRL adds "
          f"{TRL_ADVANTAGE_EPSILON:g} to each group's standard deviation (fixed in its code). 'epsilon aligned': the "
          "released function called with TRL's epsilon. '+ float32 log-probs': also its log-probabilities and entropies "
          "taken in float32, as TRL's kernel takes them; the parity line is this column. 'float32 floor': the released "
          "code against itself, float32 log-probabilities against float64: what rounding alone moves.")
    print(f"float32 floor: {max(floors):.3e}")
    if args.write_fixture:
        how = {"made_by": "python benchmarks/parity_released.py --reference DIR --write-fixture "
                          f"{args.write_fixture}", "reference": _revision(args.reference),
               "torch": torch.__version__, "python": platform.python_version(),
               "note": "the released side's numbers for the batch this script builds; gradients as "
                       "[norm, sum, projection on a seeded random direction] per parameter"}
        import transformers
        import trl

        how.update(transformers=transformers.__version__, trl=trl.__version__)
        args.write_fixture.parent.mkdir(parents=True, exist_ok=True)
        prompts = out.pop("prompts")
        args.write_fixture.write_text(json.dumps({"how": how, "settings": out, "prompts": prompts}, indent=1) + "\n",
                                      encoding="utf-8")
        print(f"wrote {args.write_fixture}")
    if args.json:
        args.json.write_text(json.dumps({"settings": table, "parity": worst, "float32 floor": max(floors),
                                         "prompt tokens differing": prompt_tokens}, indent=1), encoding="utf-8")
    if args.maps and code:
        map_grids(code, args.maps, build_recipe("paper"))
    print(f"parity: max relative difference {worst:.3e}")
    # with the fixture the gradients are compared by summaries, whose rounding is of the floor's size
    return 0 if worst <= max(GOAL, 2 * max(floors)) else 1


def _revision(reference: Path) -> str:
    """The checkout's commit, when git can tell."""
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(reference), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
