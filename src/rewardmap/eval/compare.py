"""`rewardmap compare`: a Table-1-style comparison of run folders.

A run folder is a training run or an evaluation run (`metrics.json` and `responses.jsonl`). A
training run (`recipe.yaml`) is scored on its benchmarks when it evaluated any
(`benchmarks/<dataset>/<benchmark>/`, evaluation runs of their own), else on its held-out
questions (`eval_after.json`). Each becomes a row of ReasonMap-Plus accuracies and ReasonMap
accuracies and map scores, plain and difficulty-weighted, each with its difference from a
baseline row. Rows compare only when they scored the same questions, so every benchmark's
question ids are checked first.

Units are the paper's: accuracies in percent (one decimal), map scores raw (two decimals,
short out of 20, long out of 40); differences are in the same units.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError
from ..fileio import read_jsonl, write_bytes_atomic, write_files_atomic
from ..metrics.intervals import interval, paired_difference
from ..metrics.route_score import RecordError
from ..metrics.benchmarks import BENCHMARKS, REASONMAP, REASONMAP_PLUS, benchmark_asking
from ..run_files import BENCHMARK_METRICS, BENCHMARK_RUNS, EVAL_AFTER, EVAL_BASELINE, METRICS, RECIPE, RESPONSES

KINDS = {"plain": "mean", "weighted": "weighted"}  # our name -> the summary's key
TITLES = {"plain": "plain", "weighted": "difficulty-weighted"}


@dataclass(frozen=True)
class Column:
    """One metric of one group of a benchmark summary, e.g. `correct` of `by_type.TorF1`."""

    key: str
    label: str
    benchmark: str
    group: tuple[str, ...]  # path to the group inside the summary
    metric: str
    percent: bool  # accuracies: fractions shown as percentages; map scores: raw

    @property
    def decimals(self) -> int:
        return 1 if self.percent else 2


_ROUTE_LABELS = {"acc_short": "Acc. short", "acc_long": "Acc. long", "map_score_short": "Map score short",
                 "map_score_long": "Map score long"}
# Table 1's columns: ReasonMap-Plus per type, group and overall, then ReasonMap's metrics
COLUMNS = (
    *(Column(t, t, REASONMAP_PLUS.name, ("by_type", t), "correct", True) for t in REASONMAP_PLUS.types),
    *(Column(g, g, REASONMAP_PLUS.name, ("by_group", g), "correct", True) for g in REASONMAP_PLUS.groups),
    Column("plus_overall", "Plus overall", REASONMAP_PLUS.name, ("overall",), "correct", True),
    *(Column(m, _ROUTE_LABELS[m], REASONMAP.name, ("overall",), m, m in REASONMAP.accuracies)
      for m in REASONMAP.reported),
)


@dataclass
class RunScores:
    """One run's scores in table units: `values[column key][plain|weighted]`, and the
    question ids it scored per benchmark."""

    name: str
    folder: Path
    kind: str  # training, eval or trivial
    source: Path  # the file the scores come from
    values: dict[str, dict[str, float]]
    questions: dict[str, frozenset]
    # {benchmark: {question id: (type, weight, {metric: score})}}, where the files keep them (intervals)
    per_question: dict[str, dict[str, tuple]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """How messages name it: its folder, or the baseline file inside a training run."""
        return str(self.source if self.kind == "trivial" else self.folder)


# ------------------------------------------------------------------ reading run folders

def read_run(folder: str | os.PathLike) -> RunScores:
    """The scores of a training or evaluation run folder; InputError if it is neither."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such run folder")
    if (folder / RECIPE).is_file():
        benchmarks = [path.parent for path in sorted(folder.glob(BENCHMARK_METRICS))]
        if benchmarks:
            return _benchmark_scores(folder, benchmarks)
        if not (folder / EVAL_AFTER).is_file():
            raise InputError(f"{folder}: training run without {EVAL_AFTER} or {BENCHMARK_RUNS}/ (no evaluation after "
                             "training: unfinished, or eval disabled)")
        return _training_scores(folder, folder / EVAL_AFTER, _recipe_name(folder), "training")
    if (folder / METRICS).is_file():
        return _eval_scores(folder)
    raise InputError(f"{folder}: not a run folder (no {RECIPE} and {EVAL_AFTER} of `rewardmap train`, "
                     f"nor {METRICS} and {RESPONSES} of `rewardmap eval`)")


def _training_scores(folder: Path, path: Path, name: str, kind: str) -> RunScores:
    """Scores from eval_after.json (or eval_baseline.json): benchmark summaries plus answers."""
    result = _read_json(path)
    summaries = {b: result[b] for b in BENCHMARKS if b in result}
    if not summaries:
        raise InputError(f"{path}: no {' or '.join(BENCHMARKS)} scores")
    answers = result.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise InputError(f"{path}: field 'answers': expected a list of answers with question ids")
    questions = {b: frozenset(_id(a.get("id")) for a in answers if _benchmark_of(a.get("type")) == b)
                 for b in summaries}
    per_question: dict[str, dict[str, tuple]] = {}
    for a in answers:
        bench = (a.get("scores") or {}).get("benchmark") if isinstance(a.get("scores"), dict) else None
        benchmark = _benchmark_of(a.get("type"))
        if isinstance(bench, dict) and benchmark in summaries:
            per_question.setdefault(benchmark, {})[_id(a.get("id"))] = (a["type"], bench.get("weight"), bench)
    return RunScores(name, folder, kind, path, _values(summaries, path), questions, _complete(per_question, questions))


def _benchmark_scores(folder: Path, evaluations: list[Path]) -> RunScores:
    """A training run's benchmark evaluations (each an evaluation run folder) as one row: at most
    one evaluation per benchmark, since a row has one set of columns per benchmark."""
    parts: dict[str, RunScores] = {}
    for part in map(_eval_scores, evaluations):
        (benchmark,) = part.questions
        if benchmark in parts:
            raise InputError(f"{folder}: two {benchmark} evaluations ({parts[benchmark].folder}, {part.folder}); "
                             "compare those folders themselves")
        parts[benchmark] = part
    return RunScores(_recipe_name(folder), folder, "training", folder / BENCHMARK_RUNS,
                     {key: value for part in parts.values() for key, value in part.values.items()},
                     {b: part.questions[b] for b, part in parts.items()},
                     {b: part.per_question[b] for b, part in parts.items() if b in part.per_question})


def _eval_scores(folder: Path) -> RunScores:
    path, responses = folder / METRICS, folder / RESPONSES
    summary = _read_json(path)
    benchmark = summary.get("benchmark")
    bench = BENCHMARKS.get(benchmark) if isinstance(benchmark, str) else None  # JSON: maybe a list
    if bench is None:
        raise InputError(f"{path}: field 'benchmark': expected one of {', '.join(BENCHMARKS)}, got {benchmark!r}")
    if not responses.is_file():
        raise InputError(f"{folder}: evaluation run without {RESPONSES}")
    try:
        records = list(read_jsonl(responses))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{responses}: cannot read ({e})") from None
    missing = next((n for n, r in records if "id" not in r), None)
    if missing is not None:
        raise InputError(f"{responses}:{missing}: field 'id': missing")
    ids = frozenset(_id(r["id"]) for _, r in records)
    per_question = {}
    metrics = bench.metrics
    for _, r in records:
        if all(isinstance(r.get(m), (int, float)) for m in metrics):
            try:
                w = bench.weight(r)
            except RecordError:
                continue
            per_question[_id(r["id"])] = (r.get("type"), w, {m: r[m] for m in metrics})
    return RunScores(_folder_name(folder), folder, "eval", path, _values({benchmark: summary}, path),
                     {benchmark: ids}, _complete({benchmark: per_question}, {benchmark: ids}))


def _complete(per_question: dict[str, dict], questions: dict[str, frozenset]) -> dict[str, dict]:
    """Per-question scores of the benchmarks whose every question has them (else no intervals)."""
    return {b: scores for b, scores in per_question.items()
            if scores.keys() == questions.get(b) and all(isinstance(v[1], (int, float)) for v in scores.values())}


def _values(summaries: dict, path: Path) -> dict[str, dict[str, float]]:
    """Every column the summaries hold, in table units; a group without questions has none."""
    values = {}
    for benchmark, summary in summaries.items():
        if not isinstance(summary, dict) or not isinstance(summary.get("overall"), dict):
            raise InputError(f"{path}: {benchmark}: not a benchmark summary (no 'overall')")
    for col in COLUMNS:
        group = summaries.get(col.benchmark)
        for key in col.group:
            group = group.get(key) if isinstance(group, dict) else None
        if not isinstance(group, dict) or not group.get("count"):
            continue
        try:
            values[col.key] = {kind: float(group[col.metric][key]) * (100 if col.percent else 1)
                               for kind, key in KINDS.items()}
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: {col.benchmark} {'.'.join(col.group)}: no plain and weighted "
                             f"{col.metric}") from None
    return values


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e.msg})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _recipe_name(folder: Path) -> str:
    path = folder / RECIPE
    try:
        recipe = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"{path}: not a readable YAML file ({str(e).splitlines()[0]})") from None
    if not isinstance(recipe, dict):
        raise InputError(f"{path}: expected a mapping of settings")
    return str(recipe.get("name") or _folder_name(folder))  # a recipe without a name: its folder's


def _folder_name(folder: Path) -> str:
    return folder.resolve().name or str(folder)


def _benchmark_of(qtype) -> str | None:
    bench = benchmark_asking(qtype)
    return None if bench is None else bench.name


def _id(value) -> str:
    """A question id as a hashable key (ids are JSON values: 7 and "7" stay different)."""
    return json.dumps(value, sort_keys=True)


# ------------------------------------------------------------------ rows and the comparison

@dataclass
class Row:
    """One table row: a run, or (`--by-name`) the mean of runs sharing a name."""

    label: str
    runs: list[RunScores]
    values: dict[str, dict[str, float]]
    spread: dict[str, dict[str, float]] = field(default_factory=dict)  # half-range; merged rows only
    # 95% bootstrap interval over the questions, where every run kept its per-question scores
    intervals: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def questions(self, col: Column) -> dict[str, tuple[str, float, float]] | None:
        """{question id: (type, weight, score)} of one column, the mean over the row's runs;
        None unless every run kept per-question scores of the same questions."""
        maps = [_column_questions(r.per_question, col) for r in self.runs]
        if not maps or not all(maps) or any(m.keys() != maps[0].keys() for m in maps):
            return None
        return {q: (t, w, sum(m[q][2] for m in maps) / len(maps)) for q, (t, w, _) in sorted(maps[0].items())}


def _column_questions(per_question: dict, col: Column) -> dict[str, tuple[str, float, float]]:
    scores = per_question.get(col.benchmark) or {}
    kind, *name = col.group
    types = None  # the overall figure: every question
    if kind == "by_type":
        types = (name[0],)
    elif kind == "by_group":
        types = BENCHMARKS[col.benchmark].groups[name[0]]
    return {q: (t, w, float(v[col.metric])) for q, (t, w, v) in scores.items()
            if (types is None or t in types) and col.metric in v}


def _interval(questions: dict, col: Column, kind: str, baseline: dict | None = None) -> tuple[float, float]:
    """The 95% interval of a column's figure (KIND: plain or weighted), or of its difference from
    BASELINE's on the questions both answered (paired), in table units."""
    ids = sorted(questions if baseline is None else questions.keys() & baseline.keys())
    weights = [questions[q][1] if kind == "weighted" else 1.0 for q in ids]
    strata = [questions[q][0] for q in ids]
    scale = 100 if col.percent else 1
    if baseline is None:
        lo, hi = interval([questions[q][2] for q in ids], weights, strata=strata)
    else:
        d = paired_difference([baseline[q][2] for q in ids], [questions[q][2] for q in ids], weights, strata=strata)
        lo, hi = d["low"], d["high"]
    return lo * scale, hi * scale


def merge_runs(label: str, runs: Sequence[RunScores]) -> Row:
    """Mean over the runs that have each column, half the range as the spread, and each
    column's interval over the questions (of the runs' mean per question)."""
    values, spread = {}, {}
    for col in COLUMNS:
        have = [r.values[col.key] for r in runs if col.key in r.values]
        if not have:
            continue
        values[col.key] = {k: sum(v[k] for v in have) / len(have) for k in KINDS}
        if len(runs) > 1:
            spread[col.key] = {k: (max(v[k] for v in have) - min(v[k] for v in have)) / 2 for k in KINDS}
    row = Row(label, list(runs), values, spread)
    for col in COLUMNS:
        questions = row.questions(col) if col.key in values else None
        if questions:
            row.intervals[col.key] = {kind: _interval(questions, col, kind) for kind in KINDS}
    return row


@dataclass
class Comparison:
    """Rows against a baseline row; `warnings` are for the user (stderr)."""

    rows: list[Row]
    baseline: Row
    warnings: list[str] = field(default_factory=list)
    # difference intervals already drawn: the table and the JSON show the same ones
    _intervals: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def columns(self) -> list[Column]:
        return [c for c in COLUMNS if any(c.key in r.values for r in self.rows)]

    def difference(self, row: Row, key: str, kind: str) -> float | None:
        """Row minus baseline (None for the baseline itself or where either lacks the column)."""
        if row is self.baseline or key not in row.values or key not in self.baseline.values:
            return None
        return row.values[key][kind] - self.baseline.values[key][kind]

    def difference_interval(self, row: Row, col: Column, kind: str) -> tuple[float, float] | None:
        """The paired 95% interval of row minus baseline over the questions both answered (None
        where either run lacks per-question scores)."""
        if self.difference(row, col.key, kind) is None:
            return None
        key = (id(row), col.key, kind)
        if key not in self._intervals:
            mine, base = row.questions(col), self.baseline.questions(col)
            self._intervals[key] = _interval(mine, col, kind, baseline=base) \
                if mine and base and mine.keys() & base.keys() else None
        return self._intervals[key]

    def markdown(self) -> str:
        lines = []
        for kind, title in TITLES.items():
            lines += [f"### {title}", "", *self._table(kind), ""]
        lines.append("Accuracies in %, map scores raw (short of 20, long of 40). [a, b]: the 95% interval "
                     "(bootstrap over the questions); (+d [a, b]) after a value: its difference from the baseline "
                     f"row, **{self.baseline.label}**, with its paired interval over the questions both answered; "
                     "±: half the range over the runs of a merged row (the interval is that of their mean per "
                     "question); [...] after a name: the run folders, where names clash.")
        return "\n".join(lines) + "\n"

    def _table(self, kind: str) -> list[str]:
        cols = self.columns
        out = ["| run | " + " | ".join(c.label for c in cols) + " |", "|---|" + "---:|" * len(cols)]
        for row in self.rows:
            cells = [format_cell(row.values[c.key][kind], c.decimals, row.spread.get(c.key, {}).get(kind),
                                 self.difference(row, c.key, kind), row.intervals.get(c.key, {}).get(kind),
                                 self.difference_interval(row, c, kind)) if c.key in row.values else "-"
                     for c in cols]
            out.append(f"| {row.label.replace('|', '/')} | " + " | ".join(cells) + " |")
        return out

    def as_dict(self) -> dict:
        rows = []
        for row in self.rows:
            item = {"name": row.label, "folders": [str(r.folder) for r in row.runs], "kind": row.runs[0].kind,
                    "baseline": row is self.baseline,
                    "questions": {b: len(ids) for b, ids in row.runs[0].questions.items()},
                    "values": row.values, "intervals": row.intervals,
                    "difference": None if row is self.baseline else
                    {k: {kind: self.difference(row, k, kind) for kind in KINDS} for k in row.values},
                    "difference_intervals": None if row is self.baseline else
                    {c.key: {kind: self.difference_interval(row, c, kind) for kind in KINDS}
                     for c in COLUMNS if c.key in row.values}}
            if len(row.runs) > 1:
                item["spread"] = row.spread
                item["runs"] = [{"folder": str(r.folder), "values": r.values} for r in row.runs]
            rows.append(item)
        return {"baseline": self.baseline.label,
                "units": "accuracies in percent, map scores raw (short of 20, long of 40); "
                         "difference: row minus baseline; spread: half the range over merged runs; intervals: "
                         "95% bootstrap over the questions (differences: paired)",
                "columns": [{"key": c.key, "label": c.label, "benchmark": c.benchmark,
                             "unit": "percent" if c.percent else "raw"} for c in self.columns],
                "rows": rows, "warnings": list(self.warnings)}

    def png(self) -> bytes:
        """Bar chart of the weighted metrics (accuracies, then map scores), one colour per row."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        groups = [g for g in ([c for c in self.columns if c.percent], [c for c in self.columns if not c.percent]) if g]
        fig, axes = plt.subplots(1, len(groups), squeeze=False, width_ratios=[len(g) + 1 for g in groups],
                                 figsize=(2 + 1.1 * sum(len(g) + 1 for g in groups), 4.5))
        width, colors = 0.8 / len(self.rows), plt.get_cmap("tab10").colors
        for ax, cols in zip(axes[0], groups):
            for i, row in enumerate(self.rows):
                xs = [j + (i - (len(self.rows) - 1) / 2) * width for j in range(len(cols))]
                get = lambda d, c: d.get(c.key, {}).get("weighted", float("nan"))  # noqa: E731
                values = [get(row.values, c) for c in cols]
                if row.intervals:  # the 95% interval; else the half-range over merged runs
                    ci = [row.intervals.get(c.key, {}).get("weighted") for c in cols]
                    yerr = [[v - b[0] if b else 0 for v, b in zip(values, ci)],
                            [b[1] - v if b else 0 for v, b in zip(values, ci)]]
                else:
                    yerr = [get(row.spread, c) for c in cols] if row.spread else None
                ax.bar(xs, values, width, color=colors[i % len(colors)], label=row.label, yerr=yerr, capsize=3)
            ax.set_xticks(range(len(cols)), [c.label for c in cols], rotation=30, ha="right")
            ax.set_ylabel("accuracy (%)" if cols[0].percent else "map score")
            ax.grid(axis="y", alpha=0.3)
        axes[0][0].legend(fontsize="small")
        fig.suptitle("difficulty-weighted" + ("; error bars: 95% interval over the questions" if any(
            r.intervals for r in self.rows) else "; error bars: half the range over runs" if any(
            r.spread for r in self.rows) else ""))
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        plt.close(fig)
        return buffer.getvalue()

    def plot(self, path: str | os.PathLike) -> Path:
        write_bytes_atomic(path, self.png())
        return Path(path)


def format_cell(value: float, decimals: int, spread: float | None = None, difference: float | None = None,
                interval: tuple[float, float] | None = None,
                difference_interval: tuple[float, float] | None = None) -> str:
    """A table cell: value, ± spread, [interval], (difference [its interval]), all with DECIMALS decimals.

    >>> format_cell(51.23, 1, spread=1.71, difference=3.44)
    '51.2 ±1.7 (+3.4)'
    >>> format_cell(4.011, 2, difference=-0.001)
    '4.01 (+0.00)'
    >>> format_cell(51.23, 1, difference=3.44, interval=(48.1, 54.3), difference_interval=(1.2, 5.6))
    '51.2 [48.1, 54.3] (+3.4 [+1.2, +5.6])'
    """
    def signed(x: float) -> str:
        return f"{(x if round(x, decimals) else 0.0):+.{decimals}f}"  # no "-0.0"

    text = f"{value:.{decimals}f}"
    if spread is not None:
        text += f" ±{spread:.{decimals}f}"
    if interval is not None:
        text += f" [{interval[0]:.{decimals}f}, {interval[1]:.{decimals}f}]"
    if difference is not None:
        text += f" ({signed(difference)}"
        if difference_interval is not None:
            text += f" [{signed(difference_interval[0])}, {signed(difference_interval[1])}]"
        text += ")"
    return text


def compare_runs(folders: Iterable[str | os.PathLike], baseline: str | os.PathLike | None = None,
                 by_name: bool = False, trivial: bool = False, any_questions: bool = False) -> Comparison:
    """Read the run folders and line them up against BASELINE (default: the first folder; one
    not among FOLDERS comes first). BY_NAME merges runs of one recipe name; TRIVIAL adds the
    first training run's trivial baseline; different question sets are refused unless
    ANY_QUESTIONS (then they are warnings)."""
    folders = [Path(f) for f in folders]
    if not folders:
        raise InputError("no run folders given")
    if baseline is not None and not any(_same(baseline, f) for f in folders):
        folders.insert(0, Path(baseline))
    folders = [f for i, f in enumerate(folders) if not any(_same(f, g) for g in folders[:i])]
    runs = [read_run(f) for f in folders]
    warnings = []
    if trivial:
        first = next((r for r in runs if r.kind == "training"), None)
        if first is not None and (first.folder / EVAL_BASELINE).is_file():
            runs.append(_training_scores(first.folder, first.folder / EVAL_BASELINE, "trivial baseline",
                                         "trivial"))
        else:
            warnings.append("--trivial: " + (f"{first.folder} has no {EVAL_BASELINE}" if first else
                                             "no training run among the folders") + "; no trivial baseline row")
    mismatches = question_mismatches(runs)
    if mismatches and not any_questions:
        raise InputError(f"{mismatches[0]}; pass --any-questions to compare anyway")
    rows = _rows(runs, by_name)
    base = Path(baseline) if baseline is not None else folders[0]
    base_row = next(r for r in rows if any(run.kind != "trivial" and _same(run.folder, base) for run in r.runs))
    return Comparison(rows, base_row, warnings + mismatches)


def question_mismatches(runs: Sequence[RunScores]) -> list[str]:
    """One line per run that scored other questions of a benchmark than the first run that scored it."""
    out = []
    for benchmark in BENCHMARKS:
        scored = [r for r in runs if benchmark in r.questions]
        for other in scored[1:]:
            a, b = scored[0].questions[benchmark], other.questions[benchmark]
            if a != b:
                out.append(f"{other.where} scored other {benchmark} questions than {scored[0].where} "
                           f"({len(b)} vs {len(a)} questions, {len(a & b)} in common)")
    return out


def _rows(runs: list[RunScores], by_name: bool) -> list[Row]:
    """One row per run, or per (kind, name); clashing labels get their folders in brackets."""
    groups: dict = {}
    for i, run in enumerate(runs):
        groups.setdefault((run.kind, run.name) if by_name else i, []).append(run)
    parts = list(groups.values())
    labels = [p[0].name + (f" ({len(p)} runs)" if len(p) > 1 else "") for p in parts]
    labels = [f"{label} [{', '.join(r.where for r in p)}]" if labels.count(label) > 1 else label
              for label, p in zip(labels, parts)]
    return [merge_runs(label, p) for label, p in zip(labels, parts)]


def _same(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def write_comparison(comparison: Comparison, out_md: str | os.PathLike) -> list[Path]:
    """Write OUT.md (both tables), OUT.json (every row's numbers) and OUT.png, each atomically;
    returns their paths."""
    out_md = Path(out_md)
    if out_md.suffix.lower() in (".json", ".png"):
        raise InputError(f"{out_md}: give the markdown file to write (e.g. TABLE.md); .json and .png go beside it")
    paths = [out_md, out_md.with_suffix(".json"), out_md.with_suffix(".png")]
    write_files_atomic({paths[0]: comparison.markdown().encode("utf-8"),  # a failure leaves no half set
                        paths[1]: (json.dumps(comparison.as_dict(), indent=2, ensure_ascii=False) + "\n").encode(),
                        paths[2]: comparison.png()})
    return paths
