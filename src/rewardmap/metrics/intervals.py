"""95% intervals of figures measured on a set of questions: the percentile bootstrap over questions.

A figure is a (weighted) mean of one value per question: 0/1 for an accuracy, a fraction of
right samples for sampled accuracy, a map score. Its interval comes from recomputing it on
questions drawn again with replacement; a difference between two settings that answered the
same questions is resampled question by question (paired), which cancels what the questions
themselves share and sees differences that two separate intervals would hide.

`strata` (a label per question, such as its type) resamples inside each label, keeping each
label's count: the right thing for a figure over a set built with a fixed number of questions
per type. Resampling is seeded, so the same values always give the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
_CHUNK = 1 << 22  # resampled values held in memory at once


def interval(values: Sequence[float], weights: Sequence[float] | None = None, *,
             strata: Sequence | None = None, resamples: int = RESAMPLES, level: float = LEVEL,
             seed: int = 0) -> tuple[float, float]:
    """The bootstrap interval of `sum(w * x) / sum(w)` over the questions (plain mean without WEIGHTS).

    >>> lo, hi = interval([1, 0] * 150)  # 300 questions, half right
    >>> 0.43 < lo < 0.46 and 0.54 < hi < 0.57
    True
    >>> interval([1.0, 1.0, 1.0])
    (1.0, 1.0)
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != x.shape:
        raise ValueError(f"{w.size} weights for {x.size} values")
    stats = _resampled_means(x, w, strata, resamples, seed)
    tail = (1 - level) / 2
    lo, hi = np.quantile(stats, [tail, 1 - tail])
    return float(lo), float(hi)


def paired_difference(before: Sequence[float], after: Sequence[float], weights: Sequence[float] | None = None, *,
                      strata: Sequence | None = None, resamples: int = RESAMPLES, level: float = LEVEL,
                      seed: int = 0) -> dict:
    """`after - before` of a (weighted) mean over the same questions, in the same order, with
    its paired bootstrap interval: {"difference", "low", "high"}.

    >>> d = paired_difference([0] * 100 + [1] * 100, [1] * 30 + [0] * 70 + [1] * 100)
    >>> round(d["difference"], 3), d["low"] > 0
    (0.15, True)
    """
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} values before and {b.size} after: not the same questions")
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float)
    d = b - a
    lo, hi = interval(d, w, strata=strata, resamples=resamples, level=level, seed=seed) if d.size else (0.0, 0.0)
    return {"difference": float((w * d).sum() / w.sum()) if d.size else 0.0, "low": lo, "high": hi}


def _resampled_means(x: np.ndarray, w: np.ndarray, strata: Sequence | None, resamples: int,
                     seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [np.arange(x.size)]
    else:
        labels = np.asarray([str(s) for s in strata])
        if labels.shape != x.shape:
            raise ValueError(f"{labels.size} strata for {x.size} values")
        groups = [np.flatnonzero(labels == label) for label in sorted(set(labels.tolist()))]
    out = np.empty(resamples)
    step = max(1, _CHUNK // x.size)
    for start in range(0, resamples, step):
        n = min(step, resamples - start)
        picks = np.concatenate([g[rng.integers(0, g.size, size=(n, g.size))] for g in groups], axis=1)
        out[start:start + n] = (w[picks] * x[picks]).sum(axis=1) / w[picks].sum(axis=1)
    return out
