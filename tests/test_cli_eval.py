"""`rewardmap metrics` and `rewardmap score` on predictions built from a real dataset folder."""

import json

import pytest
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.datasets.build import build_dataset
from rewardmap.questions import prompts

runner = CliRunner()


@pytest.fixture
def dataset(tmp_path, toy_file):
    out = tmp_path / "ds"
    build_dataset(toy_file.parents[1], out, per_city=40, seed=2)
    return [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()], out


def _gold(record: dict) -> str:
    kind, answer = record["type"], record["answer"]
    if kind.startswith("TorF"):
        return f"\\boxed{{{'yes' if answer else 'no'}}}"
    if kind == "Counting1":
        return f"\\boxed{{{'ABCD'[answer]}}}"
    return f"\\boxed{{{answer}}}"


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_metrics_cli_scores_gold_answers_perfectly_and_wrong_ones_as_zero(tmp_path, dataset):
    records, root = dataset
    plus = [dict(r, response=_gold(r)) for r in records if r["type"] != "planning"]
    routes = []
    for r in records:
        if r["type"] == "planning":
            long = "count" if "Number of Via Stops:" in r["question_long"] else "list"
            routes.append(dict(r, response_short=r["answer"],
                               response_long=prompts.route_answer(r["routes"][0], long=long) + "\n"))
    result = runner.invoke(app, ["metrics", str(_write(tmp_path / "plus.jsonl", plus)),
                                 "--benchmark", "reasonmap-plus", "-o", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert json.dumps(summary).count('"count"') > 1
    scores = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert len(scores) == len(plus) and all(s["correct"] for s in scores)
    result = runner.invoke(app, ["metrics", str(_write(tmp_path / "routes.jsonl", routes)),
                                 "--benchmark", "reasonmap", "--stations-root", str(root), "-o", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 0, result.output
    scores = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(scores) == len(routes) and all(s["acc_short"] == 1 and s["acc_long"] == 1 for s in scores)
    wrong = [dict(r, response_short="no idea", response_long="no idea") for r in routes]
    result = runner.invoke(app, ["metrics", str(_write(tmp_path / "w.jsonl", wrong)),
                                 "--benchmark", "reasonmap", "--stations-root", str(root), "-o", str(tmp_path / "w.out")])
    assert result.exit_code == 0
    assert all(json.loads(line) == {"acc_short": 0, "map_score_short": 0, "acc_long": 0, "map_score_long": 0}
               for line in (tmp_path / "w.out").read_text().splitlines())


def test_metrics_cli_errors_are_one_line(tmp_path, dataset):
    records, root = dataset
    route = next(r for r in records if r["type"] == "planning")
    bad = _write(tmp_path / "bad.jsonl", [dict(route, json="stations/nowhere.json", response_short="", response_long="")])
    result = runner.invoke(app, ["metrics", str(bad), "--benchmark", "reasonmap", "--stations-root", str(root)])
    assert result.exit_code == 2 and "bad.jsonl:1: field 'json'" in result.output
    result = runner.invoke(app, ["metrics", str(bad), "--benchmark", "reasonmap-pro"])
    assert result.exit_code == 2 and "--benchmark: expected one of reasonmap, reasonmap-plus" in result.output
    result = runner.invoke(app, ["metrics", str(tmp_path / "missing.jsonl"), "--benchmark", "reasonmap"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_score_cli_rewards_gold_answers_in_order_and_fails_in_one_line(tmp_path, dataset):
    records, root = dataset
    rows = [dict(r, response=r["answer"] if r["type"] == "planning" else _gold(r)) for r in records]
    rows.append(dict(records[0], response="I do not know"))
    path = _write(tmp_path / "in.jsonl", rows)
    result = runner.invoke(app, ["score", str(path), "--stations-root", str(root), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == len(rows)
    assert all(o["correct"] and o["parsed"] and o["reward"] > 0 for o in out[:-1])
    assert out[-1]["reward"] == 0 and not out[-1]["correct"]
    for o, r in zip(out, rows):
        assert set(o) >= {"reward", "correct", "detail", "weight", "parsed"}
        if r["type"] != "planning":  # Plus: W * 10 on a middle map (W = 1.2)
            assert o["reward"] == pytest.approx(12.0) if o["correct"] else o["reward"] == 0
    assert "mean reward" in result.output  # the per-type table on stderr
    baseline = runner.invoke(app, ["score", str(path), "--stations-root", str(root), "--mode", "baseline"])
    first = json.loads(baseline.stdout.splitlines()[0])
    assert first["weight"] == 1.0
    route = next(r for r in records if r["type"] == "planning")
    bad = _write(tmp_path / "bad.jsonl", [dict(route, response="x", json="stations/none.json")])
    result = runner.invoke(app, ["score", str(bad), "--stations-root", str(root)])
    assert result.exit_code == 2 and "bad.jsonl:1: field 'json'" in result.output
    result = runner.invoke(app, ["score", str(path), "--variant", "lenient"])
    assert result.exit_code == 2 and "--variant: expected one of reference, robust; got 'lenient'" in result.output
    result = runner.invoke(app, ["score", str(path), "--mode", "flat"])
    assert result.exit_code == 2 and "--mode: expected one of difficulty_aware, baseline; got 'flat'" in result.output
    result = runner.invoke(app, ["metrics", str(path), "--benchmark", "reasonmap", "--variant", "lenient"])
    assert result.exit_code == 2 and "--variant: expected one of reference, robust" in result.output


def test_the_library_refuses_a_choice_in_the_words_of_the_cli(tmp_path):
    from rewardmap.metrics import evaluate_predictions
    from rewardmap.rewards import RewardConfig

    calls = ((lambda: RewardConfig(variant="lenient"), "variant: expected one of reference, robust; got 'lenient'"),
             (lambda: RewardConfig(mode="flat"), "mode: expected one of difficulty_aware, baseline; got 'flat'"),
             (lambda: evaluate_predictions(tmp_path / "p.jsonl", "mathvista"),
              "benchmark: expected one of reasonmap, reasonmap-plus; got 'mathvista'"))
    for call, words in calls:
        with pytest.raises(ValueError) as e:
            call()
        assert str(e.value) == words
