import json
import shutil

import pytest
from PIL import Image
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.datasets.build import build_dataset
from rewardmap.datasets.check import check_dataset
from rewardmap.datasets.schema import BASE_FIELDS, TYPE_FIELDS
from rewardmap.errors import InputError

runner = CliRunner()


@pytest.fixture
def toy_dataset(tmp_path, toy_file):
    maps = tmp_path / "maps" / "testland"
    maps.mkdir(parents=True)
    Image.new("RGB", (64, 48), "white").save(maps / "toyville.png")
    out = tmp_path / "out"
    build_dataset(toy_file.parents[1], out, maps=tmp_path / "maps", per_city=40, seed=1)
    return out


def _records(folder):
    return [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()]


def test_build_writes_a_self_contained_folder_with_the_contract_fields(toy_dataset, toy_file):
    records = _records(toy_dataset)
    assert len(records) == 40
    for r in records:
        assert list(r)[: len(BASE_FIELDS)] == list(BASE_FIELDS)
        assert set(r) - set(BASE_FIELDS) == set(TYPE_FIELDS.get(r["type"], ()))
        assert (r["country"], r["city"]) == ("testland", "toyville")
        assert r["json"] == "stations/testland/toyville.json" and r["figure"] == "maps/testland/toyville.png"
    assert (toy_dataset / "stations/testland/toyville.json").read_bytes() == toy_file.read_bytes()
    assert Image.open(toy_dataset / "maps/testland/toyville.png").size == (64, 48)
    assert len({r["id"] for r in records}) == 40
    assert not list(toy_dataset.rglob("*.tmp"))
    assert check_dataset(toy_dataset).ok


def test_build_is_deterministic_for_a_seed(tmp_path, toy_file):
    a, b, c = (tmp_path / x for x in "abc")
    for folder, seed in ((a, 5), (b, 5), (c, 6)):
        build_dataset(toy_file.parents[1], folder, seed=seed, per_city=30)
    assert (a / "questions.jsonl").read_bytes() == (b / "questions.jsonl").read_bytes()
    assert (a / "questions.jsonl").read_bytes() != (c / "questions.jsonl").read_bytes()


def test_a_malformed_station_file_stops_the_build_before_anything_is_written(tmp_path, toy_file):
    (toy_file.parent / "broken.json").write_text('{"L": ["A", 7]}')
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"broken.json: line 'L': station 2 is a number"):
        build_dataset(toy_file.parents[1], out)
    assert not out.exists()
    summary = build_dataset(toy_file.parents[1], out, skip_invalid=True, per_city=5)
    assert summary.cities == 1 and "broken.json" in summary.skipped[0]
    assert {r["city"] for r in _records(out)} == {"toyville"}


def _rewrite(folder, edit):
    records = _records(folder)
    edit(records)
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def _first(records, kind):
    return next(r for r in records if r["type"] == kind)


@pytest.mark.parametrize("edit, field, message", [
    (lambda rs: _first(rs, "Counting2").update(answer=9), "answer", "the station file gives"),
    (lambda rs: _first(rs, "TorF1").update(answer=1 - _first(rs, "TorF1")["answer"]), "answer", "the station file gives"),
    (lambda rs: _first(rs, "Counting1").update(choices=[1, 1, 2, 3]), "choices", "four distinct integers"),
    (lambda rs: _first(rs, "planning").update(question_transfer_count=5), "question_transfer_count", "the optimal route has"),
    (lambda rs: _first(rs, "planning")["routes"][0][0].update(num_via_stops=99), "routes", "via stops do not match"),
    (lambda rs: _first(rs, "TorF2").update(line="Line 99"), "line", "is not in"),
    (lambda rs: _first(rs, "Counting2").pop("city"), "city", "missing"),
    (lambda rs: _first(rs, "Counting2").update(json="../../etc/passwd"), "json", "escapes the dataset folder"),
    (lambda rs: _first(rs, "Counting2").update(figure="maps/none.png"), "figure", "is missing"),
    (lambda rs: _first(rs, "Counting2").update(station_1="Atlantis Station"), "station_1", "is not in"),
    (lambda rs: _first(rs, "Counting2").update(type="Counting9"), "type", "unknown type"),
])
def test_check_reports_each_problem_with_file_line_and_field(toy_dataset, edit, field, message):
    _rewrite(toy_dataset, edit)
    report = check_dataset(toy_dataset)
    assert len(report.problems) == 1, report.problems
    problem = str(report.problems[0])
    assert problem.startswith(f"{toy_dataset / 'questions.jsonl'}:") and f"field '{field}'" in problem
    assert message in problem


def _section(line, a, b, vias):
    return {"route_name": line, "departure_stop": a, "arrival_stop": b, "num_via_stops": len(vias), "via_stops": vias}


def test_check_reports_a_valid_but_not_optimal_plan(toy_dataset):
    def detour(records):
        r = _first(records, "planning")
        r.update(station_1="E Station", station_2="I Station", question_transfer_count=1,
                 difficulty_question="middle")
        optimal = [_section("Line 2", "E Station", "F Station", ["B Station", "C Station"]),
                   _section("Ring", "F Station", "I Station", ["G Station", "H Station"])]
        longer = [_section("Line 2", "E Station", "B Station", []), _section("Line 1", "B Station", "C Station", []),
                  _section("Line 2", "C Station", "F Station", []), optimal[1]]
        r["routes"] = [optimal, longer]
    _rewrite(toy_dataset, detour)
    [problem] = map(str, check_dataset(toy_dataset).problems)
    assert "plan 2: not optimal: 3 transfers and 6 stops, the best is 1 transfers and 6 stops" in problem


def test_check_reports_an_unreadable_image(toy_dataset):
    (toy_dataset / "maps/testland/toyville.png").write_bytes(b"\x89PNG not really")
    report = check_dataset(toy_dataset)
    assert report.records == 40 and len(report.problems) == 40
    assert all("image maps/testland/toyville.png is unreadable" in p.message for p in report.problems)


def test_cli_build_check_and_errors(tmp_path, toy_file):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["data", "build", "--stations", str(toy_file.parents[1]), "--out", str(out),
                                 "--per-city", "12"])
    assert result.exit_code == 0, result.output
    assert "12 questions from 1 cities" in result.output and "no map image" in result.output
    result = runner.invoke(app, ["data", "check", str(out)])
    assert result.exit_code == 1 and "no image (figure is null)" in result.output  # built without --maps
    assert "12 problems (figure 12)" in result.output
    assert result.output.count("no image (figure is null)") == 1  # one line for the 12 records that share it
    assert "(12 records, lines 1, 2, 3, 4, 5, ...)" in result.output
    (toy_file.parent / "zzz.json").write_text('{"L": ["A", "B", "A", "C"]}')
    result = runner.invoke(app, ["data", "build", "--stations", str(toy_file.parents[1]), "--out", str(out)])
    assert result.exit_code == 2 and "zzz.json: line 'L'" in result.output and "--skip-invalid" in result.output
    result = runner.invoke(app, ["data", "build", "--stations", str(tmp_path / "nope"), "--out", str(out)])
    assert result.exit_code == 2 and "nope: not a folder of station files" in result.output
    result = runner.invoke(app, ["data", "build", "--stations", str(toy_file.parents[1]), "--out", str(out),
                                 "--types", "TorF1,Nonsense"])
    assert result.exit_code == 2 and "Nonsense" in result.output
    for command in (["--help"], ["data", "--help"], ["data", "build", "--help"], ["data", "synth", "--help"],
                    ["data", "check", "--help"], ["data", "import", "--help"], ["data", "download", "--help"],
                    ["data", "export", "--help"], ["score", "--help"], ["train", "--help"], ["eval", "--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0 and "Usage" in result.output


def test_build_and_check_the_real_cities(tmp_path, real_data):
    stations = tmp_path / "stations"
    shutil.copytree(real_data / "stations", stations)
    out = tmp_path / "out"
    summary = build_dataset(stations, out, maps=real_data / "maps", per_city=20, skip_invalid=True, workers=2)
    assert summary.cities == 29 and "new_york" in summary.skipped[0]
    assert len(summary.missing_maps) == 29 - 11
    report = check_dataset(out)
    assert report.records == summary.records
    assert all("no image" in p.message for p in report.problems)
    with_maps = [r for r in _records(out) if r["figure"]]
    assert {r["city"] for r in with_maps} == {p.stem for p in (real_data / "maps").glob("*/*.png")}
