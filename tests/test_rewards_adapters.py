"""The TRL and verl adapters: signatures, station files read once, logged components."""

import json

import pytest
from test_rewards import A_TO_F, CITY

from rewardmap.rewards import RewardConfig, adapters
from rewardmap.rewards.adapters import (
    COMPONENTS,
    completion_text,
    compute_score,
    make_trl_reward,
)


def columns(n, **overrides):
    base = {"type": "planning", "answer": "Route Name: ...", "station_1": "Alpha Station",
            "station_2": "Foxtrot Station", "difficulty_city": "middle", "question_transfer_count": 1,
            "json": "./stations/toyland/toyburg.json"}
    return {k: [v] * n for k, v in {**base, **overrides}.items()}


def test_trl_reward_scores_strings_and_chat_messages(toy_root, station_file_reads):
    reward = make_trl_reward(stations_root=toy_root)
    completions = [A_TO_F, [{"role": "assistant", "content": A_TO_F}],
                   [{"role": "assistant", "content": [{"type": "text", "text": A_TO_F}, {"type": "image"}]}], "no idea"]
    # TRL also passes prompts, completion_ids and trainer_state; they are ignored
    out = reward(prompts=["q"] * 4, completions=completions, completion_ids=[[1]] * 4, trainer_state=None, **columns(4))
    assert out == pytest.approx([20.4, 20.4, 20.4, 0.0])  # 1.7 * (10 + 0.5 * 4)
    assert reward.__name__ == "rewardmap_reference"
    assert reward.last_breakdown["correct"] == [True, True, True, False]
    assert reward.last_breakdown["detail"] == [4.0, 4.0, 4.0, 0.0]
    assert set(reward.last_breakdown) == {"reward", *COMPONENTS}
    assert len(station_file_reads) == 1  # one read for the whole batch
    reward(completions=completions, **columns(4))
    assert len(station_file_reads) == 1  # and none for the next one


def test_trl_reward_makes_no_file_system_call_after_the_first_batch_of_a_city(toy_root, monkeypatch):
    import builtins
    import os
    from pathlib import Path

    reward = make_trl_reward(stations_root=toy_root)
    assert reward(completions=[A_TO_F], **columns(1)) == pytest.approx([20.4])

    def refused(*args, **kwargs):
        raise AssertionError("a file-system call while scoring a known city")

    for owner, name in ((os, "stat"), (os, "lstat"), (os.path, "realpath"), (builtins, "open"), (os, "open"),
                        (Path, "resolve"), (Path, "is_file"), (Path, "stat")):
        monkeypatch.setattr(owner, name, refused)
    out = reward(completions=[A_TO_F, "no idea", A_TO_F.replace("Line 2", "Line 3")], **columns(3))
    assert out == pytest.approx([20.4, 0.0, out[2]]) and out[2] < 20.4


def test_trl_components_reuse_the_scored_batch(toy_root, monkeypatch):
    reward = make_trl_reward(RewardConfig(variant="robust"), stations_root=toy_root)
    completions, cols = [A_TO_F, "nothing"], columns(2)
    assert reward(completions=completions, **cols) == pytest.approx([26.35, 0.0])  # 1.7 * (1 + 10 + 4.5)
    scored = []
    monkeypatch.setattr(adapters, "compute_reward", lambda *a: scored.append(a))
    parts = {name: fn(completions=completions, **cols) for name, fn in reward.components.items()}
    assert scored == []  # no second scoring
    assert parts == {"parsed": [1.0, 0.0], "correct": [1.0, 0.0], "detail": [9.0, 0.0], "format": [1.0, 0.0],
                     "weight": [1.7, 1.7]}
    assert reward.components["detail"].__name__ == "rewardmap_detail"


def test_trl_string_columns_and_unreadable_station_files(toy_root):
    reward = make_trl_reward(stations_root=toy_root)
    plus = {"type": ["TorF1", "Counting2"], "answer": ["1", "3"], "difficulty_city": ["easy", "hard"],
            "json": ["./stations/toyland/toyburg.json"] * 2}
    assert reward(completions=["\\boxed{yes}", "\\boxed{3}"], **plus) == [10.0, 15.0]  # "1" and "3" read as integers
    missing = columns(1, json="./stations/nowhere.json")
    assert reward(completions=[A_TO_F], **missing) == [0.0]
    assert reward(completions=[A_TO_F], **columns(1, json=CITY)) == pytest.approx([20.4])  # the station data itself
    # as official data read back from Arrow holds it: every city's line names, null where absent
    arrow_style = {**CITY, "Line 99": None}
    assert reward(completions=[A_TO_F], **columns(1, json=arrow_style)) == pytest.approx([20.4])
    assert reward(completions=[A_TO_F], **columns(1, json=json.dumps(arrow_style))) == pytest.approx([20.4])


def test_completion_text_of_odd_inputs():
    assert completion_text(None) == "" and completion_text([{"content": None}, "x"]) == ""
    assert completion_text([{"role": "assistant", "content": "a"}, {"content": "b"}]) == "ab"


def test_verl_compute_score(toy_root, station_file_reads):
    extra = {k: v[0] for k, v in columns(1).items() if k != "answer"}
    out = compute_score("reasonmap", A_TO_F, "Route Name: ...", extra, stations_root=str(toy_root))
    assert out == pytest.approx({"score": 20.4, "parsed": 1.0, "correct": 1.0, "detail": 4.0, "format": 0.0,
                                 "weight": 1.7})
    out = compute_score("reasonmap", A_TO_F, {"answer": None}, extra, stations_root=str(toy_root), variant="robust")
    assert out["score"] == pytest.approx(26.35)
    assert len(station_file_reads) == 1
    plus = {"type": "TorF2", "difficulty_city": "hard"}
    assert compute_score("reasonmap_plus", "\\boxed{no}", 0, plus)["score"] == 15.0
    assert compute_score("x", "anything", None, None)["score"] == 0.0  # no record: the zero breakdown
    with pytest.raises(ValueError):
        compute_score("x", "anything", 1, {}, variant="released")
