"""The `vlmevalkit` reading of ReasonMap-Plus answers: the three readings' differences as
docs/rewards.md tables them, each linear-time shortcut against the pattern it stands for,
and the variant through `rewardmap metrics`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.answers import vlmevalkit as vk
from rewardmap.answers.plus import judge_plus

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rewards.md"
VARIANTS = ("reference", "robust", "vlmevalkit")


def documented_rows():
    """(answers, type, labels, verdicts) for each row of the three-readings table."""
    text = DOCS.read_text(encoding="utf-8").split("## Three readings of a ReasonMap-Plus answer")[1]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) >= 15
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        answers = [a.replace("⏎", "\n") for a in re.findall(r"`([^`]+)`", cells[0])]
        qtype, labels = cells[1].split(", ", 1)
        values = [_label(qtype, v) for v in labels.split(" or ")]
        yield answers, qtype, values * len(answers) if len(values) == 1 else values, cells[2:5]


def _label(qtype: str, text: str) -> int:
    if qtype.startswith("TorF"):
        return int(text == "yes")
    return "ABCD".index(text) if qtype == "Counting1" else int(text)


@pytest.mark.parametrize("answers, qtype, labels, verdicts", list(documented_rows()))
def test_the_documented_differences_hold(answers, qtype, labels, verdicts):
    for answer, label in zip(answers, labels):
        got = ["right" if judge_plus(answer, qtype, label, v)[1] else "wrong" for v in VARIANTS]
        assert got == verdicts, (answer, got)


# Checked against VLMEvalKit's own scorer when written (commit e8e78f05).
@pytest.mark.parametrize("answer, qtype, value", [
    ("The answer is Yes. It is.", "TorF2", 1), ("yes!", "TorF1", None), ("\\boxed{}", "TorF1", None),
    ("\\boxed{} Answer: no", "TorF1", 0), ("final: y", "TorF2", 1), ("\\boxed{ 0 }", "TorF1", 0),
    ("B. because", "Counting1", 1), ("Option_d", "Counting1", None), ("answer: d.", "Counting1", 3),
    ("\\boxed{+7}", "Counting3", 7), ("\\boxed{-2}", "Counting2", -2), ("no digits", "Counting2", None),
    ("\\boxed{" + "9" * 5000 + "}", "Counting2", None),  # VLMEvalKit's int() raises; wrong here
    ("Answer is 4\nthen 5", "Counting3", 4), ("the answer is.", "Counting2", None),
])
def test_pinned_readings(answer, qtype, value):
    assert vk.vlmevalkit_value(answer, qtype) == value


TEXT = st.lists(st.sampled_from(list("boxedBOXED{}\\ x.\n1٣+-aAbcdD_İ") + ["boxed{", "\\boxed{", ". "]),
                max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_last_box_is_the_last_match_a_left_to_right_scan_finds(text):
    matches = list(re.finditer(r"(?:\\boxed|boxed)\{([^}]*)\}", text, re.IGNORECASE))
    expected = matches[-1].group(1).strip() if matches else None
    assert vk._last_box(text) == expected


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_the_fast_patterns_find_what_vlmevalkits_find(text):
    integer = re.search(r"[-+]?\d+", text)
    assert vk._first_integer(text) == (integer.group() if integer else None)
    letter = re.search(r"\b([ABCD])\b", text, re.IGNORECASE)
    ours = vk._LETTER.search(text)
    assert (ours.start() if ours else None) == (letter.start() if letter else None)
    part = text.strip()
    assert part[:vk._cut(part)] == re.split(r"\n|\. |\.$", part, maxsplit=1)[0]


def test_metrics_takes_the_variant_for_plus_only(tmp_path):
    answers = tmp_path / "answers.jsonl"
    rows = [{"id": 1, "type": "TorF1", "answer": 1, "city": "x", "difficulty_city": "easy", "response": "Yes."},
            {"id": 2, "type": "Counting1", "answer": 0, "city": "x", "difficulty_city": "hard",
             "response": "\\boxed{A, B, C, D}"}]
    answers.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runner = CliRunner()
    result = runner.invoke(app, ["metrics", str(answers), "--benchmark", "reasonmap-plus", "--variant", "vlmevalkit"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # Yes. is wrong to VLMEvalKit, the first of four options right: 1/2; weighted 2 / (1 + 2)
    assert summary["variant"] == "vlmevalkit"
    assert summary["overall"]["correct"] == {"mean": 0.5, "weighted": pytest.approx(2 / 3)}
    result = runner.invoke(app, ["metrics", str(answers), "--benchmark", "reasonmap", "--variant", "vlmevalkit"])
    assert result.exit_code == 2 and "--variant vlmevalkit scores ReasonMap-Plus only" in result.output
