"""Scoring a file of responses (`rewardmap score`) and the TRL / verl adapters: the summary,
the errors that name the line, what the memo shares, and the adapters' defaults."""

import json

import pytest
from test_rewards import A_TO_F

from rewardmap.errors import InputError
from rewardmap.network import files as station_files
from rewardmap.rewards import adapters, batch
from rewardmap.rewards.adapters import compute_score, make_trl_reward, score_record
from rewardmap.rewards.batch import MEMO_LENGTH, breakdown_lines, score_file

JSON = "stations/toyland/toyburg.json"
ROUTE = {"type": "planning", "station_1": "Alpha Station", "station_2": "Foxtrot Station",
         "question_transfer_count": 1, "difficulty_city": "middle", "json": JSON}


def yes(label=1, **more):
    return {"type": "TorF1", "answer": label, "difficulty_city": "easy", **more}


def write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_summary_per_type(tmp_path, toy_root):
    rows = [dict(yes(), response="\\boxed{yes}"), dict(yes(), response="\\boxed{no}"),  # 10 and 0
            dict(yes(0), response="\\boxed{no}"), dict(ROUTE, response=A_TO_F),  # 10; 20.4
            {"type": ["odd"], "response": "x"}]  # a type that is no string: its own key, zero
    breakdowns, summary = score_file(write(tmp_path / "in.jsonl", rows), toy_root)
    assert [b.correct for b in breakdowns] == [True, False, True, True, False]
    assert list(summary) == ["TorF1", "['odd']", "planning"]  # sorted by name
    assert summary["TorF1"] == {"count": 3, "mean_reward": pytest.approx(20 / 3), "accuracy": pytest.approx(2 / 3)}
    assert summary["planning"] == {"count": 1, "mean_reward": pytest.approx(20.4), "accuracy": 1.0}
    assert summary["['odd']"] == {"count": 1, "mean_reward": 0.0, "accuracy": 0.0}


def test_errors_name_the_file_line_and_field(tmp_path, toy_root):
    path = write(tmp_path / "in.jsonl", [dict(yes(), response="\\boxed{yes}"), yes()])
    with pytest.raises(InputError, match=r"in\.jsonl:2: field 'response': missing \(the model's answer"):
        score_file(path, toy_root)
    path = write(tmp_path / "in.jsonl", [dict(yes(), response=""), dict(ROUTE, json="nowhere.json", response="")])
    with pytest.raises(InputError, match=r"in\.jsonl:2: field 'json': .*nowhere\.json"):
        score_file(path, toy_root)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match=r"empty\.jsonl: no records"):
        score_file(tmp_path / "empty.jsonl", toy_root)


def test_stations_root_defaults_to_the_working_folder(tmp_path, toy_root, monkeypatch):
    monkeypatch.chdir(toy_root)
    [b], _ = score_file(write(tmp_path / "in.jsonl", [dict(ROUTE, response=A_TO_F)]))
    assert b.reward == pytest.approx(20.4)  # 1.7 * (10 + 0.5 * 4)
    assert make_trl_reward()(completions=[A_TO_F], **{k: [v] for k, v in ROUTE.items()}) == pytest.approx([20.4])
    adapters._FILES.clear()  # verl's files are kept per root: "." read afresh here
    assert compute_score("reasonmap", A_TO_F, None, ROUTE)["score"] == pytest.approx(20.4)


def test_memo_shares_short_recurring_answers_only(tmp_path, toy_root, monkeypatch):
    edge, over = "\\boxed{yes}" + " " * (MEMO_LENGTH - 11), "\\boxed{yes}" + " " * (MEMO_LENGTH - 10)
    rows = [dict(yes(), response=r) for r in (edge, edge, over, over)]
    b = score_file(write(tmp_path / "in.jsonl", rows), toy_root)[0]
    assert b[0] is b[1] and b[2] is not b[3]  # up to MEMO_LENGTH characters kept
    assert b[2] == b[3] == b[0] and b[0].correct
    # the memo holds at most MEMO_ENTRIES answers; a line it cannot key takes no place in it
    monkeypatch.setattr(batch, "MEMO_ENTRIES", 1)
    rows = [dict(yes(json=["x"]), response="a"), dict(yes(), response="b"), dict(yes(), response="b"),
            dict(yes(), response="c"), dict(yes(), response="c")]
    b = score_file(write(tmp_path / "in.jsonl", rows), toy_root)[0]
    assert b[1] is b[2] and b[3] is not b[4]


def test_breakdown_lines_encode_each_line():
    z, one = score_record("", yes(), None, adapters.RewardConfig()), score_record("\\boxed{yes}", yes(), None,
                                                                                  adapters.RewardConfig())
    lines = breakdown_lines([one, z, one]).decode().splitlines()
    assert [json.loads(line)["reward"] for line in lines] == [10.0, 0.0, 10.0]
    assert json.loads(lines[0]) == {"parsed": True, "correct": True, "detail": 0.0, "weight": 1.0, "format": 0.0,
                                    "reward": 10.0}


def test_string_counts_and_plus_records_read_no_station_file(toy_root, station_file_reads):
    files = station_files.StationFiles(toy_root)
    b = score_record(A_TO_F, dict(ROUTE, question_transfer_count="1"), files, adapters.RewardConfig())
    assert (b.correct, b.weight) == (True, 1.7)  # "1" read as 1 transfer: W 1.2 + 0.5
    assert len(station_file_reads) == 1
    assert score_record("\\boxed{yes}", yes(json=JSON), files, adapters.RewardConfig()).reward == 10.0
    assert len(station_file_reads) == 1  # a Plus question needs no station file


def test_trl_components_and_first_state(toy_root):
    assert make_trl_reward()(completions=None) == []  # nothing to score
    reward = make_trl_reward(stations_root=toy_root)
    assert reward.last_breakdown == {}  # nothing scored yet
    cols = {k: [v] for k, v in ROUTE.items()}
    # a component asked first scores the batch itself, with its columns
    assert reward.components["correct"](completions=[A_TO_F], **cols) == [1.0]
    assert reward.last_breakdown["reward"] == pytest.approx([20.4])


def test_verl_ground_truth_as_a_whole_record():
    out = compute_score("reasonmap_plus", "\\boxed{no}", {"type": "TorF2", "answer": 0, "difficulty_city": "hard"})
    assert (out["score"], out["correct"], out["weight"]) == (15.0, 1.0, 1.5)
