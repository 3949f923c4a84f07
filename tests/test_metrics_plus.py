"""ReasonMap-Plus accuracy: answers parsed as released (reference) or VLMEvalKit-style (robust)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardmap.errors import InputError
from rewardmap.metrics import evaluate_predictions, score_plus_record


def correct(qtype, label, response, variant="reference"):
    return score_plus_record({"type": qtype, "answer": label}, response, variant)["correct"]


@pytest.mark.parametrize("qtype, label, response, reference, robust", [
    ("TorF1", 1, "\\boxed{yes}", True, True),
    ("TorF1", 0, "\\boxed{No}", True, True),  # lower-cased
    ("TorF2", 1, "\\boxed{\\text{Yes}}", False, True),  # reference reads "{yes}": the known quirk
    ("TorF2", 1, "The answer is Yes. It is on line 2.", True, True),  # first line, before ". "
    ("TorF2", 1, "the answer is true", False, True),  # robust accepts true/t/y/1
    ("Counting1", 2, "\\boxed{C}", True, True),  # c -> 2
    ("Counting1", 2, "The answer is (C)", False, True),  # reference keeps "(c)"
    ("Counting2", 3, "\\boxed{3 lines}", False, True),  # reference "3lines" is no integer
    ("Counting2", 3, "\\boxed{+3}", True, True),  # int("+3")
    ("Counting3", 3, "\\boxed{2} wait, \\boxed{3}", True, False),  # reference: the last box; robust: boxes disagree
    ("Counting3", 3, "<think>\\boxed{3}</think>\\boxed{4}", False, False),
    ("Counting3", 3, "<think>maybe 4</think>There are 3 lines.", False, True),  # robust drops the thinking
])
def test_plus_correctness(qtype, label, response, reference, robust):
    assert correct(qtype, label, response) is reference
    assert correct(qtype, label, response, "robust") is robust


@settings(max_examples=100, deadline=None)
@given(response=st.text(max_size=60) | st.lists(st.sampled_from(
    ["\\boxed{", "}", "oxed{", "the answer is", "The answer is", "\\text{", "yes", "3", ". ", "\n", "A"]),
    max_size=12).map("".join), qtype=st.sampled_from(["Counting1", "Counting2", "Counting3", "TorF1", "TorF2"]),
    variant=st.sampled_from(["reference", "robust"]))
def test_any_plus_response_is_judged(response, qtype, variant):
    assert correct(qtype, 1, response, variant) in (True, False)


@pytest.mark.parametrize("record, response, field", [
    ({"type": "planning", "answer": 1}, "yes", "type"),
    ({"type": "TorF1", "answer": "1"}, "yes", "answer"),
    ({"type": "TorF1", "answer": True}, "yes", "answer"),
    ({"type": "TorF1", "answer": 1}, None, "response"),
])
def test_plus_record_errors(record, response, field):
    with pytest.raises(InputError, match=f"field '{field}'"):
        score_plus_record(record, response)


def test_evaluate_plus_predictions(tmp_path):
    rows = [
        {"type": "Counting1", "city": "rome", "difficulty_city": "easy", "answer": 0, "response": "\\boxed{A}"},
        {"type": "Counting2", "city": "kl", "difficulty_city": "hard", "answer": 2, "response": "\\boxed{3}"},
        {"type": "TorF1", "city": "kl", "difficulty_city": "hard", "answer": 0, "response": "\\boxed{no}"},
        {"type": "TorF2", "city": "geneva", "difficulty_city": "middle", "answer": 1,
         "response": "\\boxed{\\text{yes}}"},
    ]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    summary, scores = evaluate_predictions(pred, "reasonmap-plus")
    assert scores == [{"correct": True}, {"correct": False}, {"correct": True}, {"correct": False}]
    # weights 1.0, 2.0, 2.0, 1.5: overall (1 + 2) / 6.5; Count 1 / 3; TorF 2 / 3.5
    assert summary["published"] == pytest.approx({"overall": 300 / 6.5, "Count": 100 / 3, "TorF": 200 / 3.5})
    assert summary["overall"]["correct"]["mean"] == 0.5
    assert {t: g["count"] for t, g in summary["by_type"].items()} == \
        {"Counting1": 1, "Counting2": 1, "TorF1": 1, "TorF2": 1}
    # robust reads the \text{yes}: TorF 3.5 / 3.5
    summary, scores = evaluate_predictions(pred, "reasonmap-plus", variant="robust")
    assert summary["published"]["TorF"] == 100 and scores[3] == {"correct": True}
    pred.write_text(json.dumps(dict(rows[0], difficulty_city="unknown")) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="pred.jsonl:1: field 'difficulty_city'"):
        evaluate_predictions(pred, "reasonmap-plus")
