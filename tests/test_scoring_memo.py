"""`rewardmap score` and `metrics` score a recurring answer once: the memo must never change a
result, whatever repeats, whatever kinds the fields hold."""

import json

import msgspec
import pytest

from rewardmap.datasets.build import build_dataset
from rewardmap.metrics import evaluate_predictions
from rewardmap.fileio import raw_value, read_jsonl_fields
from rewardmap.network import StationFiles
from rewardmap.rewards import RewardBreakdown, RewardConfig
from rewardmap.rewards.adapters import score_record
from rewardmap.rewards.batch import breakdown_lines, score_file


@pytest.fixture
def dataset(tmp_path, toy_file):
    out = tmp_path / "ds"
    build_dataset(toy_file.parents[1], out, per_city=40, seed=3)
    return [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()], out


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("variant", ["reference", "robust"])
def test_score_file_equals_scoring_each_line_alone(tmp_path, dataset, variant):
    records, root = dataset
    plus = next(r for r in records if r["type"] == "TorF1")
    route = next(r for r in records if r["type"] == "planning")
    label = plus["answer"]
    answers = ["\\boxed{yes}", "\\boxed{no}", "\\boxed{yes}", "", route["answer"], route["answer"]]
    rows = [dict(r, response=a) for r in (plus, route) for a in answers]
    # labels equal as dictionary keys but not as labels: only the integer is a valid one
    gold = "\\boxed{yes}" if label else "\\boxed{no}"
    rows += [dict(plus, answer=a, response=gold) for a in (label, bool(label), float(label), str(label), label, [label])]
    rows += [dict(route, question_transfer_count=t, response=route["answer"]) for t in (1, True, 1.0, "1", 1)]
    rows += [dict(route, response=3), dict(route, response=3.0), dict(route, response=None)]
    rows += rows[:6]  # the same lines again
    config = RewardConfig(variant=variant)
    breakdowns, summary = score_file(_write(tmp_path / "in.jsonl", rows), root, config)
    files = StationFiles(root)
    assert breakdowns == [score_record(r["response"], r, files, config) for r in rows]
    assert breakdowns[0] is breakdowns[2]  # the recurring answer was scored once
    # int, bool, float, string, int, list label: the memo did not lend the integer's verdict
    assert [b.correct for b in breakdowns[12:18]] == [True, False, False, True, True, False]
    assert summary["TorF1"]["count"] == sum(r["type"] == "TorF1" for r in rows)
    assert summary["planning"]["mean_reward"] == pytest.approx(
        sum(b.reward for b, r in zip(breakdowns, rows) if r["type"] == "planning")
        / sum(r["type"] == "planning" for r in rows))


def test_breakdown_lines_encode_each_breakdown_as_it_is():
    zero, negative = (RewardBreakdown(False, False, 0.0, 1.0, 0.0, r) for r in (0.0, -0.0))
    text = breakdown_lines([zero, negative, zero]).decode()
    assert [json.loads(line)["reward"] for line in text.splitlines()] == [0.0, -0.0, 0.0]
    assert '"reward":-0.0' in text.splitlines()[1]  # equal to 0.0 as a key, not as text
    assert json.loads(text.splitlines()[0]) == zero._asdict()


def test_metrics_memo_keeps_routes_apart_and_gives_each_line_its_own_scores(tmp_path, dataset):
    records, root = dataset
    routes = [r for r in records if r["type"] == "planning"][:3]
    rows = []
    for r in routes:
        gold = r["answer"]
        rows += [dict(r, response_short=gold, response_long=gold), dict(r, response_short="no idea", response_long=gold)]
        rows.append(dict(r, response_short=gold, response_long=gold))
    # same answers and fields, other reference routes: scored apart
    other = dict(routes[0], routes=routes[1]["routes"], response_short=routes[0]["answer"],
                 response_long=routes[0]["answer"])
    # and a line the fast decoder refuses (NaN in its routes), read by the standard library's rules
    plans = routes[1]["routes"]
    first_plan = (list(plans.values()) if isinstance(plans, dict) else plans)[0]
    nan_routes = [[dict(first_plan[0], num_via_stops=float("nan")), *first_plan[1:]]]
    rows += [other, dict(other, routes=nan_routes)]
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    summary, scores = evaluate_predictions(path, "reasonmap", root)
    lines = ((i, json.loads(line)) for i, line in enumerate(path.read_text().splitlines(), 1))
    alone_summary, alone = evaluate_predictions(path, "reasonmap", root, lines=lines)  # decoded records: no memo
    assert scores == alone and summary == alone_summary
    assert scores[0] == scores[2] and scores[0] is not scores[2]
    scores[0]["acc_short"] = 99
    assert scores[2]["acc_short"] != 99


def test_raw_fields_stay_json_text_where_the_fast_decoder_reads_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"routes": [1, {"a": 2}], "x": 1}\n{"routes": [NaN], "x": 2}\n\n{"x": 3}\n', encoding="utf-8")
    got = list(read_jsonl_fields(path, ("routes", "x"), raw=("routes",)))
    assert [n for n, _ in got] == [1, 2, 4]
    first, second, third = (r["routes"] for _, r in got)
    assert type(first) is msgspec.Raw and bytes(first) == b'[1, {"a": 2}]'
    assert raw_value(first, "here") == [1, {"a": 2}]
    assert second != second or isinstance(second, list) and second[0] != second[0]  # NaN, read as it is
    assert raw_value(third, "here") is None
