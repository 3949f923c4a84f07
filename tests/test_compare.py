"""`rewardmap compare`: run folders written by hand (summaries from `summarize`), no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.errors import InputError
from rewardmap.eval.compare import compare_runs, read_run, write_comparison
from rewardmap.metrics.summary import summarize

runner = CliRunner()

# (id, type, map difficulty): Plus weights 1, 2, 1, 1.5
PLUS = [(1, "TorF1", "easy"), (2, "TorF1", "hard"), (3, "Counting1", "easy"), (4, "Counting2", "middle")]
# (id, question difficulty, map difficulty): route weights 1 and 2.5
ROUTE = [(10, "easy", "easy"), (11, "hard", "middle")]
ALL_RIGHT, HALF = [True] * 4, [True, False, True, False]
ROUTE_A = [(1, 0, 12, 20), (0, 0, 4, 8)]  # acc_short, acc_long, map_score_short, map_score_long per question
ROUTE_B = [(1, 1, 20, 40), (1, 0, 15, 25)]


def _plus_rows(correct, questions=PLUS):
    return [{"id": i, "type": t, "city": "c", "difficulty_city": d, "correct": ok}
            for (i, t, d), ok in zip(questions, correct)]


def _route_rows(scores):
    keys = ("acc_short", "acc_long", "map_score_short", "map_score_long")
    return [{"id": i, "type": "planning", "city": "c", "difficulty_question": q, "difficulty_city": d,
             **dict(zip(keys, s))} for (i, q, d), s in zip(ROUTE, scores)]


def _scores(plus, route) -> dict:
    """What eval_after.json holds: benchmark summaries and the answered question ids."""
    rows = (_plus_rows(plus) if plus else []) + (_route_rows(route) if route else [])
    result = {"when": "after", "overall": {"count": len(rows)}, "by_type": {}, "answers": [
        {"id": r["id"], "type": r["type"], "answer": "x", **({"answer_long": "y"} if r["type"] == "planning" else {})}
        for r in rows]}
    if plus:
        result["reasonmap-plus"] = {**summarize(_plus_rows(plus), "reasonmap-plus"), "variant": "reference"}
    if route:
        result["reasonmap"] = {**summarize(_route_rows(route), "reasonmap"), "variant": "reference"}
    return result


def training_run(folder: Path, name: str, plus=None, route=None, trivial=None) -> Path:
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(f"# rewardmap recipe\nname: {name}\ngrpo:\n  lr: 1.0e-06\n")
    (folder / "eval_after.json").write_text(json.dumps(_scores(plus, route)))
    if trivial:
        (folder / "eval_baseline.json").write_text(json.dumps({"when": "trivial baseline", **_scores(*trivial)}))
    return folder


def eval_run(folder: Path, correct, questions=PLUS) -> Path:
    folder.mkdir(parents=True)
    rows = _plus_rows(correct, questions)
    summary = {**summarize(rows, "reasonmap-plus"), "variant": "reference", "predictions": {"ok": len(rows)},
               "run": {"backend": "api"}}
    (folder / "metrics.json").write_text(json.dumps(summary))
    (folder / "responses.jsonl").write_text("".join(json.dumps({**r, "response": "x"}) + "\n" for r in rows))
    return folder


@pytest.fixture
def pair(tmp_path):
    a = training_run(tmp_path / "a", "base", HALF, ROUTE_A, trivial=([False] * 4, [(0, 0, 0, 0)] * 2))
    b = training_run(tmp_path / "b", "rewardmap", ALL_RIGHT, ROUTE_B)
    return a, b


def _line(markdown: str, label: str, table: int = 0) -> str:
    """The row LABEL of the plain (0) or weighted (1) table."""
    return [line for line in markdown.splitlines() if line.startswith(f"| {label} |")][table]


def test_values_and_differences_from_the_baseline(pair):
    a, b = pair
    comparison = compare_runs([a, b])
    md = comparison.markdown()
    assert "### plain" in md and "### difficulty-weighted" in md
    assert md.splitlines()[2] == ("| run | Counting1 | Counting2 | TorF1 | Count | TorF | Plus overall | Acc. short | "
                                  "Acc. long | Map score short | Map score long |")  # no Counting3, no TorF2
    assert _line(md, "base") == "| base | 100.0 | 0.0 | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 | 0.0 | 8.00 | 14.00 |"
    assert _line(md, "rewardmap") == ("| rewardmap | 100.0 (+0.0) | 100.0 (+100.0) | 100.0 (+50.0) | 100.0 (+50.0) | "
                                      "100.0 (+50.0) | 100.0 (+50.0) | 100.0 (+50.0) | 50.0 (+50.0) | 17.50 (+9.50) | "
                                      "32.50 (+18.50) |")
    assert _line(md, "base", 1) == "| base | 100.0 | 0.0 | 33.3 | 40.0 | 33.3 | 36.4 | 28.6 | 0.0 | 6.29 | 11.43 |"
    assert _line(md, "rewardmap", 1) == ("| rewardmap | 100.0 (+0.0) | 100.0 (+100.0) | 100.0 (+66.7) | "
                                         "100.0 (+60.0) | 100.0 (+66.7) | 100.0 (+63.6) | 100.0 (+71.4) | 28.6 (+28.6) | "
                                         "16.43 (+10.14) | 29.29 (+17.86) |")
    assert "**base**" in md  # the baseline is named under the tables
    data = comparison.as_dict()
    assert data["baseline"] == "base" and [r["name"] for r in data["rows"]] == ["base", "rewardmap"]
    base, row = data["rows"]
    assert base["baseline"] and base["difference"] is None and base["kind"] == "training"
    assert row["values"]["Count"] == pytest.approx({"plain": 100.0, "weighted": 100.0})
    assert row["difference"]["Count"] == pytest.approx({"plain": 50.0, "weighted": 60.0})
    assert row["difference"]["map_score_long"]["weighted"] == pytest.approx((40 + 62.5) / 3.5 - 40 / 3.5)
    assert row["questions"] == {"reasonmap-plus": 4, "reasonmap": 2} and row["folders"] == [str(b)]


def test_baseline_elsewhere_in_the_list_and_outside_it(pair, tmp_path):
    a, b = pair
    md = compare_runs([a, b], baseline=b).markdown()
    assert _line(md, "base").endswith("| 50.0 (-50.0) | 50.0 (-50.0) | 0.0 (-50.0) | 8.00 (-9.50) | 14.00 (-18.50) |")
    assert _line(md, "rewardmap").endswith("| 100.0 | 50.0 | 17.50 | 32.50 |")
    outside = compare_runs([b], baseline=a)  # added as the first row
    assert [r.label for r in outside.rows] == ["base", "rewardmap"] and outside.baseline.label == "base"
    assert "100.0 (+50.0)" in _line(outside.markdown(), "rewardmap")


def test_by_name_merges_seeds_into_mean_and_half_range(tmp_path):
    base = training_run(tmp_path / "base", "base", HALF)
    s1 = training_run(tmp_path / "s1", "rewardmap", ALL_RIGHT)
    s2 = training_run(tmp_path / "s2", "rewardmap", HALF)
    comparison = compare_runs([base, s1, s2], by_name=True)
    assert [r.label for r in comparison.rows] == ["base", "rewardmap (2 runs)"]
    md = comparison.markdown()
    assert "Acc. short" not in md  # no route scores anywhere
    # plain: Counting1, Counting2, TorF1, Count, TorF, Plus overall
    assert _line(md, "rewardmap (2 runs)") == (
        "| rewardmap (2 runs) | 100.0 ±0.0 (+0.0) | 50.0 ±50.0 (+50.0) | 75.0 ±25.0 (+25.0) | 75.0 ±25.0 (+25.0) | "
        "75.0 ±25.0 (+25.0) | 75.0 ±25.0 (+25.0) |")
    # weighted Plus overall: runs 100 and 2/5.5, base 2/5.5
    assert _line(md, "rewardmap (2 runs)", 1).endswith("| 68.2 ±31.8 (+31.8) |")
    row = comparison.as_dict()["rows"][1]
    assert row["folders"] == [str(s1), str(s2)]
    assert [r["values"]["plus_overall"]["plain"] for r in row["runs"]] == pytest.approx([100.0, 50.0])
    assert row["spread"]["plus_overall"]["weighted"] == pytest.approx((100 - 200 / 5.5) / 2)
    assert len(compare_runs([base, s1, s2]).rows) == 3  # without --by-name: one row per run


def test_clashing_names_get_their_folders(tmp_path):
    one = eval_run(tmp_path / "one" / "x", HALF)
    two = eval_run(tmp_path / "two" / "x", ALL_RIGHT)
    t1 = training_run(tmp_path / "t1", "same", HALF)
    t2 = training_run(tmp_path / "t2", "same", ALL_RIGHT)
    comparison = compare_runs([one, two, t1, t2])
    assert [r.label for r in comparison.rows] == [f"x [{one}]", f"x [{two}]", f"same [{t1}]", f"same [{t2}]"]
    assert comparison.as_dict()["rows"][1]["kind"] == "eval"
    # evaluation runs keep each question's score, so their cells carry intervals (TorF1: 2 questions)
    assert "| 100.0 [100.0, 100.0] (+50.0 [+0.0, +100.0]) |" in _line(comparison.markdown(), f"x [{two}]")


def test_trivial_row_and_its_absence(pair, tmp_path):
    a, b = pair
    comparison = compare_runs([a, b], trivial=True)  # read from the first training run, a
    assert [r.label for r in comparison.rows] == ["base", "rewardmap", "trivial baseline"]
    trivial = _line(comparison.markdown(), "trivial baseline")
    assert trivial == ("| trivial baseline | 0.0 (-100.0) | 0.0 (+0.0) | 0.0 (-50.0) | 0.0 (-50.0) | 0.0 (-50.0) | "
                       "0.0 (-50.0) | 0.0 (-50.0) | 0.0 (+0.0) | 0.00 (-8.00) | 0.00 (-14.00) |")
    row = comparison.as_dict()["rows"][2]
    assert row["kind"] == "trivial" and row["folders"] == [str(a)] and not comparison.warnings
    absent = compare_runs([b, a], trivial=True)  # the first training run, b, has no eval_baseline.json
    assert [r.label for r in absent.rows] == ["rewardmap", "base"]
    assert absent.warnings == [f"--trivial: {b} has no eval_baseline.json; no trivial baseline row"]
    result = runner.invoke(app, ["compare", str(b), "--trivial"])
    assert result.exit_code == 0 and "no eval_baseline.json" in result.stderr and "trivial" not in result.stdout


def test_different_question_sets_are_refused_unless_asked(pair, tmp_path):
    a, _ = pair
    fewer = eval_run(tmp_path / "fewer", HALF[:3], PLUS[:3])
    with pytest.raises(InputError) as caught:
        compare_runs([a, fewer])
    assert str(caught.value) == (f"{fewer} scored other reasonmap-plus questions than {a} (3 vs 4 questions, 3 in "
                                 "common); pass --any-questions to compare anyway")
    comparison = compare_runs([a, fewer], any_questions=True)
    assert len(comparison.rows) == 2 and comparison.warnings == [str(caught.value).split(";")[0]]
    same = eval_run(tmp_path / "same", ALL_RIGHT)  # the same Plus ids as a: fine
    assert len(compare_runs([a, same]).rows) == 2
    result = runner.invoke(app, ["compare", str(a), str(fewer)])
    assert result.exit_code == 2 and "--any-questions" in result.stderr and len(result.stderr.splitlines()) == 1
    result = runner.invoke(app, ["compare", str(a), str(fewer), "--any-questions"])
    assert result.exit_code == 0 and "warning:" in result.stderr and "| fewer |" in result.stdout


def test_cli_prints_the_markdown(pair):
    a, b = pair
    result = runner.invoke(app, ["compare", str(a), str(b), "--trivial"])
    assert result.exit_code == 0, result.output
    assert result.stdout == compare_runs([a, b], trivial=True).markdown()


def _not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty", "not a run folder"


def _unfinished(tmp_path):
    folder = training_run(tmp_path / "t", "t", HALF)
    (folder / "eval_after.json").unlink()
    return folder, "without eval_after.json"


def _bad_metrics(tmp_path):
    folder = eval_run(tmp_path / "e", HALF)
    (folder / "metrics.json").write_text("{not json")
    return folder / "metrics.json", "not valid JSON"


def _no_responses(tmp_path):
    folder = eval_run(tmp_path / "e", HALF)
    (folder / "responses.jsonl").unlink()
    return folder, "without responses.jsonl"


def _no_answers(tmp_path):
    folder = training_run(tmp_path / "t", "t", HALF)
    (folder / "eval_after.json").write_text(json.dumps({"reasonmap-plus": summarize(_plus_rows(HALF),
                                                                                    "reasonmap-plus")}))
    return folder / "eval_after.json", "field 'answers'"


def _bad_summary(tmp_path):
    folder = training_run(tmp_path / "t", "t", HALF)
    scores = _scores(HALF, None)
    scores["reasonmap-plus"]["overall"]["correct"] = {"mean": "high"}
    (folder / "eval_after.json").write_text(json.dumps(scores))
    return folder / "eval_after.json", "no plain and weighted correct"


def _bad_yaml(tmp_path):
    folder = training_run(tmp_path / "t", "t", HALF)
    (folder / "recipe.yaml").write_text("name: [unclosed\n")
    return folder / "recipe.yaml", "not a readable YAML file"


@pytest.mark.parametrize("make", [_not_a_run, _unfinished, _bad_metrics, _no_responses, _no_answers, _bad_summary,
                                  _bad_yaml])
def test_a_folder_that_is_no_run_is_one_line_and_status_2(tmp_path, pair, make):
    a, _ = pair
    bad, message = make(tmp_path)
    result = runner.invoke(app, ["compare", str(a), str(bad.parent if bad.is_file() else bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}") and message in lines[0], lines
    with pytest.raises(InputError):
        read_run(bad.parent if bad.is_file() else bad)


def test_missing_folder_through_the_command(tmp_path):
    from commands import rewardmap

    result = rewardmap("compare", tmp_path / "nowhere", check=False, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {tmp_path / 'nowhere'}: no such run folder"


def test_output_writes_markdown_json_and_png(tmp_path, pair):
    a, b = pair
    s2 = training_run(tmp_path / "s2", "rewardmap", HALF, ROUTE_A)
    out = tmp_path / "tables" / "table1.md"
    result = runner.invoke(app, ["compare", str(a), str(b), str(s2), "--by-name", "--trivial", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    written = [out, out.with_suffix(".json"), out.with_suffix(".png")]
    assert all(f"wrote {p}" in result.stderr for p in written)
    comparison = compare_runs([a, b, s2], by_name=True, trivial=True)
    assert out.read_text() == comparison.markdown()
    data = json.loads(out.with_suffix(".json").read_text())
    assert [r["name"] for r in data["rows"]] == ["base", "rewardmap (2 runs)", "trivial baseline"]
    assert data["rows"][1]["runs"][1]["folder"] == str(s2)
    assert data["rows"][1]["values"]["acc_short"]["plain"] == pytest.approx(75.0)
    with Image.open(out.with_suffix(".png")) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 300
    assert sorted(p.name for p in out.parent.iterdir()) == ["table1.json", "table1.md", "table1.png"]  # no temp files
    with pytest.raises(InputError):
        write_comparison(comparison, tmp_path / "table.json")


def _scored_run(folder: Path, name: str, correct: list[bool], types: list[str]) -> Path:
    """A training run whose eval_after.json keeps each question's benchmark score and weight,
    as `rewardmap train` writes it."""
    rows = [{"id": i, "type": t, "city": f"c{i}", "difficulty_city": ("easy", "hard")[i % 2], "correct": ok}
            for i, (ok, t) in enumerate(zip(correct, types))]
    result = {"when": "after", "overall": {"count": len(rows)}, "by_type": {},
              "reasonmap-plus": {**summarize(rows, "reasonmap-plus"), "variant": "robust"},
              "answers": [{"id": r["id"], "type": r["type"], "answer": "x",
                           "scores": {"benchmark": {"weight": (1.0, 2.0)[r["id"] % 2], "correct": r["correct"]}}}
                          for r in rows]}
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(f"name: {name}\n")
    (folder / "eval_after.json").write_text(json.dumps(result))
    return folder


def test_intervals_come_from_the_questions_and_differences_are_paired(tmp_path):
    """Each cell's interval is the bootstrap over its questions (weighted ones by their weights);
    a difference is resampled question by question, so 15 more right answers out of 300 are a
    difference whose interval excludes 0 although the two rows' intervals overlap."""
    import random

    from rewardmap.metrics.intervals import interval, paired_difference

    rng = random.Random(0)
    types = ["TorF1", "Counting2", "Counting3"] * 100
    before = [rng.random() < 0.5 for _ in types]
    after = list(before)
    for i in [i for i, ok in enumerate(before) if not ok][:15]:
        after[i] = True
    a = _scored_run(tmp_path / "a", "start", before, types)
    b = _scored_run(tmp_path / "b", "grpo", after, types)
    comparison = compare_runs([a, b])
    base, row = comparison.rows
    order = sorted(range(len(types)), key=lambda i: json.dumps(i))  # questions in id order, as compare takes them
    types, before, after = ([xs[i] for i in order] for xs in (types, before, after))
    lo, hi = base.intervals["plus_overall"]["plain"]
    assert (lo, hi) == pytest.approx([100 * x for x in interval([float(v) for v in before], strata=types)])
    weights = [(1.0, 2.0)[i % 2] for i in order]
    assert base.intervals["plus_overall"]["weighted"] == pytest.approx(
        [100 * x for x in interval([float(v) for v in before], weights, strata=types)])
    assert row.intervals["plus_overall"]["plain"][0] < hi  # the two intervals overlap
    d = comparison.difference_interval(row, next(c for c in comparison.columns if c.key == "plus_overall"), "plain")
    expected = paired_difference([float(v) for v in before], [float(v) for v in after], strata=types)
    assert d == pytest.approx((100 * expected["low"], 100 * expected["high"])) and d[0] > 0
    cell = _line(comparison.markdown(), "grpo").split(" | ")[-1]
    assert cell.startswith(f"{100 * sum(after) / 300:.1f} [") and "(+5.0 [+" in cell
    assert comparison.as_dict()["rows"][1]["difference_intervals"]["plus_overall"]["plain"] == pytest.approx(d)
    # a run without per-question scores (older files) shows no intervals, and no paired ones beside it
    old = training_run(tmp_path / "old", "old", ALL_RIGHT)
    mixed = compare_runs([a, old], any_questions=True)
    assert not mixed.rows[1].intervals and "[" not in _line(mixed.markdown(), "old").split("|", 2)[2]


def benchmark_run(folder: Path, name: str, plus=None, route=None) -> Path:
    """A training run without held-out cities, as `rewardmap train` leaves it with eval.datasets:
    recipe.yaml and one evaluation run folder per benchmark under benchmarks/<dataset>/."""
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(f"name: {name}\n")
    if plus:
        eval_run(folder / "benchmarks" / "plus-test" / "reasonmap-plus", plus)
    if route:
        out = folder / "benchmarks" / "routes-test" / "reasonmap"
        out.mkdir(parents=True)
        rows = _route_rows(route)
        (out / "metrics.json").write_text(json.dumps({**summarize(rows, "reasonmap"), "variant": "reference"}))
        (out / "responses.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_training_runs_with_benchmarks_compare_on_them(tmp_path, pair):
    a, _ = pair
    zero = benchmark_run(tmp_path / "zero", "zero-shot", HALF, ROUTE_A)
    rl = benchmark_run(tmp_path / "rl", "rewardmap", ALL_RIGHT, ROUTE_B)
    comparison = compare_runs([zero, rl])
    md = comparison.markdown()
    # the same figures as the held-out runs of the same answers (pair), now with intervals and paired differences
    assert _line(md, "zero-shot").startswith("| zero-shot | 100.0 [100.0, 100.0] | 0.0 [0.0, 0.0] | 50.0 [")
    assert "| 100.0 [100.0, 100.0] (+50.0 [+0.0, +100.0]) |" in _line(md, "rewardmap")
    row = comparison.as_dict()["rows"][1]
    assert row["kind"] == "training" and row["questions"] == {"reasonmap-plus": 4, "reasonmap": 2}
    assert row["difference"]["acc_short"]["plain"] == pytest.approx(50.0)
    assert row["difference_intervals"]["map_score_short"]["plain"] is not None
    assert read_run(zero).values == read_run(a).values
    # the benchmarks, not the held-out questions, when a run has both
    (zero / "eval_after.json").write_text(json.dumps(_scores(ALL_RIGHT, ROUTE_B)))
    assert read_run(zero).values["plus_overall"]["plain"] == 50.0


def test_two_evaluations_of_one_benchmark_in_a_training_run_are_refused(tmp_path):
    run = benchmark_run(tmp_path / "run", "r", HALF)
    eval_run(run / "benchmarks" / "other-test" / "reasonmap-plus", ALL_RIGHT)
    with pytest.raises(InputError) as caught:
        read_run(run)
    found = [run / "benchmarks" / name / "reasonmap-plus" for name in ("other-test", "plus-test")]
    assert str(caught.value) == (f"{run}: two reasonmap-plus evaluations ({found[0]}, {found[1]}); compare those "
                                 "folders themselves")
