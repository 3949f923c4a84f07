"""Bootstrap intervals of figures over questions: width, pairing, strata and weights."""

from __future__ import annotations

import random

import pytest

from rewardmap.metrics.intervals import interval, paired_difference


def test_an_accuracy_interval_has_the_width_the_question_count_gives():
    """300 questions at 50%: the normal approximation gives +-5.7 points; the bootstrap agrees."""
    lo, hi = interval([1, 0] * 150)
    assert lo == pytest.approx(0.5 - 0.0566, abs=0.008) and hi == pytest.approx(0.5 + 0.0566, abs=0.008)
    lo60, hi60 = interval([1, 0] * 30)  # 60 questions: more than twice as wide
    assert (hi60 - lo60) > 2 * (hi - lo)
    assert interval([1, 0] * 150, seed=0) == (lo, hi)  # seeded


def test_pairing_sees_a_difference_that_two_separate_intervals_hide():
    """Two settings answering the same 300 questions, the second right on 15 more: separately
    their intervals overlap; paired, the difference is clearly above 0."""
    rng = random.Random(0)
    before = [int(rng.random() < 0.5) for _ in range(300)]
    after = list(before)
    wrong = [i for i, v in enumerate(before) if not v]
    for i in wrong[:15]:
        after[i] = 1
    a, b = interval(before), interval(after)
    assert a[1] > b[0]  # overlapping
    d = paired_difference(before, after)
    assert d["difference"] == pytest.approx(15 / 300) and 0 < d["low"] < d["difference"] < d["high"]
    same = paired_difference(before, before)
    assert same == {"difference": 0.0, "low": 0.0, "high": 0.0}


def test_strata_keep_each_type_count_and_weights_weigh():
    """Resampling inside types: a set of two perfectly separated types has no spread from the mix."""
    values = [1.0] * 100 + [0.0] * 100
    types = ["A"] * 100 + ["B"] * 100
    assert interval(values, strata=types) == (0.5, 0.5)
    assert interval(values)[0] < 0.45  # without strata the mix itself varies
    lo, hi = interval([1.0, 0.0] * 50, weights=[3.0, 1.0] * 50)
    assert lo < 0.75 < hi and hi - lo < 0.2
    with pytest.raises(ValueError):
        interval([1.0, 0.0], weights=[1.0])
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 0.0])
