"""The evaluation report (`rewardmap.eval.report`): a self-contained HTML page and markdown."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rewardmap.datasets.synthetic import synth_dataset
from rewardmap.eval import report_draw as rd
from rewardmap.metrics.summary import evaluate_predictions
from rewardmap.eval.report import write_eval_report
from rewardmap.metrics.published import PUBLISHED_PLUS, PUBLISHED_REASONMAP
from rewardmap.fileio import read_jsonl, write_jsonl_atomic
from rewardmap.answers.plus import judge_plus

INJECTED = "<script>console.error('INJECTED-ANSWER')</script><img src=x onerror=\"console.error('INJECTED')\">"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "data"
    synth_dataset(out, cities=2, seed=0, size=256, per_city=10)
    return out


def _records(data: Path, benchmark: str) -> list[dict]:
    records = [r for _, r in read_jsonl(data / "questions.jsonl")]
    return [r for r in records if (r["type"] == "planning") == (benchmark == "reasonmap")]


def _route_predictions(records):
    """Every third answer right (the reference), one with a <script>, the rest wrong stops."""
    preds = []
    for i, r in enumerate(records):
        first = r["routes"][0][0]
        if i % 3 == 0:
            short = r["answer"]
        elif i % 3 == 1:
            short = f"{INJECTED}\nRoute Name: Line Z\nDeparture Stop: {r['station_1']}\nArrival Stop: {r['station_2']}"
        else:  # right line and departure, stops short of the arrival: a different drawn route
            stop = first["via_stops"][0] if first["via_stops"] else first["departure_stop"]
            short = f"Route Name: {first['route_name']}\nDeparture Stop: {first['departure_stop']}\nArrival Stop: {stop}"
        preds.append({"id": r["id"], "response_short": short, "response_long": short + "\n"})
    return preds


def _plus_predictions(records):
    preds = []
    for i, r in enumerate(records):
        if i % 2:
            response = INJECTED
        else:  # a right answer, whichever form the question asks for
            candidates = [f"\\boxed{{{x}}}" for x in ("A", "B", "C", "D", "yes", "no", r["answer"])]
            response = next(c for c in candidates if judge_plus(c, r["type"], r["answer"], "reference")[1])
        preds.append({"id": r["id"], "response": response})
    return preds


def _report(tmp_path: Path, data: Path, benchmark: str):
    records = _records(data, benchmark)
    preds = (_route_predictions if benchmark == "reasonmap" else _plus_predictions)(records)
    pred_file = tmp_path / "predictions.jsonl"
    write_jsonl_atomic(pred_file, [{**r, **p} for r, p in zip(records, preds)])
    summary, scores = evaluate_predictions(pred_file, benchmark, stations_root=data)
    run = tmp_path / "run"
    html_path, md_path = write_eval_report(run, records=records, predictions=preds, scores=scores,
                                           summary=summary, benchmark=benchmark, data_dir=data)
    return run, html_path, md_path, records, scores, summary


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.scripts, self.in_script, self.script_text = [], [], 0, False, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.in_script = tag == "script"
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "poster", "data") and v]

    def handle_endtag(self, tag):
        self.in_script = False if tag == "script" else self.in_script

    def handle_data(self, data):
        if self.in_script:
            self.script_text.append(data)


def _images(html: str, alt: str) -> list[Image.Image]:
    found = re.findall(r'src="data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=]+)" alt="' + alt + '"', html)
    return [Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB") for b in found]


def _near(image: Image.Image, colour, tol: int = 30) -> int:
    pixels = np.asarray(image, dtype=int)
    return int((np.abs(pixels - np.array(colour)).max(axis=2) <= tol).sum())


@pytest.mark.parametrize("benchmark", ["reasonmap", "reasonmap-plus"])
def test_report_is_self_contained_and_escaped(tmp_path, data, benchmark):
    run, html_path, md_path, records, scores, summary = _report(tmp_path, data, benchmark)
    assert html_path == run / "report.html" and md_path == run / "report.md"
    html = html_path.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(html)
    parser.close()
    assert {"html", "head", "body", "table", "img", "article"} <= set(parser.tags)
    # No external references: every URL is an inline data URL.
    assert parser.urls and all(u.startswith("data:") for u in parser.urls), \
        [u for u in parser.urls if not u.startswith("data:")]
    assert "http://" not in html and "https://" not in html and "url(" not in html
    # The model's <script> is text, not markup: only our own filter script is a script element.
    assert parser.scripts == 1 and "INJECTED" not in "".join(parser.script_text)
    assert "&lt;script&gt;console.error(&#x27;INJECTED-ANSWER&#x27;)&lt;/script&gt;" in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")
    # Summary and published tables, plots.
    assert "Summary (" in html and "Compared with published results" in html and "RewardMap paper" in html and "rewardmap-method" not in html
    published = PUBLISHED_PLUS if benchmark == "reasonmap-plus" else PUBLISHED_REASONMAP
    for model, first, *_ in published:
        assert model in html and f"{first:.2f}" in html
    ours = summary["published"]["overall" if benchmark == "reasonmap-plus" else "acc_short"]
    assert f"{ours:.2f}" in html
    assert 'alt="Accuracy by difficulty"' in html and 'alt="Accuracy by type"' in html
    failures = sum(1 for s in scores if not all(s.get(m) for m in s if m in ("correct", "acc_short", "acc_long")))
    assert 0 < failures < len(records)
    assert html.count('<article class="fail"') == failures
    # Markdown: same tables, the plots written beside it.
    md = md_path.read_text(encoding="utf-8")
    assert "### Compared with published results" in md and published[0][0] in md
    for name in ("accuracy_by_difficulty.png", "accuracy_by_type.png"):
        assert f"](eval_plots/{name})" in md
        assert Image.open(run / "eval_plots" / name).size[0] > 100


def test_routes_are_drawn_on_synthetic_maps(tmp_path, data):
    _, html_path, _, records, _, _ = _report(tmp_path, data, "reasonmap")
    html = html_path.read_text(encoding="utf-8")
    drawn = _images(html, "map with routes")
    assert drawn, "no failure map had its routes drawn"
    plain = Image.open(data / records[0]["figure"]).convert("RGB")
    assert all(img.size == plain.size for img in drawn)  # 256 px maps are not downscaled
    for img in drawn:
        assert not np.array_equal(np.asarray(img), np.asarray(plain))
        assert _near(img, rd.REFERENCE_COLOUR) > 20 and _near(img, rd.PREDICTED_COLOUR) > 10
    assert _near(plain, rd.PREDICTED_COLOUR) < 5  # the colours are the drawing's, not the map's


def test_route_follows_the_line_order(data):
    record = _records(data, "reasonmap")[0]
    files = rd.StationFiles(data)
    network = rd.load_network(files, record)
    plan = rd.reference_plans(record)[0]
    stops, on_line = rd.section_stops(network, plan[0])
    section = record["routes"][0][0]
    assert on_line and len(stops) == section["num_via_stops"] + 2
    assert stops[1:-1] == [rd.eclean(s) for s in section["via_stops"]]
    assert rd.section_stops(network, ("Line ?", "Nowhere Station", "Elsewhere"))[1] is False
    assert rd.load_positions(data, {**record, "city": "../../etc"}) is None


def test_rejects_misaligned_scores(tmp_path, data):
    from rewardmap.errors import InputError
    with pytest.raises(InputError):
        write_eval_report(tmp_path, records=[{}], predictions=[], scores=[], summary={},
                          benchmark="reasonmap", data_dir=data)


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("benchmark", ["reasonmap", "reasonmap-plus"])
def test_headless_chromium_renders_the_page(tmp_path, data, benchmark):
    _, html_path, _, _, _, _ = _report(tmp_path, data, benchmark)
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
           "--enable-logging=stderr", "--v=0", html_path.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stderr
    assert "Uncaught" not in log and "INJECTED" not in log, log[-2000:]
    assert not [line for line in log.splitlines() if "CONSOLE" in line and "error" in line.lower()]
    image = Image.open(shot).convert("L")
    assert image.size == (1200, 1600)
    histogram = image.histogram()
    assert sum(histogram[:200]) > 0.01 * image.size[0] * image.size[1]  # text, tables and plots drawn
    assert max(histogram) < 0.98 * image.size[0] * image.size[1]       # not a blank page
