"""Training's held-out evaluation without training: which questions are asked, how answers are
scored (the benchmark metrics, as `rewardmap eval` scores them), the trivial baselines, the
per-type mix of a phase's questions, and the policy-change figures."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from safetensors.torch import save_file

from rewardmap.metrics.summary import evaluate_predictions
from rewardmap.questions.kinds import PLUS_TYPES
from rewardmap.rewards import RewardConfig
from rewardmap.train.baselines import majority_answers, trivial_answers
from rewardmap.train.change import answer_change, weight_change
from rewardmap.datasets.records import load_records
from rewardmap.train.data import mix_per_type, split_by_city, target_text
from rewardmap.train.heldout import score_heldout, select_heldout


@pytest.fixture(scope="module")
def records(data):
    return load_records(data)


def test_select_heldout_caps_each_type_and_spreads_over_cities(records):
    chosen = select_heldout(records, 3)
    counts = Counter(r["type"] for r in chosen)
    available = Counter(r["type"] for r in records)
    assert counts == {t: min(3, n) for t, n in available.items()}
    planning = [r for r in chosen if r["type"] == "planning"]
    assert len({r["city"] for r in planning}) == 2  # both cities asked before either is asked a third time
    assert [r["id"] for r in chosen] == [r["id"] for r in records if r in chosen]  # dataset order kept
    assert select_heldout(records, None) == list(records)


def test_score_heldout_gives_the_metrics_rewardmap_eval_gives(records, tmp_path):
    """Right answers score full marks, and every benchmark figure equals what `rewardmap eval`'s
    scorer computes from a predictions file of the same answers."""
    right = [{"answer": target_text(r), **({"answer_long": r["answer"]} if r["type"] == "planning" else {})}
             for r in records]
    wrong = [{"answer": "\\boxed{Z}", "answer_long": "nothing"} for _ in records]
    config = RewardConfig(variant="robust")
    result = score_heldout(records, right, config, "reference")
    assert result["reasonmap-plus"]["overall"]["correct"]["mean"] == 1.0
    assert result["reasonmap"]["overall"]["acc_short"]["mean"] == 1.0
    assert result["by_type"]["planning"]["accuracy"] == 1.0 and result["overall"]["parsed"] == 1.0
    mixed = [a if i % 3 else b for i, (a, b) in enumerate(zip(right, wrong))]
    result = score_heldout(records, mixed, config, "reference")
    for benchmark in ("reasonmap", "reasonmap-plus"):
        predictions = tmp_path / f"{benchmark}.jsonl"
        with predictions.open("w") as f:
            for r, a in zip(records, mixed):
                if (r["type"] == "planning") == (benchmark == "reasonmap"):
                    f.write(json.dumps({**r, "response": a["answer"], "response_short": a["answer"],
                                        "response_long": a.get("answer_long", "")}) + "\n")
        expected, _ = evaluate_predictions(predictions, benchmark)
        assert result[benchmark]["overall"] == expected["overall"]
        assert result[benchmark]["by_city"] == expected["by_city"]
    assert 0 < result["reasonmap"]["overall"]["acc_short"]["mean"] < 1
    assert 0 < result["reasonmap-plus"]["overall"]["correct"]["mean"] < 1


def test_trivial_baselines_read_only_the_training_questions(records):
    train, held = split_by_city(records, 1, 0)
    common = majority_answers(train)
    assert set(common) == {r["type"] for r in train} - {"planning"}
    for qtype, text in common.items():
        counts = Counter(target_text(r) for r in train if r["type"] == qtype)
        assert counts[text] == max(counts.values())
    answers, strategy = trivial_answers(train, held, "reference")
    for r, a in zip(held, answers):
        if r["type"] == "planning":
            # one ride on one line, from the question's departure to its arrival
            line = strategy["planning"].split("`")[1]
            assert a["answer"] == (f"Route Name: {line}\nDeparture Stop: {r['station_1']}\n"
                                   f"Arrival Stop: {r['station_2']}")
            assert a["answer_long"].startswith(a["answer"] + "\n")
        else:
            assert a == {"answer": common[r["type"]]}
    lines = Counter(s["route_name"] for r in train if r["type"] == "planning" for s in r["routes"][0])
    assert line in {name for name, _ in lines.most_common(3)}


def test_mix_per_type_samples_or_repeats_and_keeps_ids_unique(records):
    plus = [r for r in records if r["type"] in PLUS_TYPES]
    n3 = sum(r["type"] == "Counting3" for r in plus)
    mixed = mix_per_type(plus, {"Counting3": 5 * n3 + 1, "TorF1": 2}, seed=0)
    counts = Counter(r["type"] for r in mixed)
    assert counts["Counting3"] == 5 * n3 + 1 and counts["TorF1"] == 2
    assert counts["TorF2"] == sum(r["type"] == "TorF2" for r in plus)  # a type not named: once each
    assert len({r["id"] for r in mixed}) == len(mixed)
    assert mixed == mix_per_type(plus, {"Counting3": 5 * n3 + 1, "TorF1": 2}, seed=0)  # seeded
    assert mix_per_type(plus, {}, seed=0) == plus


def test_weight_change_and_answer_change(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    w = {"x": torch.tensor([3.0, 4.0]), "y": torch.ones(2), "steps": torch.tensor([1])}
    save_file(w, a / "model.safetensors")
    save_file({**w, "x": torch.tensor([3.0, 4.5])}, b / "model.safetensors")
    change = weight_change(a, b)
    assert change["relative_l2"] == pytest.approx(0.5 / (25 + 2) ** 0.5)
    assert change["max_abs"] == pytest.approx(0.5) and (change["tensors_changed"], change["tensors"]) == (1, 2)
    assert weight_change(a, a)["relative_l2"] == 0.0

    before = {"answers": [{"id": 1, "type": "planning", "answer": "r", "answer_long": "l"},
                          {"id": 2, "type": "TorF1", "answer": "y"}]}
    after = {"answers": [{"id": 1, "type": "planning", "answer": "r", "answer_long": "L"},
                         {"id": 2, "type": "TorF1", "answer": "y"}]}
    change = answer_change(before, after)
    assert change["overall"] == {"count": 2, "changed": 0.5}
    assert change["by_type"]["planning"]["changed"] == 1.0 and change["by_type"]["TorF1"]["changed"] == 0.0


def test_sampled_answers_give_sampled_accuracy_pass_at_k_and_are_kept(records):
    """Each question's samples are scored and kept: sampled accuracy is the mean share of right
    samples, pass@k the share of questions with one right, each with an interval; the Plus group
    pools the five Plus types only; route answers say whether they name both endpoints."""
    config = RewardConfig(variant="robust")
    wrong = "\\boxed{Z}"
    answers = []
    for i, r in enumerate(records):
        right = target_text(r)
        samples = [right, wrong, wrong, right] if i % 2 else [wrong] * 4
        answers.append({"answer": right, "samples": samples, **({"answer_long": r["answer"]}
                                                                if r["type"] == "planning" else {})})
    result = score_heldout(records, answers, config, "robust")
    odd = [i % 2 for i in range(len(records))]
    plus = [o for o, r in zip(odd, records) if r["type"] in PLUS_TYPES]
    assert result["plus"]["count"] == len(plus) and result["plus"]["k"] == 4
    assert result["plus"]["accuracy"] == 1.0 and result["plus"]["accuracy_ci"] == [1.0, 1.0]
    assert result["plus"]["sampled_accuracy"] == pytest.approx(0.5 * sum(plus) / len(plus))
    assert result["plus"]["pass_at_k"] == pytest.approx(sum(plus) / len(plus))
    lo, hi = result["plus"]["sampled_accuracy_ci"]
    assert lo <= result["plus"]["sampled_accuracy"] <= hi and lo < hi
    assert result["overall"]["count"] == len(records)
    routes = result["by_type"]["planning"]
    assert routes["endpoints"] == 1.0 and routes["accuracy"] == 1.0
    entries = result["answers"]
    assert [e["id"] for e in entries] == [r["id"] for r in records]
    for entry, answer, o in zip(entries, answers, odd):
        assert entry["samples"] == answer["samples"] and entry["answer"] == answer["answer"]
        assert entry["scores"]["samples_correct"] == 2 * o and entry["scores"]["correct"]
        assert entry["scores"]["benchmark"]["weight"] > 0
    route = next(e for e in entries if e["type"] == "planning")
    assert route["scores"]["endpoints"] and route["scores"]["benchmark"]["acc_short"] == 1


def test_a_route_answer_names_its_endpoints_only_when_it_departs_and_arrives_right():
    from rewardmap.rewards.route_reward import endpoints_named

    answer = "Route Name: Line 1\nDeparture Stop: Alpha\nArrival Stop: Beta Station"
    assert endpoints_named(answer, "Alpha Station", "Beta")
    assert not endpoints_named(answer, "Beta", "Alpha")
    assert not endpoints_named(answer, "Alpha", "Gamma")
    assert not endpoints_named("no route at all", "Alpha", "Beta") and not endpoints_named(None, "A", "B")
