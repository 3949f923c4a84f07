"""The held-out part of a run's report: each evaluation's figures with their 95% intervals, and
what GRPO changed, measured on the same questions before and after it (paired intervals).

Every figure is computed from the per-question scores the evaluation files keep
(`eval_*.json`, `answers[i].scores`), so the report can be drawn again for any run folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..metrics.intervals import paired_difference
from ..questions.kinds import PLUS_TYPES, QUESTION_TYPES
from ..run_files import (EVAL_AFTER, EVAL_AFTER_SFT, EVAL_BASELINE, EVAL_BEFORE, EVAL_TRAIN_AFTER,
                         EVAL_TRAIN_BEFORE_GRPO)

# (column label, file) in the order a run writes them; "after" is GRPO's end when GRPO ran
HELDOUT_FILES = (("trivial baseline", EVAL_BASELINE), ("before", EVAL_BEFORE), ("after SFT", EVAL_AFTER_SFT),
                 ("after", EVAL_AFTER))
TRAIN_FILES = (EVAL_TRAIN_BEFORE_GRPO, EVAL_TRAIN_AFTER)

# per-question values of the figures that have one (see heldout.question_scores)
PER_QUESTION = {
    "accuracy": lambda s: float(s["correct"]),
    "sampled_accuracy": lambda s: s["samples_correct"] / s["samples"],
    "pass_at_k": lambda s: float(s["samples_correct"] > 0),
}
NAMES = {"accuracy": "greedy accuracy", "sampled_accuracy": "sampled accuracy", "pass_at_k": "pass@k"}


def read_evaluations(run: Path) -> dict[str, dict]:
    """{file name: contents} of the evaluation files present in RUN."""
    out = {}
    for name in [n for _, n in HELDOUT_FILES] + list(TRAIN_FILES):
        path = run / name
        if path.is_file():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def grpo_start(evaluations: dict[str, dict]) -> str | None:
    """The held-out evaluation GRPO started from: after the SFT warm-up, else the run's first."""
    return next((n for n in (EVAL_AFTER_SFT, EVAL_BEFORE) if n in evaluations), None)


def figure_cell(stats: dict | None, name: str) -> str:
    """`0.650 [0.595, 0.703]`, the figure and its interval, or `-`."""
    if not stats or name not in stats:
        return "-"
    ci = stats.get(f"{name}_ci")
    return f"{stats[name]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def difference_cell(d: dict | None) -> str:
    """A paired difference in points: `+5.2 [+3.1, +7.4]`, or `-`."""
    if not d:
        return "-"
    return f"{100 * d['difference']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]"


def matched(runs: list[tuple[dict, dict]], name: str, types) -> tuple[list[float], list[float], list[str]] | None:
    """Figure NAME per question before and after, over the questions of TYPES that both evaluations
    of each (before, after) pair answered (matched by id; one pair per run, such as one per seed),
    and each question's stratum (its pair and type); None when the files lack the per-question
    scores it needs."""
    value = PER_QUESTION[name]
    a, b, strata = [], [], []
    for i, (before, after) in enumerate(runs):
        old = {json.dumps(x.get("id")): x for x in before.get("answers", []) if x.get("type") in types}
        for y in after.get("answers", []):
            x = old.get(json.dumps(y.get("id"))) if y.get("type") in types else None
            if x is None:
                continue
            try:
                a.append(value(x["scores"]))
                b.append(value(y["scores"]))
            except (KeyError, TypeError, ZeroDivisionError):
                return None
            strata.append(f"{i}/{x['type']}")
    return a, b, strata


def paired(before: dict, after: dict, name: str, types) -> dict | None:
    """After minus before of figure NAME over the questions of TYPES both evaluations answered,
    with its paired bootstrap interval (resampled within each type); None without such questions
    or without the per-question scores it needs."""
    return pooled_paired([(before, after)], name, types)


def pooled_paired(runs: list[tuple[dict, dict]], name: str, types) -> dict | None:
    """`paired` over several (before, after) pairs at once (one per run), resampled within each
    run and type."""
    values = matched(runs, name, types)
    if not values or not values[0]:
        return None
    a, b, strata = values
    return {**paired_difference(a, b, strata=strata), "count": len(a)}


def _rows(evaluations: list[dict]) -> list[tuple[str, str | None]]:
    """(row label, type or None for the Plus group) for the types any evaluation holds."""
    seen = {t for e in evaluations for t in e.get("by_type") or {}}
    rows = [(t, t) for t in QUESTION_TYPES if t in seen]
    if sum(t in PLUS_TYPES for t in seen) > 1:
        rows.append(("**Plus, five types**" if set(PLUS_TYPES) <= seen else "**Plus types**", None))
    return rows


def _stats(result: dict | None, qtype: str | None) -> dict | None:
    if not result:
        return None
    return result.get("plus") if qtype is None else (result.get("by_type") or {}).get(qtype)


def phase_table(columns: list[tuple[str, dict]], name: str) -> list[str]:
    """One figure (with its interval) per type and phase."""
    out = ["| type | n | " + " | ".join(label for label, _ in columns) + " |", "|---|---:|" + "---:|" * len(columns)]
    for label, qtype in _rows([r for _, r in columns]):
        cells = [figure_cell(_stats(r, qtype), name) for _, r in columns]
        if all(c == "-" for c in cells):
            continue
        n = next((s["count"] for _, r in reversed(columns) for s in [_stats(r, qtype)] if s), 0)
        out.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    return out


def change_table(pairs: list[tuple[str, dict, dict, str]]) -> list[str]:
    """Paired differences: one column per (label, before, after, figure), one row per type."""
    out = ["| type | " + " | ".join(label for label, *_ in pairs) + " |", "|---|" + "---:|" * len(pairs)]
    for label, qtype in _rows([r for _, a, b, _ in pairs for r in (a, b)]):
        types = PLUS_TYPES if qtype is None else (qtype,)
        cells = [difference_cell(paired(a, b, name, types)) for _, a, b, name in pairs]
        if any(c != "-" for c in cells):
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def grpo_change(evaluations: dict[str, dict]) -> dict:
    """What GRPO changed, for report and README: {"heldout"|"training maps": {figure: {type or
    "plus": paired difference}}} over the evaluations present."""
    start, end = grpo_start(evaluations), EVAL_AFTER
    sets = {"heldout": (start, end), "training maps": TRAIN_FILES}
    out: dict = {}
    for where, (a, b) in sets.items():
        if a in evaluations and b in evaluations:
            before, after = evaluations[a], evaluations[b]
            groups = {"plus": PLUS_TYPES, **{t: (t,) for t in QUESTION_TYPES if t in (after.get("by_type") or {})}}
            out[where] = {name: {g: d for g, types in groups.items() if (d := paired(before, after, name, types))}
                          for name in PER_QUESTION}
    return out


def labelled(evaluations: dict[str, dict], grpo_ran: bool) -> list[tuple[str, dict]]:
    """The held-out evaluations present, in run order, each with the label the report gives it."""
    labels = {EVAL_AFTER: "after GRPO" if grpo_ran else "after training",
              EVAL_BEFORE: "start of GRPO" if grpo_ran and EVAL_AFTER_SFT not in evaluations
              else "before training"}
    return [(labels.get(name, label), evaluations[name]) for label, name in HELDOUT_FILES if name in evaluations]


def heldout_lines(run: Path, evaluations: dict[str, dict], grpo_ran: bool) -> list[str]:
    """The report's sections on held-out (and training-map) evaluations."""
    columns = labelled(evaluations, grpo_ran)
    if not any(name != EVAL_BASELINE for _, name in HELDOUT_FILES if name in evaluations):
        return []
    k = next((r["plus"]["k"] for _, r in columns if (r.get("plus") or {}).get("k")), None)
    temperature = next((r["sampling"]["temperature"] for _, r in columns if r.get("sampling")), None)
    out = ["## Held-out questions, before and after training", "",
           "Questions about cities the model never trained on, read as the training reward reads them. Every "
           "figure has its 95% interval in brackets (bootstrap over the questions; a group of several types is "
           "resampled within each type). The *trivial baseline* answers without reading the map: a figure says "
           "the model reads the map only where it beats it.", "",
           "Greedy accuracy:", "", *phase_table(columns, "accuracy"), ""]
    sampled = [(label, r) for label, r in columns if (r.get("plus") or r.get("overall") or {}).get("k")
               or any("k" in s for s in (r.get("by_type") or {}).values())]
    if sampled:
        out += [f"Sampled accuracy: the mean share of right answers among {k} sampled at temperature "
                f"{temperature:g}, as GRPO samples its rollouts (what GRPO optimises):", "",
                *phase_table(sampled, "sampled_accuracy"), "",
                f"pass@{k}: the share of questions with at least one right answer among the {k}:", "",
                *phase_table(sampled, "pass_at_k"), ""]
    change = _change_section(evaluations, k)
    if change:
        out += change
    return out


def _change_section(evaluations: dict[str, dict], k: int | None) -> list[str]:
    start = grpo_start(evaluations)
    if not start or EVAL_AFTER not in evaluations:
        return []
    before, after = evaluations[start], evaluations[EVAL_AFTER]
    pairs = [("held out, greedy", before, after, "accuracy")]
    if k:
        pairs += [("held out, sampled", before, after, "sampled_accuracy"),
                  (f"held out, pass@{k}", before, after, "pass_at_k")]
    if all(n in evaluations for n in TRAIN_FILES):
        tb, ta = (evaluations[n] for n in TRAIN_FILES)
        pairs += [("training maps, greedy", tb, ta, "accuracy")]
        if k:
            pairs += [("training maps, sampled", tb, ta, "sampled_accuracy")]
    out = ["## What GRPO changed", "",
           "After GRPO minus its start, in points, on the same questions (paired bootstrap, 95% interval): an "
           "interval that excludes 0 is a change the questions measured, one that includes 0 is not. *Training "
           "maps* are questions GRPO itself trained on.", "", *change_table(pairs), ""]
    train = [(label, evaluations[n]) for label, n in zip(("start of GRPO", "after GRPO"), TRAIN_FILES)
             if n in evaluations]
    if train:
        out += ["Training maps, greedy accuracy:", "", *phase_table(train, "accuracy"), ""]
        if k:
            out += ["Training maps, sampled accuracy:", "", *phase_table(train, "sampled_accuracy"), "",
                    f"Training maps, pass@{k}:", "", *phase_table(train, "pass_at_k"), ""]
    routes = [(label, r["by_type"]["planning"]) for label, r in (("start of GRPO", before), ("after GRPO", after))
              if "planning" in (r.get("by_type") or {})]
    if routes and any("endpoints" in s for _, s in routes):
        out += ["Route answers: the share of greedy answers that depart and arrive where the question asks "
                "(the endpoints the detail reward checks first; the share of route rollouts it paid is in the "
                "GRPO section):", "", "| | both endpoints named |", "|---|---:|",
                *(f"| {label} | {s.get('endpoints', 0):.3f} |" for label, s in routes), ""]
    return out
