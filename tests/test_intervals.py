"""Bootstrap intervals of figures over questions: width, pairing, strata and weights."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from rewardmap.metrics import intervals
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


def test_too_few_values():
    assert all(math.isnan(v) for v in interval([]))  # no question: no figure
    assert interval([1.0]) == (1.0, 1.0)
    # two questions, one right: every question can be drawn, so means 0, 0.5 and 1 all occur
    assert interval([1, 0]) == (0.0, 1.0)
    assert paired_difference([], []) == {"difference": 0.0, "low": 0.0, "high": 0.0}


def test_level_sets_the_central_share():
    """50% of the bootstrap means: 300 questions at 50% give +-0.674 standard errors (+-1.95 points)."""
    lo, hi = interval([1, 0] * 150, level=0.5)
    assert lo == pytest.approx(0.5 - 0.0195, abs=0.004) and hi == pytest.approx(0.5 + 0.0195, abs=0.004)


def test_seeded_resampling():
    rng = random.Random(1)
    values = [rng.random() for _ in range(50)]  # continuous: every resample differs
    assert interval(values) == interval(values) == interval(values, seed=0)
    assert interval(values, seed=1) != interval(values)


def test_values_and_weights_are_read_as_floats():
    # numbers as text (a CSV column), integers and booleans all count as their float values
    assert interval(["1", "0"] * 20, weights=["2", "1"] * 20) == interval([1.0, 0.0] * 20, weights=[2.0, 1.0] * 20)
    assert paired_difference(["0", "1"] * 20, ["1", "1"] * 20, weights=["2", "1"] * 20) == \
        paired_difference([0.0, 1.0] * 20, [True, True] * 20, weights=[2, 1] * 20)


def test_strata_resample_inside_each_label_only():
    # three types, each answered all alike: stratified resampling keeps every type's count,
    # so the figure cannot move at all
    values = [1.0] * 10 + [0.0] * 20 + [0.5] * 30
    types = ["TorF1"] * 10 + ["Counting1"] * 20 + ["Counting2"] * 30
    assert interval(values, strata=types) == pytest.approx((25 / 60, 25 / 60))


def test_paired_difference_is_the_interval_of_the_differences():
    rng = random.Random(2)
    before = [rng.random() for _ in range(60)]
    after = [rng.random() for _ in range(60)]
    d = [b - a for a, b in zip(before, after)]
    w = [rng.choice([1.0, 1.5, 2.0]) for _ in range(60)]
    types = ["A", "B", "C"] * 20
    # every setting reaches the interval: each gives another one than the defaults
    for kw in ({}, {"weights": w}, {"strata": types}, {"resamples": 50}, {"level": 0.5}, {"seed": 3}):
        p = paired_difference(before, after, **kw)
        expected = interval(d, kw.get("weights"), **{k: v for k, v in kw.items() if k != "weights"})
        assert (p["low"], p["high"]) == expected
        assert (expected == interval(d)) is (not kw)
    weighted = paired_difference(before, after, w)["difference"]
    assert weighted == pytest.approx(sum(x * y for x, y in zip(w, d)) / sum(w))
    assert weighted != pytest.approx(sum(d) / len(d))


@pytest.mark.parametrize("call, message", [
    (lambda: interval([1.0, 0.0], weights=[1.0]), "1 weights for 2 values"),
    (lambda: interval([1.0, 0.0], strata=["A"]), "1 strata for 2 values"),
    (lambda: paired_difference([1.0], [1.0, 0.0]), "1 values before and 2 after: not the same questions"),
])
def test_mismatched_lengths_are_named(call, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        call()


def test_resamples_are_drawn_in_chunks_that_bound_memory(monkeypatch):
    """At most `_CHUNK` resampled values at once (one resample's worth when a resample is
    bigger), all `resamples` drawn, and the chunking changes nothing in the result."""
    rng = random.Random(3)
    values = [rng.random() for _ in range(5)]
    expected = {n: interval(values[:n]) for n in (4, 5)}
    rows = []
    real = np.random.default_rng

    class Spy:  # records how many resamples each draw holds
        def __init__(self, seed):
            self.rng = real(seed)

        def integers(self, *args, size, **kw):
            rows.append(size[0])
            return self.rng.integers(*args, size=size, **kw)

    monkeypatch.setattr(np.random, "default_rng", Spy)
    for chunk, n, step in ((12, 4, 3), (6, 4, 1), (4, 5, 1)):  # 12 // 4 = 3 resamples a draw, 6 // 4 = 1
        monkeypatch.setattr(intervals, "_CHUNK", chunk)
        rows.clear()
        assert interval(values[:n]) == expected[n]
        assert sum(rows) == 2000 and max(rows) == step
