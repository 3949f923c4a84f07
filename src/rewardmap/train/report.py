"""`RUN/report.md` and its plots, from what the run wrote: metrics.jsonl, curriculum.json,
eval_before.json and eval_after.json. Rebuilt from those files alone, so it can be redrawn
for any run folder, finished or not."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..fileio import write_text_atomic  # noqa: E402
from .tracking import read_metrics  # noqa: E402

_COLORS = plt.get_cmap("tab10").colors


def write_report(run: str | Path) -> Path:
    """Write RUN/report.md and RUN/plots/*.png; returns the report's path."""
    run = Path(run)
    rows = read_metrics(run / "metrics.jsonl")
    grpo = [r for r in rows if r.get("phase") == "grpo" and "reward" in r]
    sft = [r for r in rows if r.get("phase") == "sft" and "loss" in r]
    before, after = (_json(run / name) for name in ("eval_before.json", "eval_after.json"))
    after_sft, majority = _json(run / "eval_after_sft.json"), _json(run / "eval_majority.json")
    curriculum = _json(run / "curriculum.json")
    plots = run / "plots"
    plots.mkdir(exist_ok=True)
    lines = [f"# Run report: {run.name}", ""]

    if before or after:
        lines += ["## Held-out questions, before and after training", "",
                  "Greedy answers to questions about cities the model never trained on, scored with the "
                  "training reward's parser. *Majority* is the accuracy of always giving a type's most common "
                  "training answer: the bar to clear before accuracy says the model reads the map.", "",
                  *_eval_table([("majority", majority), ("before", before), ("after SFT", after_sft),
                                ("after", after)]), ""]
        if before and after:
            _before_after_plot(before, after, plots / "before_after.png")
            lines += ["![accuracy before and after](plots/before_after.png)", ""]
    if curriculum:
        lines += ["## Curriculum", "", "| stage | records | optimizer steps |", "|---|---:|---|"]
        for s in curriculum.get("stages", []):
            steps = f"{s['first_step']}-{s['last_step']}" if s.get("first_step") else "-"
            lines.append(f"| {s['name']} | {s['count']} | {steps} |")
        lines.append("")
    if grpo:
        _by_stage_plot(grpo, "reward", "mean reward", plots / "reward.png")
        lines += ["## GRPO", "", "Mean reward of the rollouts per logged step, coloured by curriculum stage.", "",
                  "![reward per step](plots/reward.png)", ""]
        if any("by_type" in r for r in grpo):
            _by_stage_plot(grpo, "accuracy", "rollout accuracy", plots / "accuracy.png")
            _by_type_plot(grpo, plots / "by_type.png")
            lines += ["![accuracy per step](plots/accuracy.png)", "",
                      "![reward per question type](plots/by_type.png)", ""]
    if sft:
        _line_plot([r["step"] for r in sft], [r["loss"] for r in sft], "SFT loss", plots / "sft_loss.png")
        lines += ["## SFT warm-up", "", "![SFT loss](plots/sft_loss.png)", ""]
    path = run / "report.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _eval_table(columns: list[tuple[str, dict | None]]) -> list[str]:
    """Accuracy per type for each evaluation present; parsed and reward for the model ones."""
    columns = [(name, result) for name, result in columns if result]
    models = [(name, result) for name, result in columns if name != "majority"]
    types = sorted({t for _, result in columns for t in result.get("by_type") or {}})
    head = ["type", "n", *(f"accuracy {name}" for name, _ in columns), *(f"parsed {name}" for name, _ in models),
            *(f"reward {name}" for name, _ in models)]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for key in [*types, "overall"]:
        def stats(result):
            return result.get("overall") if key == "overall" else (result.get("by_type") or {}).get(key)
        n = next((stats(r)["count"] for _, r in reversed(columns) if stats(r)), 0)
        cells = [_cell(stats(r), "accuracy") for _, r in columns]
        cells += [_cell(stats(r), m) for m in ("parsed", "reward") for _, r in models]
        out.append(f"| {'**overall**' if key == 'overall' else key} | {n} | " + " | ".join(cells) + " |")
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _before_after_plot(before: dict, after: dict, path: Path) -> None:
    types = sorted(set(before.get("by_type", {})) | set(after.get("by_type", {})))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.38
    for offset, (name, result) in zip((-width / 2, width / 2), (("before", before), ("after", after))):
        values = [result.get("by_type", {}).get(t, {}).get("accuracy", 0.0) for t in types]
        ax.bar([i + offset for i in range(len(types))], values, width, label=name)
    ax.set_xticks(range(len(types)), types)
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _line_plot(xs, ys, label: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(xs, ys, marker="o", ms=3)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
