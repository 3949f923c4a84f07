"""Import of the official datasets, on small copies built here in their published formats.

What the official data looks like (see rewardmap.datasets.importer): ReasonMap rows carry a
base64 PNG `figure`, the station object in `json` and `routes` as an object of plans, in
parquet files named like `data/reasonmap-1008-validation.parquet`; ReasonMap-Plus and -Train
rows point at `./maps/<country>/<city>.png` and `./stations/<country>/<city>.json`.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import datasets
import huggingface_hub
import pytest
from commands import wrong_modes
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from rewardmap.datasets.download import download_dataset, repo_id
from rewardmap.datasets.importer import import_dataset
from rewardmap.datasets.schema import BASE_FIELDS
from rewardmap.errors import InputError
from rewardmap.fileio import umask

TINYVILLE = {
    "Line 1": ["Alpha Station (Transfer Station)", "Beta Station", "Gamma Station"],
    "Line 2": ["Alpha Station (Transfer Station)", "Delta Station"],
}
OTHERTON = {"Red Line": ["North", "Centre (Transfer Station)", "South"],
            "Blue Line": ["Centre (Transfer Station)", "East"]}


def image(color, size=(6, 4), fmt="PNG") -> bytes:
    img = Image.new("RGB", size, color)
    img.putpixel((1, 2), (1, 2, 3))  # not a flat image, so a pixel mix-up shows
    info = PngInfo()
    info.add_text("made-by", "test_import")  # re-encoding would drop it: PNGs must be kept as is
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, pnginfo=info)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pixels(data_or_path) -> tuple:
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with Image.open(source) as img:
        return img.size, img.convert("RGB").tobytes()


def read_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def plan(*sections):
    return [{"route_name": r, "departure_stop": d, "arrival_stop": a, "num_via_stops": n, "via_stops": v}
            for r, d, a, n, v in sections]


def route_row(city, figure, station, plans, **extra):
    row = {
        "country": "testland", "city": city, "figure": figure, "json": station,
        "question_short": f"How do I get from A to B in {city}?", "question_long": f"Long question for {city}",
        "station_1": "Alpha Station", "station_2": "Delta Station", "routes": plans,
        "difficulty_city": "Easy", "difficulty_question": "MIDDLE",
        "city_line_count": 2, "city_transfer_count": 1, "question_transfer_count": 1,
    }
    return row | extra


def plus_row(qtype, question, answer, figure="./maps/testland/tinyville.png",
             station="./stations/testland/tinyville.json", **extra):
    row = {
        "country": "testland", "city": "tinyville", "figure": figure, "json": station,
        "question": question, "answer": answer, "type": qtype,
        "station_1": "Alpha Station", "station_2": None, "difficulty_city": "hard",
        "city_line_count": 2, "city_transfer_count": 1,
    }
    return row | extra


PLUS_QUESTIONS = [
    ("Counting1", "Please solve... how many intermediate stops are there between Alpha Station and Gamma Station "
                  "(except for this two stops)? \nA) 3 \nB) 1 \nC) 25 \nD) 12 \n", 1),
    ("Counting2", "According to the subway map, how many lines pass through Alpha Station?", 2),
    ("Counting3", "According to the subway map, how many subway (metro) lines are there in total?", 2),
    ("TorF1", "According to the subway map, is it true that Alpha Station is the same line as Delta Station?", 1),
    ("TorF2", "According to the subway map, is it true that Beta Station is on the line Line 2?", 0),
]


def write_station_files(root: Path) -> None:
    (root / "stations/testland").mkdir(parents=True)
    (root / "stations/testland/tinyville.json").write_text(json.dumps(TINYVILLE, indent=4), encoding="utf-8")
    (root / "maps/testland").mkdir(parents=True)
    (root / "maps/testland/tinyville.png").write_bytes(image("red"))


# ---------------------------------------------------------------------------- ReasonMap


def test_reasonmap_parquet_snapshot(tmp_path):
    red, blue = image("red"), image("blue", (5, 7))
    first = plan(("Line 1", "Alpha Station", "Gamma Station", 1, ["Beta Station"]))
    second = plan(("Line 2", "Alpha Station", "Delta Station", 0, []),
                  ("Line 1", "Delta Station", "Gamma Station", 2, []))
    # Two cities and unevenly many plans per file: Arrow turns `json` and `routes` into structs
    # holding every row's keys, and fills the keys a row lacks with None.
    train = [route_row("tinyville", b64(red), TINYVILLE, {"plan_b": first, "plan_a": second}),
             route_row("otherton", b64(blue), OTHERTON, {"plan_b": second})]
    validation = [route_row("otherton", "data:image/png;base64," + b64(blue), OTHERTON, {"plan_a": first}),
                  route_row("tinyville", b64(red), TINYVILLE, {"plan_a": second, "plan_b": first})]
    snapshot = tmp_path / "snapshot"
    (snapshot / "data").mkdir(parents=True)
    datasets.Dataset.from_list(train).to_parquet(snapshot / "data/reasonmap-1008-train.parquet")
    datasets.Dataset.from_list(validation).to_parquet(snapshot / "data/reasonmap-1008-validation.parquet")

    out = tmp_path / "out"
    summary = import_dataset(snapshot, out)
    records = read_records(out)

    assert summary.records == 4 and summary.by_dataset == {"reasonmap": 4}
    assert summary.by_split == {"train": 2, "validation": 2} and summary.by_type == {"planning": 4}
    assert [r["id"] for r in records] == ["reasonmap-train-00000", "reasonmap-train-00001",
                                          "reasonmap-validation-00000", "reasonmap-validation-00001"]
    assert all(list(r) == [*BASE_FIELDS, "routes", "question_long", "split"] for r in records)
    # Plans come out as a list in the source order, whatever their names.
    assert [r["routes"] for r in records] == [[first, second], [second], [first], [second, first]]
    rec = records[2]
    assert rec["type"] == "planning" and rec["split"] == "validation" and rec["answer"] == ""
    assert rec["question"] == "How do I get from A to B in otherton?"
    assert rec["question_long"] == "Long question for otherton"
    assert (rec["difficulty_city"], rec["difficulty_question"]) == ("easy", "middle")
    # One file per distinct map and station file; each decodes to the source.
    assert summary.maps_written == 2 and summary.stations_written == 2
    assert "maps written: 2, station files written: 2" in summary.describe()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "maps/testland/otherton.png", "maps/testland/tinyville.png", "questions.jsonl",
        "stations/testland/otherton.json", "stations/testland/tinyville.json"]
    assert [r["figure"] for r in records] == ["maps/testland/tinyville.png", "maps/testland/otherton.png",
                                              "maps/testland/otherton.png", "maps/testland/tinyville.png"]
    assert (out / records[0]["figure"]).read_bytes() == red
    assert (out / records[2]["figure"]).read_bytes() == blue
    assert json.loads((out / records[3]["json"]).read_text(encoding="utf-8")) == TINYVILLE
    assert json.loads((out / records[1]["json"]).read_text(encoding="utf-8")) == OTHERTON


def test_single_parquet_file_and_split_selection(tmp_path):
    rows = [route_row("tinyville", image("red"), json.dumps(TINYVILLE),  # raw bytes: a binary column
                      json.dumps({"plan_1": plan(("Line 1", "Alpha Station", "Gamma Station", 1, ["Beta Station"]))}))]
    path = tmp_path / "test-00000-of-00001.parquet"
    datasets.Dataset.from_list(rows).to_parquet(path)

    summary = import_dataset(path, tmp_path / "out", split="test")
    [rec] = read_records(tmp_path / "out")
    assert summary.by_split == {"test": 1} and "split" not in rec
    assert rec["routes"][0][0]["via_stops"] == ["Beta Station"]  # parsed from a JSON string
    assert json.loads((tmp_path / "out" / rec["json"]).read_text(encoding="utf-8")) == TINYVILLE
    assert (tmp_path / "out" / rec["figure"]).read_bytes() == image("red")
    with pytest.raises(InputError, match=r"no split 'validation'; it has test"):
        import_dataset(path, tmp_path / "other", split="validation")


# ---------------------------------------------------------------------------- ReasonMap-Plus


@pytest.fixture
def plus_saved(tmp_path) -> Path:
    """A save_to_disk DatasetDict shaped like ReasonMap-Plus, its station file beside it."""
    write_station_files(tmp_path)
    train = [plus_row(t, q, a, figure={"bytes": image("red"), "path": None}) for t, q, a in PLUS_QUESTIONS]
    test = [plus_row("TorF2", "Is it true that Gamma Station is on the line Line 1?", 1,
                     figure={"bytes": image("green"), "path": "green.png"}, city="otherton", station=None)]
    features = datasets.Dataset.from_list(train).features.copy()
    features["figure"] = datasets.Image()
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(train, features=features),
                               "test": datasets.Dataset.from_list(test, features=features)})
    dd.save_to_disk(tmp_path / "plus")
    return tmp_path / "plus"


def test_plus_save_to_disk(tmp_path, plus_saved):
    out = tmp_path / "out"
    summary = import_dataset(plus_saved, out)
    records = read_records(out)

    assert summary.by_dataset == {"reasonmap-plus": 6}
    assert summary.by_type == {"Counting1": 1, "Counting2": 1, "Counting3": 1, "TorF1": 1, "TorF2": 2}
    by_type = {r["type"]: r for r in records if r["split"] == "train"}
    extra = {"Counting1": ["choices"], "TorF2": ["line"]}
    for qtype, rec in by_type.items():
        assert list(rec) == [*BASE_FIELDS, *extra.get(qtype, []), "split"], qtype
    assert [by_type[t]["answer"] for t in ("Counting1", "Counting2", "Counting3", "TorF1", "TorF2")] == [1, 2, 2, 1, 0]
    assert by_type["Counting1"]["choices"] == [3, 1, 25, 12]
    assert by_type["TorF2"]["line"] == "Line 2"
    assert by_type["TorF1"]["difficulty_question"] == "hard"  # Plus: the map's difficulty
    assert by_type["TorF1"]["station_2"] is None and by_type["TorF1"]["question_transfer_count"] == 0
    # The station path resolved beside the source folder; the file is copied byte for byte.
    assert by_type["TorF1"]["json"] == "stations/testland/tinyville.json"
    assert (out / "stations/testland/tinyville.json").read_bytes() == \
        (tmp_path / "stations/testland/tinyville.json").read_bytes()
    assert summary.maps_written == 2 and len({r["figure"] for r in records}) == 2
    test_rec = next(r for r in records if r["split"] == "test")
    assert test_rec["json"] is None and pixels(out / test_rec["figure"]) == pixels(image("green"))
    assert len({r["id"] for r in records}) == 6 and test_rec["id"] == "reasonmap-plus-test-00000"
    assert wrong_modes(out, umask()) == {}  # not the private modes of the staging folder


def test_plus_paths_missing_are_reported_or_strict(tmp_path):
    rows = [plus_row("Counting2", "How many lines pass through Alpha Station?", 2,
                     figure=b64(image("red")), station="./stations/testland/nowhere.json")]
    path = tmp_path / "src" / "train.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    summary = import_dataset(path, tmp_path / "out")
    [rec] = read_records(tmp_path / "out")
    assert rec["json"] == "./stations/testland/nowhere.json"  # kept, not dropped
    assert summary.missing == {"json": ["./stations/testland/nowhere.json"]}
    assert any("not found" in w for w in summary.warnings)

    with pytest.raises(InputError) as e:
        import_dataset(path, tmp_path / "strict", strict=True)
    assert "train row 0: field 'json'" in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "strict").exists()


def test_real_rome_files_found_through_search_dirs(tmp_path, real_data):
    rome = {"country": "italy", "city": "rome", "figure": "./maps/italy/rome.png",
            "station": "./stations/italy/rome.json"}
    rows = [plus_row("Counting3", "How many subway (metro) lines are there in total?", 3, **rome),
            plus_row("TorF1", "Is it true that Termini Station is the same line as Spagna Station?", "yes", **rome)]
    path = tmp_path / "plus.json"
    path.write_text(json.dumps(rows), encoding="utf-8")

    summary = import_dataset(path, tmp_path / "out", search_dirs=[real_data], strict=True)
    out = tmp_path / "out"
    records = read_records(out)
    assert summary.maps_written == 1 and summary.stations_written == 1 and records[1]["answer"] == 1
    assert (out / records[0]["json"]).read_bytes() == (real_data / "stations/italy/rome.json").read_bytes()
    assert (out / records[1]["figure"]).read_bytes() == (real_data / "maps/italy/rome.png").read_bytes()


# ---------------------------------------------------------------------------- ReasonMap-Train


def test_train_mix_from_json(tmp_path):
    write_station_files(tmp_path)
    bmp = image("yellow", fmt="BMP")
    routes = {"p": plan(("Line 2", "Alpha Station", "Delta Station", 0, []))}
    rows = [
        plus_row("TorF1", "Is it true that Alpha Station is the same line as Beta Station?", 1, id=7,
                 fine_grained_answer={"Alpha Station": "Line 1"}),
        plus_row("counting 2", "How many lines pass through Alpha Station?", "2", id=7),  # duplicate id
        plus_row("Counting3", "How many subway (metro) lines are there in total?", 2.0, id=None),
        plus_row("planning", "How do I get from Alpha Station to Delta Station?", "", figure=b64(bmp),
                 station_2="Delta Station", routes=json.dumps(routes), question_transfer_count=0),
    ]
    path = tmp_path / "train.json"
    path.write_text(json.dumps(rows), encoding="utf-8")

    summary = import_dataset(path, tmp_path / "out")
    records = read_records(tmp_path / "out")
    assert summary.by_dataset == {"reasonmap-train": 4}
    assert [r["id"] for r in records] == ["7", *(f"reasonmap-train-train-0000{i}" for i in (1, 2, 3))]
    assert records[1]["source_id"] == 7 and records[1]["type"] == "Counting2" and records[1]["answer"] == 2
    assert type(records[2]["answer"]) is int and records[2]["answer"] == 2
    assert records[0]["fine_grained_answer"] == {"Alpha Station": "Line 1"}  # extra column kept
    route = records[3]
    assert route["routes"] == list(routes.values()) and route["difficulty_question"] == "easy"
    assert "question_long" not in route and "split" not in route
    # A BMP figure is stored as a PNG with the same pixels, under its own name.
    assert route["figure"] == "maps/testland/tinyville-" + route["figure"][-12:]
    assert (tmp_path / "out" / route["figure"]).read_bytes().startswith(b"\x89PNG")
    assert pixels(tmp_path / "out" / route["figure"]) == pixels(bmp)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad, field", [
    ({"figure": "definitely-not-base64!!"}, "figure"),
    ({"figure": b64(b"not an image")}, "figure"),
    ({"figure": None}, "figure"),
    ({"type": None}, "type"),
    ({"type": "Counting9"}, "type"),
    ({"answer": 4}, "answer"),
    ({"difficulty_city": "extreme"}, "difficulty_city"),
    ({"json": {"Line 1": "Alpha Station"}}, "json"),
])
def test_bad_record_is_one_line_and_writes_nothing(tmp_path, bad, field):
    good = plus_row("Counting1", "How many stops? A) 1 B) 2 C) 3 D) 4", 0,
                    figure=b64(image("red")), station=TINYVILLE)
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | bad) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    with pytest.raises(InputError) as e:
        import_dataset(path, out)
    message = str(e.value)
    assert message.startswith(f"{path}:test row 1: field '{field}': ") and "\n" not in message
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["test.jsonl"]


def test_route_plans_must_be_sections(tmp_path):
    rows = [route_row("tinyville", b64(image("red")), TINYVILLE, {"p": [{"route_name": "Line 1"}]})]
    path = tmp_path / "rm.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InputError, match=r"rm\.json:rm row 0: field 'routes': each plan"):
        import_dataset(path, tmp_path / "out")


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    rows = [plus_row("Counting3", "How many lines?", 2, figure=b64(image("red")), station=TINYVILLE)]
    path = tmp_path / "plus.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")

    with pytest.raises(InputError, match="not empty"):
        import_dataset(path, out)
    assert (out / "keep.txt").exists() and not (out / "questions.jsonl").exists()
    import_dataset(path, out, overwrite=True, progress=True)
    assert not (out / "keep.txt").exists() and len(read_records(out)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plus.json"]  # no staging left over


# ---------------------------------------------------------------------------- download


def test_download_imports_the_snapshot(tmp_path, plus_saved, monkeypatch):
    calls = []

    def fake_snapshot_download(**kwargs):
        calls.append(kwargs)
        return str(plus_saved)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    summary = download_dataset("fsccs/reasonmap_plus", tmp_path / "out", split="train")
    assert calls[0]["repo_id"] == "FSCCS/ReasonMap-Plus" and calls[0]["repo_type"] == "dataset"
    assert calls[0]["allow_patterns"] == ["*train*"]
    assert summary.records == 5 and len(read_records(tmp_path / "out")) == 5


def test_download_failures_are_one_line(tmp_path, monkeypatch):
    def offline(**kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(InputError) as e:
        download_dataset("ReasonMap", tmp_path / "out")
    message = str(e.value)
    assert "could not reach the Hugging Face Hub" in message and "rewardmap data import" in message
    assert "FSCCS/ReasonMap " in message and "\n" not in message and not (tmp_path / "out").exists()

    with pytest.raises(InputError, match=r"unknown dataset 'reasonmap-v3'; choose one of reasonmap, reasonmap-plus"):
        repo_id("reasonmap-v3")


def test_cli_import_prints_the_summary_and_fails_in_one_line(tmp_path, plus_saved):
    from typer.testing import CliRunner

    from rewardmap.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["data", "import", str(plus_saved), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "imported 6 records" in result.output and (tmp_path / "cli/questions.jsonl").is_file()
    result = runner.invoke(app, ["data", "import", str(plus_saved), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 2 and "already exists and is not empty" in result.output


def test_built_records_survive_a_round_trip_through_the_official_plus_format(tmp_path, toy_file):
    """Records written the way ReasonMap-Train stores them (./ paths, no line/choices
    columns) import back to the same questions, and data check recomputes every answer."""
    from PIL import Image

    from rewardmap.datasets.build import build_dataset
    from rewardmap.datasets.check import check_dataset

    (tmp_path / "maps/testland").mkdir(parents=True)
    Image.new("RGB", (32, 32), "white").save(tmp_path / "maps/testland/toyville.png")
    built = tmp_path / "built"
    build_dataset(toy_file.parents[1], built, maps=tmp_path / "maps", per_city=40, seed=3)
    originals = read_records(built)
    rows = []
    for r in originals:
        row = {k: v for k, v in r.items() if k not in ("id", "line", "choices")}
        row.update(figure="./" + r["figure"], json="./" + r["json"])
        rows.append(row)
    src = tmp_path / "official" / "train.jsonl"
    src.parent.mkdir()
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "imported"
    import_dataset(src, out, search_dirs=[built], strict=True)
    imported = read_records(out)
    keep = ("type", "question", "answer", "station_1", "station_2", "line", "choices", "routes",
            "question_transfer_count", "difficulty_question")
    assert [{k: r.get(k) for k in keep} for r in imported] == [{k: r.get(k) for k in keep} for r in originals]
    assert check_dataset(out).ok


def test_imported_official_data_is_evaluated_end_to_end(tmp_path, plus_saved):
    """ReasonMap (parquet) and ReasonMap-Plus (save_to_disk) as published -> `data import` ->
    `rewardmap eval` against a server giving the right answers: full marks on both."""
    from canned import CannedAPI, right_answers
    from commands import rewardmap

    snapshot = tmp_path / "reasonmap"
    (snapshot / "data").mkdir(parents=True)
    rows = [route_row("tinyville", b64(image("red")), TINYVILLE,
                      {"plan_a": plan(("Line 1", "Alpha Station", "Gamma Station", 1, ["Beta Station"]))},
                      station_2="Gamma Station", question_long="Long question, Number of Via Stops: n"),
            route_row("otherton", b64(image("blue")), OTHERTON,
                      {"plan_a": plan(("Red Line", "North", "Centre", 0, []), ("Blue Line", "Centre", "East", 0, []))},
                      station_1="North", station_2="East")]
    datasets.Dataset.from_list(rows).to_parquet(snapshot / "data/reasonmap-1008-test.parquet")
    for source, benchmark, count, names in ((snapshot, "reasonmap", 2, ("acc_short", "acc_long")),
                                           (plus_saved, "reasonmap-plus", 6, ("correct",))):
        data = tmp_path / f"{benchmark}-data"
        rewardmap("data", "import", source, "--out", data)
        server = CannedAPI(right_answers(data))
        try:
            rewardmap("eval", "--data", data, "--benchmark", benchmark, "--api", server.url, "--api-model", "m",
                      "--out", tmp_path / f"{benchmark}-run")
        finally:
            server.close()
        metrics = json.loads((tmp_path / f"{benchmark}-run" / "metrics.json").read_text())
        assert metrics["count"] == count and len(server.requests) == count * len(names), metrics
        assert all(metrics["overall"][name]["mean"] == 1.0 for name in names), metrics["overall"]
