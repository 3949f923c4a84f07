"""Input that breaks Python's own JSON reading, or that is not a file at all, gets one line and
exit status 2 from every command that reads it: never a traceback, never a hang, and nothing
left half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from commands import rewardmap

BAD_LINES = {
    "a 5,000-digit integer": b'{"type": "Counting3", "answer": ' + b"9" * 5000 + b"}\n",
    "JSON nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "bytes that are not UTF-8": b'{"type": "Counting3", "question": "\xff\xfe"}\n',
}
WHY = {"a 5,000-digit integer": "more than 4300 digits", "JSON nested 100,000 deep": "nested too deep",
       "bytes that are not UTF-8": "not UTF-8"}


def one_line_error(result, *needles: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_json_lines_inputs(tmp_path, case):
    data = tmp_path / "data"
    data.mkdir()
    (data / "questions.jsonl").write_bytes(BAD_LINES[case])
    where = f"{data / 'questions.jsonl'}:1"
    for args in (["data", "check", data], ["score", data / "questions.jsonl", "--stations-root", data],
                 ["metrics", data / "questions.jsonl", "--benchmark", "reasonmap-plus"],
                 ["eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", "http://127.0.0.1:9/v1",
                  "--api-model", "m", "--out", tmp_path / "run"]):
        one_line_error(rewardmap(*args, check=False), where, WHY[case])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no run folder begun


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_station_files_and_import_sources(tmp_path, case):
    stations = tmp_path / "stations" / "land"
    stations.mkdir(parents=True)
    (stations / "city.json").write_bytes(BAD_LINES[case].replace(b'"type"', b'"Line 1": ["A", "B"], "type"'))
    one_line_error(rewardmap("data", "build", "--stations", tmp_path / "stations", "--out", tmp_path / "out",
                             check=False), "city.json", WHY[case])
    source = tmp_path / "source.json"
    source.write_bytes(b"[" + BAD_LINES[case].strip() + b"]")
    one_line_error(rewardmap("data", "import", source, "--out", tmp_path / "imported", check=False),
                   "source.json", WHY[case])
    assert not (tmp_path / "out").exists() and not (tmp_path / "imported").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_only_regular_files_are_read(tmp_path, kind):
    """A FIFO would block the read forever, a link to /dev/zero would never end it."""
    def special(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
        return path

    special(tmp_path / "stations" / "land" / "city.json")
    one_line_error(rewardmap("data", "build", "--stations", tmp_path / "stations", "--out", tmp_path / "out",
                             check=False, timeout=60), "city.json", "not a regular file")
    one_line_error(rewardmap("data", "import", special(tmp_path / "source.json"), "--out", tmp_path / "imported",
                             check=False, timeout=60), "source.json", "not a regular file")
    one_line_error(rewardmap("score", special(tmp_path / "answers.jsonl"), "--stations-root", tmp_path,
                             check=False, timeout=60), "answers.jsonl", "not a regular file")


def test_a_station_file_above_the_size_cap_is_refused(tmp_path):
    from rewardmap.errors import InputError
    from rewardmap.fileio import STATION_FILE_MAX_BYTES
    from rewardmap.network import load_station_file

    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"Line 1": ["A", "B"], "pad": "x" * STATION_FILE_MAX_BYTES}))
    with pytest.raises(InputError, match=r"huge\.json: station file is larger than the 16 MB allowed"):
        load_station_file(path)


def test_an_output_that_is_a_file_is_refused_in_one_line(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    (tmp_path / "stations" / "land").mkdir(parents=True)
    (tmp_path / "stations" / "land" / "city.json").write_text(json.dumps({"Line 1": ["A", "B", "C"]}))
    synth = ["data", "synth", "--cities", 1, "--per-city", 4, "--size", 256, "--workers", 1]
    for args in ([*synth, "--out", taken], ["train", "--out", taken], ["merge", tmp_path, "--out", taken],
                 ["data", "build", "--stations", tmp_path / "stations", "--out", taken]):
        one_line_error(rewardmap(*args, check=False), str(taken))
    assert taken.read_text() == "mine"


def test_synth_and_build_refuse_a_dataset_folder_unless_overwrite_replaces_it_whole(tmp_path):
    """Writing over an older dataset used to leave its maps and station files beside the new
    questions (and an evaluation of the result then failed)."""
    from commands import synth_data

    old = synth_data(tmp_path / "data")
    old_files = sorted(p.relative_to(old) for p in old.rglob("*"))
    synth = ["data", "synth", "--cities", 1, "--per-city", 4, "--size", 256, "--workers", 1, "--seed", 7]
    one_line_error(rewardmap(*synth, "--out", old, check=False), "not empty", "--overwrite")
    one_line_error(rewardmap("data", "build", "--stations", old / "stations", "--out", old, check=False),
                   "not empty", "--overwrite")
    assert sorted(p.relative_to(old) for p in old.rglob("*")) == old_files  # untouched
    rewardmap(*synth, "--out", old, "--overwrite")
    maps = sorted(p.name for p in (old / "maps").rglob("*.png"))
    assert len(maps) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # the old two cities are gone
    records = [json.loads(line) for line in (old / "questions.jsonl").read_text().splitlines()]
    assert {Path(r["figure"]).name for r in records} == set(maps)
    rewardmap("data", "check", old)
    rewardmap("data", "build", "--stations", old / "stations", "--maps", old / "maps", "--out", old, "--overwrite")
    rewardmap("data", "check", old)


def test_an_empty_questions_file_is_an_error_in_every_command(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "questions.jsonl").write_text("\n")
    questions = data / "questions.jsonl"
    for args in (["data", "check", data], ["score", questions], ["metrics", questions, "--benchmark", "reasonmap"],
                 ["eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", "http://127.0.0.1:9/v1",
                  "--api-model", "m", "--out", tmp_path / "run"]):
        one_line_error(rewardmap(*args, check=False), "questions.jsonl", "no records")


def test_eval_names_a_model_folder_that_does_not_exist(tmp_path):
    """Not a Hugging Face repo-id complaint seconds later: the folder is not there."""
    data = tmp_path / "data"
    data.mkdir()
    for model in (tmp_path / "no-such-model", "./no-such-model", "runs/x/final"):
        one_line_error(rewardmap("eval", "--data", data, "--benchmark", "reasonmap", "--model", model,
                                 "--out", tmp_path / "run", check=False), f"--model {model}: no such folder")


@pytest.mark.parametrize("name", ["Alpha\ud800", "Alpha\nBeta", "Alpha\u202eBeta", "Alpha\x07", "Alpha -- Beta",
                                  "Route Name: Alpha", "Alpha Via Stops: 3"])
def test_station_and_line_names_that_would_break_the_answer_format_are_refused(tmp_path, name):
    stations = tmp_path / "stations" / "land"
    stations.mkdir(parents=True)
    for lines in ({"Line 1": [name, "Gamma", "Delta"]}, {name: ["Gamma", "Delta"]}):
        (stations / "city.json").write_text(json.dumps(lines))  # \\ud800 stays an escape: valid JSON, not text
        message = one_line_error(rewardmap("data", "build", "--stations", tmp_path / "stations",
                                           "--out", tmp_path / "out", check=False), "city.json")
        assert any(why in message for why in ("surrogate", "control character", "route answers use")), message
    assert not (tmp_path / "out").exists()


WRONG_KINDS = [  # (field, value, what data check says); each crashed `data check` once
    ("id", ["a", "b"], "field 'id': expected a string or an integer"),
    ("type", ["TorF2"], "field 'type': unknown type"),
    ("station_1", ["Alpha"], "field 'station_1': expected a station name or null"),
    ("figure", ["maps/x.png"], "field 'figure': expected a map image's path"),
    ("figure", "x" * 3000, "field 'figure': image 'xxxx"),  # a name too long for the file system
    ("json", "y" * 3000, "field 'json': station file 'yyyy"),
    ("answer", "3", "field 'answer': expected an integer"),
]


@pytest.mark.parametrize("field, value, words", WRONG_KINDS,
                         ids=[f"{w[0]}-{type(w[1]).__name__}" for w in WRONG_KINDS])
def test_data_check_names_a_field_of_the_wrong_kind(tmp_path, field, value, words):
    from commands import synth_data

    data = synth_data(tmp_path / "data")
    lines = (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    record = next(json.loads(line) for line in lines if json.loads(line)["type"] == "Counting3")
    lines[0] = json.dumps({**record, field: value})
    (data / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = rewardmap("data", "check", data, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert words in result.stdout and "questions.jsonl:1" in result.stdout, result.stdout[-2000:]


def test_metrics_names_a_city_that_is_not_a_name(tmp_path):
    """Results are grouped by city: a list there once crashed the grouping."""
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": 1, "type": "TorF1", "answer": 1, "city": ["rome"], "difficulty_city": "easy",
                                   "response": "\\boxed{yes}"}) + "\n")
    one_line_error(rewardmap("metrics", answers, "--benchmark", "reasonmap-plus", check=False),
                   "answers.jsonl:1: field 'city': expected the city's name")
