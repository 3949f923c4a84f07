"""A dataset from someone else names files by path. No command may follow such a path out of
the dataset folder (`..`, an absolute path, a symlink out): evaluation would otherwise read
any file of the user's and send it to an API server, and import would copy it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from commands import rewardmap, synth_data

from rewardmap.datasets.importer import import_dataset
from rewardmap.errors import InputError
from rewardmap.network import StationFiles

SECRET = b"\x89PNG\r\n\x1a\n not a map: the user's private file"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return synth_data(tmp_path_factory.mktemp("paths") / "data")


def tampered(clean: Path, tmp_path: Path, field: str, how: str) -> tuple[Path, Path]:
    """A copy of CLEAN whose first record's FIELD leads to a file outside it, and that file."""
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    secret = tmp_path / ("secret.json" if field == "json" else "secret.png")
    secret.write_bytes(SECRET if field == "figure" else json.dumps({"Line 1": ["A", "B"]}).encode())
    lines = (data / "questions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    if how == "dotdot":
        first[field] = f"../{secret.name}"
    elif how == "absolute":
        first[field] = str(secret)
    else:  # a link inside the folder that points out of it
        link = data / "maps" / "link.png"
        link.symlink_to(secret)
        first[field] = "maps/link.png"
    (data / "questions.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    return data, secret


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
@pytest.mark.parametrize("field", ["figure", "json"])
def test_eval_refuses_a_record_whose_path_leads_out_and_sends_nothing(clean, tmp_path, field, how):
    data, _ = tampered(clean, tmp_path, field, how)
    result = rewardmap("eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", "http://127.0.0.1:9/v1",
                       "--api-model", "m", "--out", tmp_path / "run", check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "questions.jsonl:1" in lines[0] and f"field '{field}'" in lines[0] and "outside" in lines[0]
    assert "Traceback" not in result.stderr and not (tmp_path / "run" / "predictions.jsonl").exists()


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_training_data_loading_refuses_paths_out_of_the_folder(clean, tmp_path, how):
    from rewardmap.datasets.records import load_records

    data, _ = tampered(clean, tmp_path, "figure", how)
    with pytest.raises(InputError, match=r"questions\.jsonl:1: field 'figure': path .* leads outside"):
        load_records(data)


def test_a_figure_of_the_wrong_type_is_named(clean, tmp_path):
    from rewardmap.datasets.records import load_records

    data = tmp_path / "data"
    shutil.copytree(clean, data)
    lines = (data / "questions.jsonl").read_text().splitlines()
    (data / "questions.jsonl").write_text("\n".join([json.dumps({**json.loads(lines[0]), "figure": ["a.png"]}),
                                                     *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=r"field 'figure': expected the map image's path, got \['a.png'\]"):
        load_records(data)
    (data / "questions.jsonl").write_text("\n".join([json.dumps({**json.loads(lines[0]), "figure": None}),
                                                     *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=r"field 'figure': expected the map image's path, got null$"):
        load_records(data)


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_station_files_stay_inside_their_root(tmp_path, how):
    root = tmp_path / "root"
    (root / "stations").mkdir(parents=True)
    (root / "stations" / "ok.json").write_text(json.dumps({"Line 1": ["A", "B"]}))
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"Line 1": ["C", "D"]}))
    files = StationFiles(root)
    assert files.load("stations/ok.json").lines
    if how == "symlink":
        (root / "stations" / "link.json").symlink_to(secret)
        source = "stations/link.json"
    else:
        source = "../secret.json" if how == "dotdot" else str(secret)
    with pytest.raises(InputError, match="outside the stations root"):
        files.load(source)


def test_score_refuses_a_station_path_out_of_its_root(clean, tmp_path):
    """A copy of the right station file, outside the root: reading it would score the gold
    answer in full; it is refused, in one line naming the record and field, and nothing is written."""
    record = next(r for r in map(json.loads, (clean / "questions.jsonl").read_text().splitlines())
                  if r["type"] == "planning")
    copy = tmp_path / "copy.json"
    shutil.copy(clean / record["json"], copy)
    answers = tmp_path / "in.jsonl"
    answers.write_text("".join(json.dumps({**record, **extra, "response": record["answer"]}) + "\n"
                               for extra in ({}, {"json": str(copy)})))
    result = rewardmap("score", answers, "--stations-root", clean, "-o", tmp_path / "out.jsonl", check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "in.jsonl:2: field 'json'" in lines[0], result.stderr
    assert "outside the stations root" in lines[0] and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_import_copies_nothing_from_outside_its_source(tmp_path, strict, how):
    source = tmp_path / "downloads" / "source"  # files are looked up under it and its parent
    (source / "maps").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "secret.png"
    secret.write_bytes(SECRET)
    if how == "symlink":
        (source / "maps" / "map.png").symlink_to(secret)
        figure = "./maps/map.png"
    else:
        figure = f"../../elsewhere/{secret.name}" if how == "dotdot" else str(secret)
    row = {"question": "How many lines are in the map?", "answer": 2, "type": "Counting3", "country": "x",
           "city": "y", "difficulty_city": "easy", "figure": figure, "json": None}
    path = source / "plus.json"
    path.write_text(json.dumps([row]))
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"field 'figure': path .* leads outside"):
        import_dataset(path, out, strict=strict)
    assert not out.exists()
