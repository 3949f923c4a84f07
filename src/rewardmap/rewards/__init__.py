"""Rewards for ReasonMap and ReasonMap-Plus answers: pure functions of (response, record, network).

`compute_reward` gives a `RewardBreakdown` with `reward = W * (R_format + 10 * correct +
0.5 * detail)`, RewardMap's training reward. `RewardConfig(variant="reference")` reproduces the
released RewardMap code to the letter, quirks included; `variant="robust"` repairs them
(docs/rewards.md lists each repair with an example, and what reward hacks earn in each).
`adapters` wraps the reward for TRL's GRPOTrainer and for verl.

Nothing here logs, prints or reads files while scoring: a network's lookups are built once
(`reward_index`), and every parser (`rewardmap.answers`) runs in time linear in the response's length.
"""

from ..answers.plus import judge_plus, reference_answer, robust_answer
from ..answers.route import Section, reference_sections, robust_sections
from .index import RewardIndex, line_key, reward_index
from .reward import ZERO, RewardBreakdown, RewardConfig, compute_reward

__all__ = [
    "ZERO", "RewardBreakdown", "RewardConfig", "RewardIndex", "Section", "compute_reward", "judge_plus", "line_key",
    "reference_answer", "reference_sections", "reward_index", "robust_answer", "robust_sections",
]
