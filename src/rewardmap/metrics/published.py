"""The figures the RewardMap paper publishes, in the units of a summary's `published` entry
(`summarize`): difficulty-weighted, accuracies in percent, map scores raw. Both reports put a
run's figures beside them: `rewardmap eval`'s and a training run's. Each table is its
benchmark's `Benchmark.published`, with its columns."""

from __future__ import annotations

PUBLISHED_SOURCE = ("the RewardMap paper's ReasonMap and ReasonMap-Plus tables (difficulty-weighted; accuracies in "
                    "percent, map scores raw)")
# (model, acc short, acc long, map score short, map score long): the paper's ReasonMap table.
PUBLISHED_REASONMAP = (
    ("Qwen2.5-VL-7B", 13.28, 7.12, 4.01, 5.74),
    ("+ GRPO on route questions only", 26.22, 26.04, 5.52, 9.52),
    ("+ SFT on Plus", 13.63, 9.11, 4.09, 6.25),
    ("+ SFT then RL", 28.82, 30.38, 5.88, 10.62),
    ("+ RL on Plus + routes, plain reward", 29.51, 29.51, 6.00, 10.41),
    ("+ RewardMap", 31.51, 31.77, 6.21, 11.22),
    ("Qwen2.5-VL-72B", 26.65, 24.22, 5.09, 8.80),
    ("OpenAI o3", 63.02, 59.11, 9.53, 17.96),
    ("GPT-5", 59.98, 62.50, 9.48, 19.75),
)
# (model, overall, Count, TorF): the paper's ReasonMap-Plus table; None where none was published.
PUBLISHED_PLUS = (
    ("Qwen2.5-VL-7B", 44.21, 37.39, 51.32),
    ("+ GRPO on route questions only", 44.64, None, None),
    ("+ SFT on Plus", 57.93, None, None),
    ("+ SFT then RL", 60.53, None, None),
    ("+ RL on Plus + routes, plain reward", 67.61, None, None),
    ("+ RewardMap", 74.25, 72.18, 76.42),
    ("Qwen2.5-VL-72B", 53.21, None, None),
    ("GPT-5", 88.95, None, None),
)
