"""The evaluation report: `RUN/report.html` (one self-contained page, readable offline) and
`RUN/report.md` with its plots in `RUN/eval_plots/`.

Both hold the summary of `evaluate_predictions` beside the numbers the RewardMap paper
publishes for other models, breakdowns by difficulty, type, group and city, and plots of accuracy by
difficulty and by type. The HTML page also lists the failures: the map (with, for a route
question on a synthetic map, the reference route and the model's route drawn on it), the
question, the model's answer and the reference. Every piece of record or model text is
HTML-escaped; images are base64 data URLs; the small filter script is optional (the page
reads fully without it).
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..fileio import is_file, write_bytes_atomic, write_text_atomic  # noqa: E402
from ..network import StationFiles  # noqa: E402
from . import report_draw as rd  # noqa: E402
from .cut import SHOWN_CHARS, cut_middle  # noqa: E402
from ..metrics.benchmarks import Benchmark, benchmark_named  # noqa: E402
from ..metrics.published import PUBLISHED_SOURCE  # noqa: E402
from ..run_files import EVAL_PLOTS, REPORT, REPORT_HTML  # noqa: E402

MAX_FAILURES = 100
_METRIC_LABELS = {"acc_short": "accuracy short", "acc_long": "accuracy long",
                  "map_score_short": "map score short", "map_score_long": "map score long",
                  "correct": "accuracy"}
_BREAKDOWNS = {"by_question_difficulty": "question difficulty", "by_map_difficulty": "map difficulty",
               "by_type": "type", "by_group": "group", "by_city": "city"}
_ANSWER_LABELS = {"response": "answer", "response_short": "short answer", "response_long": "long answer"}


class Table:
    """A table rendered both as HTML and as markdown; cells are plain text (escaped on output)."""

    def __init__(self, title: str, head: Sequence[str], rows: Sequence[Sequence[str]], note: str = "",
                 bold_rows: Sequence[int] = ()):
        self.title, self.head, self.rows, self.note, self.bold = title, list(head), rows, note, set(bold_rows)

    def html(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(h)}</th>" for h in self.head)
        body = "".join("<tr" + (' class="ours"' if i in self.bold else "") + ">"
                       + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for i, row in enumerate(self.rows))
        note = f'<p class="note">{e(self.note)}</p>' if self.note else ""
        return f"<h3>{e(self.title)}</h3>{note}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def markdown(self) -> list[str]:
        def cell(text: str, bold: bool) -> str:
            text = str(text).replace("|", "\\|").replace("\n", " ")
            return f"**{text}**" if bold and text else text
        out = [f"### {self.title}", ""] + ([self.note, ""] if self.note else [])
        out += ["| " + " | ".join(cell(h, False) for h in self.head) + " |",
                "|---|" + "---:|" * (len(self.head) - 1)]
        out += ["| " + " | ".join(cell(c, i in self.bold) for c in row) + " |" for i, row in enumerate(self.rows)]
        return out + [""]


def write_eval_report(run_dir: str | Path, *, records: Sequence[Mapping], predictions: Sequence[Mapping],
                      scores: Sequence[Mapping], summary: Mapping, benchmark: str,
                      data_dir: str | Path | None, max_failures: int = MAX_FAILURES,
                      title: str | None = None) -> tuple[Path, Path]:
    """Write RUN/report.html, RUN/report.md and RUN/eval_plots/*.png; returns (html, md) paths.

    `records`: the evaluated questions (`figure` and `json` relative to `data_dir`);
    `predictions`: dicts with `id` and `response` (Plus) or `response_short` / `response_long`;
    `scores`: `evaluate_predictions`' per-record scores, in the order of `records`;
    `summary`: its summary. At most `max_failures` failures are shown, in record order.
    """
    bench = benchmark_named(benchmark)
    if len(scores) != len(records):
        raise InputError(f"{len(records)} records but {len(scores)} scores; they must be in the same order")
    run_dir = Path(run_dir)
    title = title or f"Evaluation report: {run_dir.name}"
    tables = _summary_tables(summary, bench) + _breakdown_tables(summary, bench)

    plots = {"accuracy_by_difficulty.png": ("Accuracy by difficulty", _difficulty_plot(summary, bench)),
             "accuracy_by_type.png": ("Accuracy by type", _type_plot(records, scores, summary, bench))}
    for name, (_, png) in plots.items():
        write_bytes_atomic(run_dir / EVAL_PLOTS / name, png)

    failures = [i for i, s in enumerate(scores) if not _passed(s, bench)]
    by_id = {str(p.get("id")): p for p in predictions if isinstance(p, Mapping)}
    meta = [("benchmark", bench.name), ("questions", str(len(records))), ("failures", str(len(failures))),
            ("variant", str(summary.get("variant", "-")))]

    page = _html_page(title, meta, tables, plots, records, scores, by_id, failures[:max(0, max_failures)],
                      len(failures), bench, data_dir)
    html_path, md_path = run_dir / REPORT_HTML, run_dir / REPORT
    write_text_atomic(html_path, page)
    write_text_atomic(md_path, _markdown(title, meta, tables, plots, records, scores, failures, max_failures))
    return html_path, md_path


# ---------------------------------------------------------------- tables

def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _summary_tables(summary: Mapping, bench: Benchmark) -> list[Table]:
    overall = summary.get("overall") or {}
    pub = summary.get("published") or {}
    rows = []
    for m in bench.reported:
        stats = overall.get(m) or {}
        unit = "fraction" if m in bench.accuracies else \
            f"points, of {(summary.get('map_score_max') or {}).get(m.rsplit('_', 1)[1], '?')}"
        rows.append([_METRIC_LABELS[m], unit, _fmt(stats.get("mean"), 4), _fmt(stats.get("weighted"), 4)])
    first = Table(f"Summary ({overall.get('count', 0)} questions)", ["metric", "unit", "mean", "weighted"], rows)
    ours = f"this run ({summary.get('variant', '-')} parser)"
    head = ["model", *(label for _, label in bench.published_columns)]
    mine = [ours, *(_fmt(pub.get(k)) for k, _ in bench.published_columns)]
    published = [[m, *(_fmt(v) for v in vals)] for m, *vals in bench.published]
    compare = Table("Compared with published results", head, [mine, *published],
                    note=f"Published numbers: {PUBLISHED_SOURCE}. This run's row uses the same units.",
                    bold_rows=[0])
    return [first, compare]


def _breakdown_tables(summary: Mapping, bench: Benchmark) -> list[Table]:
    out = []
    metrics = bench.reported
    for key, label in _BREAKDOWNS.items():
        groups = summary.get(key)
        if not groups:
            continue
        rows = []
        for name, stats in groups.items():
            cells = [f"{_fmt((stats.get(m) or {}).get('mean'), 3)} / {_fmt((stats.get(m) or {}).get('weighted'), 3)}"
                     for m in metrics]
            rows.append([str(name), str(stats.get("count", 0)), *cells])
        out.append(Table(f"By {label}", [label, "n", *(f"{_METRIC_LABELS[m]} (mean / weighted)" for m in metrics)],
                         rows))
    return out


# ---------------------------------------------------------------- plots

def _bars(ax, groups: Mapping[str, Mapping], metrics: Sequence[str], xlabel: str) -> None:
    names = list(groups)
    width = 0.8 / len(metrics)
    for k, m in enumerate(metrics):
        values = [(groups[g].get(m) or {}).get("mean") or 0.0 for g in names]
        xs = [i + (k - (len(metrics) - 1) / 2) * width for i in range(len(names))]
        ax.bar(xs, values, width, label=_METRIC_LABELS[m])
    ax.set_xticks(range(len(names)), [f"{g}\n(n={groups[g].get('count', 0)})" for g in names], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean accuracy")
    ax.grid(axis="y", alpha=0.3)
    if len(metrics) > 1:
        ax.legend(fontsize=8)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _difficulty_plot(summary: Mapping, bench: Benchmark) -> bytes:
    keys = list(bench.breakdowns)
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys) + 1, 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        _bars(ax, summary.get(key) or {}, bench.accuracies, _BREAKDOWNS[key])
    return _png(fig)


def _type_plot(records: Sequence[Mapping], scores: Sequence[Mapping], summary: Mapping, bench: Benchmark) -> bytes:
    groups = dict(summary.get("by_type") or {})
    if not groups:  # ReasonMap summaries have no by_type: compute it from the rows
        for record, score in zip(records, scores):
            g = groups.setdefault(str(record.get("type", "-")), {"count": 0, "_sums": {}})
            g["count"] += 1
            for m in bench.accuracies:
                g["_sums"][m] = g["_sums"].get(m, 0.0) + float(score.get(m) or 0)
        for g in groups.values():
            for m, total in g.pop("_sums").items():
                g[m] = {"mean": total / g["count"]}
    if bench.groups:
        groups.update({f"{k} (group)": v for k, v in (summary.get("by_group") or {}).items()})
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(groups) + 1.5), 3.4))
    _bars(ax, groups, bench.accuracies, "question type")
    return _png(fig)


# ---------------------------------------------------------------- failures

def _passed(score: Mapping, bench: Benchmark) -> bool:
    return all(bool(score.get(m)) for m in bench.accuracies)


def _responses(prediction: Mapping | None, bench: Benchmark) -> list[tuple[str, str | None]]:
    """(label, text) of each answer, in the order of `bench.accuracies` that judge them."""
    prediction = prediction or {}
    return [(_ANSWER_LABELS[name], prediction.get(name)) for name in bench.requests]


def _plan_text(plan: Sequence[rd.Section]) -> str:
    return "\n--\n".join(f"Route Name: {n}\nDeparture Stop: {d}\nArrival Stop: {a}" for n, d, a in plan)


class _Maps:
    """Map images of the failures: plain thumbnails cached per figure, routes drawn when possible."""

    def __init__(self, data_dir: str | Path | None):
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.files = StationFiles(self.data_dir) if self.data_dir is not None else None
        self.images: dict[str, Image.Image | None] = {}
        self.plain: dict[str, str | None] = {}

    def image(self, record: Mapping) -> Image.Image | None:
        figure = record.get("figure")
        if self.data_dir is None or not isinstance(figure, str) or figure.startswith("data:") or len(figure) > 1024:
            return None
        if figure not in self.images:
            path = rd.safe_child(self.data_dir, figure)
            try:
                self.images[figure] = Image.open(path).convert("RGB") if path and is_file(path) else None
            except OSError:
                self.images[figure] = None
        return self.images[figure]

    def plain_url(self, record: Mapping) -> str | None:
        figure = str(record.get("figure"))
        if figure not in self.plain:
            image = self.image(record)
            self.plain[figure] = rd.data_url(image) if image is not None else None
        return self.plain[figure]

    def routes_url(self, record: Mapping, response: str | None) -> tuple[str, str] | None:
        """(data URL, caption) of the map with both routes drawn, or None when it cannot be."""
        image = self.image(record)
        positions = rd.load_positions(self.data_dir, record) if image is not None else None
        if positions is None:
            return None
        network = rd.load_network(self.files, record)
        plans = rd.reference_plans(record)
        drawn_image, drawn = rd.draw_routes(image, positions, network, plans[0] if plans else [],
                                            rd.predicted_sections(response))
        caption = (f"reference route ({drawn['reference']} sections drawn) wide, model's route "
                   f"({drawn['predicted']} sections drawn) narrow; dashed: not along a line of the map")
        return rd.data_url(drawn_image), caption


def _failure_html(record: Mapping, score: Mapping, prediction: Mapping | None, bench: Benchmark,
                  maps: _Maps) -> str:
    e = html.escape
    qtype, qd, md = (str(record.get(k, "-")) for k in ("type", "difficulty_question", "difficulty_city"))
    responses = _responses(prediction, bench)
    parts = [f'<article class="fail" data-type="{e(qtype)}" data-qd="{e(qd)}" data-md="{e(md)}">',
             f"<h3>{e(str(record.get('id', '?')))}</h3>",
             f'<p class="tags">type <b>{e(qtype)}</b> · question <b>{e(qd)}</b> · map <b>{e(md)}</b>'
             f" · city <b>{e(str(record.get('city', '-')))}</b></p>", '<div class="row">']
    figure = None
    if bench.routes:
        # Draw the answer that failed (the short one first).
        label, response = next(((lab, r) for (lab, r), m in zip(responses, bench.accuracies)
                                if not score.get(m)), responses[0])
        drawn = maps.routes_url(record, response)
        if drawn:
            legend = (f'<span class="sw" style="background:rgb{rd.REFERENCE_COLOUR}"></span> reference '
                      f'<span class="sw" style="background:rgb{rd.PREDICTED_COLOUR}"></span> model ({e(label)})')
            figure = f'<img src="{drawn[0]}" alt="map with routes"><figcaption>{legend}<br>{e(drawn[1])}</figcaption>'
    if figure is None:
        url = maps.plain_url(record)
        figure = f'<img src="{url}" alt="map">' if url else '<p class="note">map not available</p>'
    parts.append(f"<figure>{figure}</figure><div class=\"text\">")
    parts.append(f"<h4>Question</h4><pre>{e(str(record.get('question', '')))}</pre>")
    for (label, response), m in zip(responses, bench.accuracies):
        verdict = "right" if score.get(m) else "wrong"
        body = e(cut_middle(response, SHOWN_CHARS)) if isinstance(response, str) else "<i>no answer</i>"
        parts.append(f'<h4>Model {e(label)} <span class="{verdict}">{verdict}</span></h4><pre>{body}</pre>')
    parts.append(f"<h4>Reference answer</h4><pre>{e(str(record.get('answer', '')))}</pre>")
    for k, plan in enumerate(rd.reference_plans(record)[1:], 2):
        parts.append(f"<h4>Other reference plan {k}</h4><pre>{e(_plan_text(plan))}</pre>")
    shown = ", ".join(f"{m} {score.get(m)}" for m in bench.reported if m in score)
    parts.append(f'<p class="note">scores: {e(shown)}</p></div></div></article>')
    return "".join(parts)


# ---------------------------------------------------------------- pages

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1150px;color:#222;
  padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f2f2f2}
td:first-child,th:first-child{text-align:left}tr.ours td{font-weight:bold;background:#fff6d5}
.meta td{text-align:left}.note{color:#555;font-size:.85em}
.plots img{max-width:100%;border:1px solid #ddd;margin:.3em .6em .3em 0}
.tables{display:flex;flex-wrap:wrap;gap:0 2em}
article.fail{border:1px solid #ccc;border-radius:6px;padding:.5em 1em;margin:1em 0}
article.fail h3{margin:.2em 0}.tags{margin:.2em 0;font-size:.9em}
.row{display:flex;gap:1.2em;align-items:flex-start;flex-wrap:wrap}
figure{margin:0;max-width:480px}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.8em;color:#444}.text{flex:1;min-width:320px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.4em;margin:.2em 0;font-size:.85em}
h4{margin:.6em 0 .1em;font-size:.9em}.right{color:#070}.wrong{color:#b00}
.sw{display:inline-block;width:1.4em;height:.7em;vertical-align:middle;border:1px solid #888}
#filters{display:none;gap:1em;margin:.5em 0}#filters label{font-size:.9em}
"""

_SCRIPT = """
(function(){
  var f=document.getElementById('filters');f.style.display='flex';
  var sel=f.querySelectorAll('select'),count=document.getElementById('shown');
  function apply(){
    var n=0;document.querySelectorAll('article.fail').forEach(function(a){
      var ok=true;sel.forEach(function(s){if(s.value&&a.dataset[s.name]!==s.value)ok=false;});
      a.style.display=ok?'':'none';if(ok)n++;});
    count.textContent=n+' shown';}
  sel.forEach(function(s){s.addEventListener('change',apply);});apply();
})();
"""


def _select(name: str, label: str, values: Sequence[str]) -> str:
    e = html.escape
    options = "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)
    return f'<label>{e(label)} <select name="{name}"><option value="">all</option>{options}</select></label>'


def _html_page(title, meta, tables, plots, records, scores, by_id, shown, n_failures, bench, data_dir) -> str:
    e = html.escape
    maps = _Maps(data_dir)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>",
           '<table class="meta">' + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in meta)
           + "</table>", "<h2>Results</h2>", *(t.html() for t in tables[:2]), "<h2>Plots</h2>", '<div class="plots">']
    out += [f'<img src="{rd.png_data_url(png)}" alt="{e(label)}" title="{e(label)}">' for label, png in plots.values()]
    out += ["</div>", "<h2>Breakdowns</h2>", '<div class="tables">',
            *(f"<div>{t.html()}</div>" for t in tables[2:]), "</div>"]
    out.append(f"<h2>Failures ({n_failures})</h2>")
    if len(shown) < n_failures:
        out.append(f'<p class="note">The first {len(shown)} failures in question order are shown.</p>')
    if shown:
        values = {k: sorted({str(records[i].get(f, "-")) for i in shown})
                  for k, f in (("type", "type"), ("qd", "difficulty_question"), ("md", "difficulty_city"))}
        out.append('<div id="filters">' + _select("type", "type", values["type"])
                   + _select("qd", "question difficulty", values["qd"])
                   + _select("md", "map difficulty", values["md"]) + ' <span id="shown" class="note"></span></div>')
    for i in shown:
        out.append(_failure_html(records[i], scores[i], by_id.get(str(records[i].get("id"))), bench, maps))
    if shown:
        out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _markdown(title, meta, tables, plots, records, scores, failures, max_failures) -> str:
    lines = [f"# {title}", "", *(f"- {k}: {v}" for k, v in meta), "", "## Results", ""]
    for t in tables[:2]:
        lines += t.markdown()
    lines += ["## Plots", ""]
    lines += [f"![{label}]({EVAL_PLOTS}/{name})\n" for name, (label, _) in plots.items()]
    lines += ["## Breakdowns", ""]
    for t in tables[2:]:
        lines += t.markdown()
    rows = [[str(records[i].get(k, "-")) for k in ("id", "type", "difficulty_question", "difficulty_city", "city")]
            for i in failures[:max(0, max_failures)]]
    lines += Table(f"Failures ({len(failures)}; answers and maps in {REPORT_HTML})",
                   ["id", "type", "question difficulty", "map difficulty", "city"], rows).markdown()
    return "\n".join(lines)
