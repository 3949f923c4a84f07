"""`rewardmap data synth`: synthetic cities through the same builder as real ones."""

import json

from PIL import Image
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.datasets.check import check_dataset
from rewardmap.datasets.synthetic import city_seeds, synth_dataset
from rewardmap.network import load_station_file

runner = CliRunner()


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_synth_cli_writes_maps_station_files_positions_and_checked_questions(tmp_path):
    out = tmp_path / "syn"
    result = runner.invoke(app, ["data", "synth", "--cities", "3", "--seed", "4", "--size", "512",
                                 "--per-city", "20", "--difficulty", "middle", "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "60 questions from 3 cities" in result.output
    records = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert len(records) == 60 and {r["country"] for r in records} == {"synthetic"}
    assert {r["difficulty_city"] for r in records} == {"middle"}
    cities = {r["city"] for r in records}
    assert len(cities) == 3
    for city in cities:
        assert Image.open(out / f"maps/synthetic/{city}.png").size == (512, 512)
        net = load_station_file(out / f"stations/synthetic/{city}.json")
        positions = json.loads((out / f"positions/synthetic/{city}.json").read_text())
        assert set(positions["stations"]) == set(net.stations)
    assert check_dataset(out).ok


def test_synth_is_deterministic_and_city_i_does_not_depend_on_the_count(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synth_dataset(a, cities=2, seed=9, size=384, per_city=10)
    synth_dataset(b, cities=2, seed=9, size=384, per_city=10, workers=2)
    assert _tree(a) == _tree(b)  # same bytes whether made in one process or two
    assert city_seeds(9, 5)[:2] == city_seeds(9, 2)


def test_synth_rejects_bad_arguments_in_one_line(tmp_path):
    for args, message in ((["--cities", "0"], "--cities must be at least 1"),
                          (["--difficulty", "brutal"], "--difficulty: expected one of"),
                          (["--size", "100"], "--size must be between 256 and 8192")):
        result = runner.invoke(app, ["data", "synth", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x").exists()
