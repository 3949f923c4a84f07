"""The RewardMap training reward: `reward = W * (R_format + 10 * correct + 0.5 * detail)`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral, Real
from typing import NamedTuple

from ..answers import plus, route
from ..answers.text import clean_once
from ..answers.variants import TRAINING, check_variant
from ..errors import check_choice
from ..network import Network
from ..questions.kinds import DIFFICULTIES, PLUS_TYPES, ROUTE_TYPE
from . import route_reward
from .index import reward_index

VARIANTS = TRAINING  # what the reward accepts, read here by train.recipe's choices
_LEVEL = {difficulty: i for i, difficulty in enumerate(DIFFICULTIES)}
MODES = ("difficulty_aware", "baseline")


@dataclass(frozen=True)
class RewardConfig:
    """How a response is scored: the variant, the mode and the reward's coefficients.

    variant: one of `answers.variants.TRAINING`: "reference" reproduces the released code,
        quirks included; "robust" repairs them (see docs/rewards.md). Checked here, trusted
        by the scoring below.
    mode: "difficulty_aware" weights by map difficulty and transfers; "baseline" uses W = 1.
    map_weights: W for an easy, middle and hard map.
    transfer_bonus: added to W for a route question whose reference route has transfers.
    alpha: the coefficient of the detail reward (route questions only).
    correct_reward: the reward for a correct answer.
    format_reward: R_format, paid for an answer in exactly the requested form (a `\\boxed{}`
        value for Plus, well-formed sections for routes); None gives 0 for "reference"
        (the released code has no such term) and 1 for "robust".
    """

    variant: str = "reference"
    mode: str = "difficulty_aware"
    map_weights: tuple[float, float, float] = (1.0, 1.2, 1.5)
    transfer_bonus: float = 0.5
    alpha: float = 0.5
    correct_reward: float = 10.0
    format_reward: float | None = None

    def __post_init__(self):
        check_variant("variant", self.variant, TRAINING, ValueError)
        check_choice("mode", self.mode, MODES, ValueError)
        weights = tuple(self.map_weights) if isinstance(self.map_weights, (tuple, list)) else ()
        if len(weights) != 3 or not all(_finite(w) and w > 0 for w in weights):
            raise ValueError(f"map_weights must be three finite numbers > 0, got {self.map_weights!r}")
        object.__setattr__(self, "map_weights", tuple(float(w) for w in weights))
        if self.format_reward is None:
            object.__setattr__(self, "format_reward", 1.0 if self.variant == "robust" else 0.0)
        for name in ("transfer_bonus", "alpha", "correct_reward", "format_reward"):
            value = getattr(self, name)
            if not (_finite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))


def _finite(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


class RewardBreakdown(NamedTuple):
    """One response's reward and its parts: `reward = weight * (format + C * correct + alpha * detail)`.

    parsed: an answer in a readable form was found (a Plus value of the right kind; at
        least one route section).

    A named tuple: one is made per rollout, and a tuple is several times cheaper to build
    than a frozen dataclass.
    """

    parsed: bool
    correct: bool
    detail: float
    weight: float
    format: float
    reward: float

    def as_dict(self) -> dict:
        return self._asdict()


ZERO = RewardBreakdown(parsed=False, correct=False, detail=0.0, weight=0.0, format=0.0, reward=0.0)


def compute_reward(response: str, record: Mapping, network: Network | None,
                   config: RewardConfig = RewardConfig()) -> RewardBreakdown:
    """Score one response to one question.

    `record` needs `type`, `difficulty_city` (unless mode is "baseline"), `answer` (the
    label) for Plus questions, and `station_1`, `station_2`, `question_transfer_count` for
    route questions, whose `network` is the question's city. A response that is not a
    string scores as an empty one. A malformed record (unknown type or difficulty, a label
    or transfer count that is not an integer, no network for a route) gives `ZERO`.

    >>> compute_reward("The answer is \\\\boxed{yes}.", {"type": "TorF1", "answer": 1, "difficulty_city": "hard"}, None)
    RewardBreakdown(parsed=True, correct=True, detail=0.0, weight=1.5, format=0.0, reward=15.0)
    >>> compute_reward("\\\\boxed{\\\\text{Yes}}", {"type": "TorF1", "answer": 1, "difficulty_city": "easy"}, None,
    ...                RewardConfig(variant="robust")).reward
    11.0
    """
    qtype = record.get("type") if type(record) is dict or isinstance(record, Mapping) else None
    weight = _weight(record, qtype, config)
    if weight is None:
        return ZERO
    response = response if isinstance(response, str) else ""
    if qtype in PLUS_TYPES:
        return _plus(response, qtype, record.get("answer"), weight, config)
    return _route(response, record, network, weight, config)


def _weight(record, qtype, config: RewardConfig) -> float | None:
    """W, the map and transfer weight, or None when the record lacks what scoring it needs."""
    if qtype in PLUS_TYPES:
        if not _integer(record.get("answer")):
            return None
        transfers = 0
    elif qtype == ROUTE_TYPE:
        transfers = record.get("question_transfer_count")
        if not (_integer(transfers) and transfers >= 0 and isinstance(record.get("station_1"), str)
                and isinstance(record.get("station_2"), str)):
            return None
    else:
        return None
    if config.mode == "baseline":
        return 1.0
    difficulty = record.get("difficulty_city")
    level = _LEVEL.get(difficulty) if isinstance(difficulty, str) else None
    if level is None:
        return None
    return config.map_weights[level] + (config.transfer_bonus if transfers > 0 else 0.0)


def _integer(value) -> bool:
    return type(value) is int or isinstance(value, Integral) and not isinstance(value, bool)


# Rollouts repeat short answers ("\\boxed{3}", the same route from several samples of a
# group), so reading a response is memoised up to this length; longer ones are read afresh.
MEMO_LENGTH = 1024


def _plus(response: str, qtype: str, label: int, weight: float, config: RewardConfig) -> RewardBreakdown:
    read = _read_plus_memo if len(response) <= MEMO_LENGTH else _read_plus
    parsed, correct, well_formed = read(response, qtype, label, config.variant, config.format_reward > 0)
    fmt = config.format_reward if well_formed else 0.0
    return RewardBreakdown(parsed, correct, 0.0, weight, fmt, weight * (fmt + config.correct_reward * correct))


def _read_plus(response: str, qtype: str, label: int, variant: str, check_format: bool) -> tuple[bool, bool, bool]:
    """(parsed, correct, in the requested format: only looked at when it pays)."""
    parsed, correct = plus.judge_plus(response, qtype, label, variant)
    return parsed, correct, check_format and plus.plus_format_ok(response, qtype)


def _read_route(response: str, variant: str, check_format: bool) -> tuple[tuple, bool, bool]:
    """(sections, cut after MAX_SECTIONS, in the requested format: only looked at when it pays)."""
    if variant == "reference":
        sections, cut = route.reference_sections(response), False
    else:
        sections, cut = route.robust_sections(response)
    return tuple(sections), cut, check_format and route.route_format_ok(response)


_read_plus_memo = lru_cache(maxsize=1 << 15)(_read_plus)
_read_route_memo = lru_cache(maxsize=1 << 13)(_read_route)


def _route(response: str, record, network, weight: float, config: RewardConfig) -> RewardBreakdown:
    if not isinstance(network, Network):
        return ZERO
    index = reward_index(network)
    transfers = int(record["question_transfer_count"])
    read = _read_route_memo if len(response) <= MEMO_LENGTH else _read_route
    sections, cut, well_formed = read(response, config.variant, config.format_reward > 0)
    if config.variant == "reference":
        start, goal = clean_once(record["station_1"]), clean_once(record["station_2"])
        strict = [s for s in sections if s.strict]
        correct = route_reward.reference_correct(strict, index, start, goal)
        detail = route_reward.reference_detail(sections, index, start, goal, transfers)
    else:
        start, goal = route.robust_stop(record["station_1"]), route.robust_stop(record["station_2"])
        correct = not cut and route_reward.robust_correct(sections, index, start, goal)
        detail = route_reward.robust_detail(sections, index, start, goal, transfers)
    fmt = config.format_reward if well_formed else 0.0
    return RewardBreakdown(bool(sections), correct, detail, weight, fmt,
                           weight * (fmt + config.correct_reward * correct + config.alpha * detail))
