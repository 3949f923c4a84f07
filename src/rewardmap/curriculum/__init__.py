"""Multi-stage curriculum for GRPO: records in stage order, laid onto TRL's optimizer steps.

    prompts, steps = trl_chunking(grpo_config)          # needs shuffle_dataset=False
    plan = plan_curriculum(records, Curriculum("rewardmap", seed=0),
                           prompts_per_chunk=prompts, steps_per_chunk=steps)
    dataset = Dataset.from_list(list(plan.records))     # in this order; log plan.summary()

How TRL (GRPOTrainer 1.16 on transformers 5) reads the plan. Let G = num_generations,
P = generation_batch_size // G, spg = steps_per_generation, mu = num_iterations and
GA = gradient_accumulation_steps (generation_batch_size is global, over all processes):

- `RepeatSampler` cuts the dataset, in order, into chunks of P rows, DROPS an incomplete
  last chunk, and yields each chunk mu * spg times, every row G times in a row.
- One dataloader batch, over all processes, is generation_batch_size = P * G indices: one
  pass over a chunk. So chunk k (0-based) is micro-steps [k * mu * spg, (k+1) * mu * spg);
  TRL generates on the first of them and trains the rest on slices of that generation.
- The Trainer steps the optimizer every GA micro-steps, and once more for a remainder at
  the end of the epoch. Hence `steps_per_chunk = spc = mu * spg / GA` (= mu with TRL's
  default spg = GA; a Fraction when GA does not divide mu * spg): chunk k trains at the
  1-based optimizer steps (`state.global_step` after the step) floor(k * spc) + 1 through
  ceil((k+1) * spc), and an epoch is ceil(chunks * spc) steps. `trl_chunking(config)`
  gives P and spc.

Two rules keep every record trained exactly once, as planned:

- Chunks may straddle a stage boundary: padding a stage would repeat records and cutting
  it would drop them. The steps that see two stages are `plan.mixed_steps`, and both
  stages' step ranges include them.
- The last incomplete chunk is filled with the last stage's first records again, in plan
  order (`plan.filled` rows, fewer than P, at the very end), so TRL drops nothing.

The plan covers one epoch: leave `max_steps` unset (or equal to `plan.total_steps`).
"""

from .order import difficulty_key, group_by_stage
from .plan import CurriculumPlan, StageSpan, order_records, plan_curriculum, trl_chunking
from .stages import PRESETS, Curriculum, parse_stages, stage_name

__all__ = [
    "PRESETS", "Curriculum", "CurriculumPlan", "StageSpan", "difficulty_key", "group_by_stage", "order_records",
    "parse_stages", "plan_curriculum", "stage_name", "trl_chunking",
]
