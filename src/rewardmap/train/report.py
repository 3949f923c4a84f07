"""`RUN/report.md` and its plots, from what the run wrote: metrics.jsonl, curriculum.json,
eval_*.json (before, after the SFT warm-up, after GRPO, the trivial baseline),
benchmarks/*/*/metrics.json and policy_change.json. Rebuilt from those files alone, so it can
be redrawn for any run folder, finished or not."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..fileio import atomic_path, write_text_atomic  # noqa: E402
from ..metrics.benchmarks import BENCHMARKS, REASONMAP  # noqa: E402
from ..metrics.published import PUBLISHED_SOURCE  # noqa: E402
from ..run_files import (BENCHMARK_METRICS, CURRICULUM, EVAL_AFTER, EVAL_BASELINE, EVAL_BEFORE,  # noqa: E402
                         POLICY_CHANGE, REPORT, TRAINING_METRICS, TRAINING_PLOTS)
from .report_heldout import heldout_lines, labelled, read_evaluations  # noqa: E402
from .timing import PHASES  # noqa: E402
from .tracking import read_metrics  # noqa: E402

_COLORS = plt.get_cmap("tab10").colors


def _save(fig, path: Path) -> None:
    """The figure as PNG, renamed into place: a full disk or a kill leaves no half plot."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)


def write_report(run: str | Path) -> Path:
    """Write RUN/report.md and RUN/plots/*.png; returns the report's path."""
    run = Path(run)
    rows = read_metrics(run / TRAINING_METRICS)
    grpo = [r for r in rows if r.get("phase") == "grpo" and "reward" in r]
    sft = [r for r in rows if r.get("phase") == "sft" and "loss" in r]
    before, after = (_json(run / name) for name in (EVAL_BEFORE, EVAL_AFTER))
    baseline = _json(run / EVAL_BASELINE)
    curriculum, change = _json(run / CURRICULUM), _json(run / POLICY_CHANGE)
    plots = run / TRAINING_PLOTS
    plots.mkdir(exist_ok=True)
    lines = [f"# Run report: {run.name}", ""]

    evaluations = read_evaluations(run)
    lines += heldout_lines(run, evaluations, bool(grpo))
    columns = labelled(evaluations, bool(grpo))
    if any(r and REASONMAP.name in r for _, r in columns):
        lines += ["Route questions, ReasonMap metrics as `rewardmap eval` scores them (each asked in its short and "
                  "its long wording; map score out of 20 short, 40 long; plain means, difficulty-weighted in "
                  "brackets):", "", *_route_table(columns), ""]
    if before or after:
        lines += ["Read with the training reward's parser: share of answers in a readable form, and mean "
                  "reward.", "", *_reward_table([c for c in columns if c[1] is not baseline]), ""]
        if baseline and baseline.get("strategy"):
            lines += ["Trivial baselines: " + "; ".join(f"{t}: {s}" for t, s in sorted(baseline["strategy"].items()))
                      + ".", ""]
        if before and after:
            _before_after_plot(columns, plots / "before_after.png")
            lines += [f"![accuracy before and after]({TRAINING_PLOTS}/before_after.png)", ""]
    lines += _benchmark_lines(run)
    if change:
        lines += ["## How much GRPO changed the policy", "", *_change_lines(change), ""]
    if curriculum:
        lines += ["## Curriculum", "", "| stage | records | optimizer steps |", "|---|---:|---|"]
        for s in curriculum.get("stages", []):
            steps = f"{s['first_step']}-{s['last_step']}" if s.get("first_step") else "-"
            lines.append(f"| {s['name']} | {s['count']} | {steps} |")
        lines.append("")
    if grpo:
        _by_stage_plot(grpo, "reward", "mean reward", plots / "reward.png")
        lines += ["## GRPO", "", "Mean reward of the rollouts per logged step, coloured by curriculum stage.", "",
                  f"![reward per step]({TRAINING_PLOTS}/reward.png)", ""]
        if any("by_type" in r for r in grpo):
            _by_stage_plot(grpo, "accuracy", "sampled accuracy of the rollouts", plots / "accuracy.png")
            _by_type_plot(grpo, plots / "by_type.png")
            lines += [f"![accuracy per step]({TRAINING_PLOTS}/accuracy.png)", "",
                      f"![reward per question type]({TRAINING_PLOTS}/by_type.png)", "",
                      "All rollouts of the phase, per question type (the detail reward is the partial credit "
                      "of route answers; it is paid only once an endpoint is right, both in the reference "
                      "variant):", "", *_rollout_table(grpo), ""]
    if sft:
        _line_plot([r["step"] for r in sft], [r["loss"] for r in sft], "SFT loss", plots / "sft_loss.png")
        lines += ["## SFT warm-up", "", f"![SFT loss]({TRAINING_PLOTS}/sft_loss.png)", ""]
    timed = {phase: [r for r in rows if r.get("phase") == phase and "time/step" in r] for phase in ("sft", "grpo")}
    if any(timed.values()):
        lines += ["## Where a step's time goes", "",
                  "Seconds per optimizer step in each phase, averaged over the logged steps (each log line holds "
                  "the mean of the steps since the one before); *other* is what the phases do not cover.", "",
                  *_timing_table(timed), ""]
        for phase, rows_ in timed.items():
            if rows_:
                _timing_plot(rows_, plots / f"{phase}_time.png")
                lines += [f"![{phase} step time per phase]({TRAINING_PLOTS}/{phase}_time.png)", ""]
    path = run / REPORT
    write_text_atomic(path, "\n".join(lines))
    return path


def _benchmark_lines(run: Path) -> list[str]:
    """Each benchmark evaluation in RUN/benchmarks (one `rewardmap eval` folder per dataset folder
    and benchmark), its figures beside the paper's."""
    found = [(path.parent, _json(path)) for path in sorted(run.glob(BENCHMARK_METRICS))]
    if not found:
        return []
    lines = ["## Benchmarks", "", "The final model's answers to the benchmark folders of `eval.datasets`, scored as "
             f"`rewardmap eval` scores them, beside the published figures: {PUBLISHED_SOURCE}.", ""]
    for folder, summary in found:
        benchmark = summary.get("benchmark")
        bench = BENCHMARKS.get(benchmark)  # a summary of neither (written by hand): not shown
        if bench is None:
            continue
        where = folder.relative_to(run).as_posix()
        failed = (summary.get("predictions") or {}).get("failed", 0)
        lines += [f"### {folder.parent.name}: {benchmark}", "",
                  f"{summary.get('count', 0)} questions, {summary.get('variant', '-')} parser"
                  + (f", {failed} failed (scored as wrong)" if failed else "")
                  + f"; answers and failures in [{where}/{REPORT}]({where}/{REPORT}).", "",
                  "| model | " + " | ".join(label for _, label in bench.published_columns) + " |",
                  "|---|" + "---:|" * len(bench.published_columns)]
        ours = summary.get("published") or {}
        rows = [("**this run**", [ours.get(key) for key, _ in bench.published_columns]),
                *((name, values) for name, *values in bench.published)]
        lines += [f"| {name} | " + " | ".join("-" if v is None else f"{v:.2f}" for v in values) + " |"
                  for name, values in rows]
        lines.append("")
    return lines


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _types(columns) -> list[str]:
    from ..questions.kinds import QUESTION_TYPES

    seen = {t for _, r in columns if r for t in r.get("by_type") or {}}
    return [t for t in QUESTION_TYPES if t in seen]


_ROUTE_ROWS = (("acc_short", "accuracy, short", "{:.3f}"), ("map_score_short", "map score, short (of 20)", "{:.2f}"),
               ("acc_long", "accuracy, long", "{:.3f}"), ("map_score_long", "map score, long (of 40)", "{:.2f}"))


def _route_table(columns: list[tuple[str, dict | None]]) -> list[str]:
    columns = [(name, (r or {}).get(REASONMAP.name, {}).get("overall")) for name, r in columns if r]
    columns = [(name, g) for name, g in columns if g]
    n = columns[-1][1]["count"] if columns else 0
    out = [f"| metric (n = {n}) | " + " | ".join(name for name, _ in columns) + " |",
           "|---|" + "---:|" * len(columns)]
    for key, label, fmt in _ROUTE_ROWS:
        cells = [f"{fmt.format(g[key]['mean'])} ({fmt.format(g[key]['weighted'])})" if key in g else "-"
                 for _, g in columns]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def _reward_table(columns: list[tuple[str, dict]]) -> list[str]:
    head = ["type", *(f"parsed {name}" for name, _ in columns), *(f"reward {name}" for name, _ in columns)]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for key in [*_types(columns), "overall"]:
        def stats(result):
            return result.get("overall") if key == "overall" else (result.get("by_type") or {}).get(key)
        cells = [_cell(stats(r), m) for m in ("parsed", "reward") for _, r in columns]
        out.append(f"| {'**overall**' if key == 'overall' else key} | " + " | ".join(cells) + " |")
    return out


def _change_lines(change: dict) -> list[str]:
    out = []
    weights, answers = change.get("weights"), change.get("answers")
    if weights:
        out.append(f"- Weights: relative L2 change {100 * weights['relative_l2']:.3g}% from `{weights['from']}` "
                   f"(largest change of one weight {weights['max_abs']:.3g}; {weights['tensors_changed']} of "
                   f"{weights['tensors']} tensors changed).")
    if answers:
        per_type = ", ".join(f"{t} {100 * v['changed']:.0f}%" for t, v in answers["by_type"].items())
        out.append(f"- Held-out greedy answers that differ from those {answers['from']}: "
                   f"{100 * answers['overall']['changed']:.1f}% of {answers['overall']['count']} ({per_type}).")
    return out


def _rollout_table(rows: list[dict]) -> list[str]:
    sums: dict[str, list[float]] = {}
    for row in rows:
        for qtype, v in (row.get("by_type") or {}).items():
            s = sums.setdefault(qtype, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
            s[0] += v["count"]
            for i, key in enumerate(("reward", "accuracy", "parsed", "detail", "detail_paid"), 1):
                s[i] += v.get(key, 0.0) * v["count"]
    out = ["| type | rollouts | mean reward | accuracy | parsed | mean detail reward | share paid detail reward |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for qtype in _types([("", {"by_type": sums})]):
        n, *totals = sums[qtype]
        out.append(f"| {qtype} | {int(n)} | " + " | ".join(f"{t / n:.3f}" for t in totals) + " |")
    return out


def _cell(stats: dict | None, metric: str) -> str:
    return f"{stats[metric]:.3f}" if stats and metric in stats else "-"


def _stage_segments(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    segments: list[tuple[str, list[dict]]] = []
    for r in rows:
        stage = r.get("stage") or "-"
        if not segments or segments[-1][0] != stage:
            segments.append((stage, []))
        segments[-1][1].append(r)
    return segments


def _value(row: dict, metric: str) -> float | None:
    if metric == "reward":
        return row.get("reward")
    by_type = row.get("by_type") or {}
    total = sum(v["count"] for v in by_type.values())
    return sum(v["accuracy"] * v["count"] for v in by_type.values()) / total if total else None


def _by_stage_plot(rows: list[dict], metric: str, label: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    colors: dict[str, tuple] = {}
    for stage, seg in _stage_segments(rows):
        color = colors.setdefault(stage, _COLORS[len(colors) % len(_COLORS)])
        points = [(r["step"], _value(r, metric)) for r in seg if _value(r, metric) is not None]
        if points:
            ax.plot(*zip(*points), marker="o", ms=3, color=color,
                    label=stage if stage not in ax.get_legend_handles_labels()[1] else None)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(label)
    ax.legend(title="stage", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _by_type_plot(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    types = sorted({t for r in rows for t in (r.get("by_type") or {})})
    for i, qtype in enumerate(types):
        points = [(r["step"], r["by_type"][qtype]["reward"]) for r in rows if qtype in (r.get("by_type") or {})]
        ax.plot(*zip(*points), marker="o", ms=3, color=_COLORS[i % len(_COLORS)], label=qtype)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("mean reward")
    ax.legend(title="question type", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _before_after_plot(columns: list[tuple[str, dict]], path: Path) -> None:
    """Greedy and sampled accuracy per type (and the Plus types pooled) for each evaluation, with
    their 95% intervals as error bars."""
    from ..questions.kinds import PLUS_TYPES

    types = _types(columns)
    every = types + (["Plus"] if sum(t in PLUS_TYPES for t in types) > 1 else [])
    sampled = [(name, r) for name, r in columns if (r.get("plus") or {}).get("k")]
    panels = [("greedy accuracy", "accuracy", columns)] + ([("sampled accuracy", "sampled_accuracy", sampled)]
                                                            if sampled else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.6), squeeze=False)
    for ax, (title, key, cols) in zip(axes[0], panels):
        groups = [g for g in every if any(key in ((r.get("plus") if g == "Plus" else (r.get("by_type") or {}).get(g))
                                                   or {}) for _, r in cols)]
        width = 0.8 / len(cols)
        for k, (name, result) in enumerate(cols):
            stats = [(result.get("plus") if g == "Plus" else (result.get("by_type") or {}).get(g)) or {}
                     for g in groups]
            values = [s.get(key, float("nan")) for s in stats]
            errors = [[v - s[f"{key}_ci"][0] if f"{key}_ci" in s else 0.0 for v, s in zip(values, stats)],
                      [s[f"{key}_ci"][1] - v if f"{key}_ci" in s else 0.0 for v, s in zip(values, stats)]]
            ax.bar([i + (k - (len(cols) - 1) / 2) * width for i in range(len(groups))], values, width,
                   label=name, color=_COLORS[[n for n, _ in columns].index(name) % len(_COLORS)],
                   yerr=errors, capsize=2, error_kw={"elinewidth": 0.8})
        ax.set_xticks(range(len(groups)), groups, rotation=20)
        ax.set_title(f"held-out {title}", fontsize=10)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _timing_table(timed: dict[str, list[dict]]) -> list[str]:
    phases = [p for p in PHASES if any(f"time/{p}" in r for rows in timed.values() for r in rows)]
    extra = ("tokens/generated_per_s", "tokens/trained_per_s", "gpu/peak_memory_gib", "gpu/mfu")
    shown = [k for k in extra if any(k in r for rows in timed.values() for r in rows)]
    out = ["| phase | step | " + " | ".join(phases) + " | " + " | ".join(k.split("/")[1] for k in shown) + " |",
           "|---|" + "---:|" * (1 + len(phases) + len(shown))]
    for phase, rows in timed.items():
        if rows:
            mean = {k: sum(r.get(k, 0.0) for r in rows) / len(rows) for k in
                    ("time/step", *(f"time/{p}" for p in phases), *shown)}
            cells = [f"{mean['time/step']:.3f}"] + [f"{mean[f'time/{p}']:.3f}" for p in phases] + \
                [f"{mean[k]:.3g}" for k in shown]
            out.append(f"| {phase} | " + " | ".join(cells) + " |")
    return out


def _timing_plot(rows: list[dict], path: Path) -> None:
    """Seconds per step in each phase, stacked, per logged step."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    steps = [r["step"] for r in rows]
    bottom = [0.0] * len(rows)
    for i, phase in enumerate(PHASES):
        values = [max(r.get(f"time/{phase}", 0.0), 0.0) for r in rows]
        if any(values):
            ax.bar(steps, values, bottom=bottom, color=_COLORS[i % len(_COLORS)], label=phase, width=0.8)
            bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("seconds per step")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _line_plot(xs, ys, label: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(xs, ys, marker="o", ms=3)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
