"""Every problem `data check` can report fires on a dataset that has just that problem, alone,
and its line names the file, the line and the field (issue 24, point 2).

The clean dataset is written here by hand: one record of each type on conftest's toy city,
every answer worked out from its station file on paper, one map, and a second city whose two
lines never meet. Each case changes one thing and gives the one line `data check` must print.
`test_every_message_of_the_checker_has_a_case` reads the messages out of the checker's source
(and out of what it calls: the schema, the station-file reader, the image check, the Plus
answers) and fails when one has no case here, so a new check is covered the day it is added."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from conftest import TOY
from PIL import Image
from test_images import bomb, broken_stream, dds_of_unknown_format, tiff_with_float_strip_offsets
from typer.testing import CliRunner

from rewardmap import fileio, images
from rewardmap.cli import app
from rewardmap.datasets import check, schema
from rewardmap.datasets.schema import BASE_FIELDS, FIELD_KINDS, ROUTE_SECTION_FIELDS, SECTION_KINDS, TYPE_FIELDS
from rewardmap.network import loading
from rewardmap.questions import plus
from rewardmap.questions.kinds import QUESTION_TYPES

runner = CliRunner()
ROOT = "<root>"  # in a message: the dataset folder, resolved (station-file errors name the file in full)

# --- the clean dataset -----------------------------------------------------------------------

ISLANDS = {"North Line": ["N1 Station", "N2 Station"], "South Line": ["S1 Station", "S2 Station"]}
TOYVILLE = {"country": "testland", "city": "toyville", "difficulty_city": "middle", "city_line_count": 4,
            "city_transfer_count": 4, "json": "stations/testland/toyville.json",
            "figure": "maps/testland/toyville.png"}  # 4 lines; B, C, F and J are transfers: a middle map


def _record(number: int, kind: str, answer, a=None, b=None, transfers=0, difficulty="middle", **extra) -> dict:
    values = {"id": f"q{number}", "type": kind, "question": f"A {kind} question?", "answer": answer,
              "station_1": a, "station_2": b, **TOYVILLE, "difficulty_question": difficulty,
              "question_transfer_count": transfers}
    return {**{f: values[f] for f in BASE_FIELDS}, **extra}


def _section(line, a, b, vias):
    return {"route_name": line, "departure_stop": a, "arrival_stop": b, "num_via_stops": len(vias), "via_stops": vias}


RECORDS = [  # one per line, in this order
    _record(1, "Counting1", 1, "A Station", "D Station", choices=[1, 2, 3, 4]),  # B and C between: 2, option 1
    _record(2, "Counting2", 2, "B Station"),  # Line 1 and Line 2
    _record(3, "Counting3", 4),
    _record(4, "TorF1", 0, "A Station", "E Station"),  # Line 1 only, Line 2 only
    _record(5, "TorF2", 1, "G Station", line="Ring"),
    _record(6, "planning", "Route Name: Line 2\n...", "E Station", "I Station", transfers=1,
            question_long="A long planning question?",
            routes=[[_section("Line 2", "E Station", "F Station", ["B Station", "C Station"]),
                     _section("Ring", "F Station", "I Station", ["G Station", "H Station"])]]),
]
LINE = {r["type"]: n for n, r in enumerate(RECORDS, 1)}
assert sorted(LINE) == sorted(QUESTION_TYPES)


def write_clean(folder: Path) -> Path:
    for name, lines in (("toyville", TOY), ("islands", ISLANDS)):
        (folder / "stations/testland").mkdir(parents=True, exist_ok=True)
        (folder / f"stations/testland/{name}.json").write_text(json.dumps(lines), encoding="utf-8")
    (folder / "maps/testland").mkdir(parents=True)
    Image.new("RGB", (64, 48), "white").save(folder / "maps/testland/toyville.png")
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return write_clean(tmp_path_factory.mktemp("clean") / "data")


def data_check(folder: Path):
    result = runner.invoke(app, ["data", "check", str(folder)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def summary(result) -> str:
    return " ".join(result.stderr.split())  # the console wraps its lines


def test_the_clean_dataset_passes(clean):
    result = data_check(clean)
    assert result.exit_code == 0 and result.stdout == "", result.output
    assert "checked 6 records (Counting1 1, Counting2 1, Counting3 1, TorF1 1, TorF2 1, planning 1): ok" \
        in summary(result)
    # one question of each Plus type: its one answer is right for all of them, a warning beside the ok
    assert summary(result).endswith(
        "ok free answers (right more than 60% of the time without reading the map): Counting1: answer 1 is right "
        "for 100% of its 1 questions; Counting2: answer 2 is right for 100% of its 1 questions; Counting3: answer 4 "
        "is right for 100% of its 1 questions; TorF1: answer 0 is right for 100% of its 1 questions; TorF2: answer 1 "
        "is right for 100% of its 1 questions"), result.stderr


def test_the_count_per_type_names_a_type_that_is_not_a_string(clean, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    records = [*RECORDS, {**RECORDS[LINE["TorF1"] - 1], "id": "q7"}, {"id": "q8", "type": None}, {"id": "q9", "type": 5}]
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    assert "checked 9 records ((not a string) 1, Counting1 1, Counting2 1, Counting3 1, TorF1 2, TorF2 1, " \
           "planning 1, None 1): 2 problems (type 2)" in summary(result), result.stderr
    assert "free answers" in summary(result) and "TorF1: answer 0 is right for 100% of its 2 questions" in summary(result)


def test_a_section_may_carry_fields_of_its_own(clean, tmp_path):
    """Only the section fields are checked: another key (even one a record has, such as answer) is left alone."""
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    records = json.loads(json.dumps(RECORDS))
    records[LINE["planning"] - 1]["routes"][0][0].update(answer="Line 2", note=3)
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    assert result.exit_code == 0 and result.stdout == "", result.output


# --- the cases -------------------------------------------------------------------------------

@dataclass
class Edit:
    """What a case changes: FOLDER's files, RECORDS (written back after the change)."""
    folder: Path
    records: list[dict]
    monkeypatch: pytest.MonkeyPatch

    def record(self, kind: str) -> dict:
        return self.records[LINE[kind] - 1]

    def write(self, rel: str, data: bytes | str) -> None:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)


@dataclass
class Case:
    name: str
    change: Callable[[Edit], object]
    kind: str  # the type of the record the problem is on
    field: str
    message: str  # exactly what follows `field 'F': `


def setting(kind: str, **values):
    return lambda d: d.record(kind).update(values)


def dropping(kind: str, name: str):
    return lambda d: d.record(kind).pop(name)


def plan(change):
    """A change of the planning record's one plan (a list of two sections)."""
    return lambda d: change(d.record("planning")["routes"][0])


def _holder(name: str) -> str:
    return next(r["type"] for r in RECORDS if name in r)


def _bad_station_file(content: str | bytes):
    def change(d: Edit):
        d.write("stations/testland/bad.json", content)
        d.record("Counting2")["json"] = "stations/testland/bad.json"
    return change


def _bad_map(content: bytes):
    def change(d: Edit):
        d.write("maps/testland/bad.png", content)
        d.record("Counting2")["figure"] = "maps/testland/bad.png"
    return change


def _map_problem(content: bytes) -> str:
    """What the image check says of CONTENT (its words are pinned in test_images.py)."""
    try:
        images.check_map(content)
    except images.ImageProblem as e:
        return str(e)
    raise AssertionError("a sound map")


def _link_outside(d: Edit):
    outside = d.folder.parent / "outside.png"
    shutil.copy(d.folder / "maps/testland/toyville.png", outside)
    (d.folder / "maps/testland/link.png").symlink_to(outside)
    d.record("Counting2")["figure"] = "maps/testland/link.png"


def _unreadable_station_file(d: Edit):
    real = loading.read_capped

    def read_capped(path, *args):
        if Path(path).name == "bad.json":
            raise OSError("disk on fire")
        return real(path, *args)
    d.monkeypatch.setattr(loading, "read_capped", read_capped)
    _bad_station_file(json.dumps(TOY))(d)


def _to_the_islands(d: Edit):
    d.record("planning").update(json="stations/testland/islands.json", city_line_count=2, city_transfer_count=0,
                                difficulty_city="easy", station_1="N1 Station", station_2="S1 Station")


def _detour(d: Edit):
    plans = d.record("planning")["routes"]
    plans.append([_section("Line 2", "E Station", "B Station", []), _section("Line 1", "B Station", "C Station", []),
                  _section("Line 2", "C Station", "F Station", []), plans[0][1]])


BAD_FILE = f"{ROOT}/stations/testland/bad.json"
CASES = [
    # the record's own shape
    *(Case(f"missing-{name}", dropping("Counting2", name), "Counting2", name, "missing")
      for name in BASE_FIELDS if name != "type"),
    *(Case(f"missing-{name}", dropping(kind, name), kind, name, "missing")
      for kind, names in TYPE_FIELDS.items() for name in names),
    Case("missing-type", dropping("Counting2", "type"), "Counting2", "type",
         f"unknown type None; expected one of {list(QUESTION_TYPES)}"),
    Case("unknown-type", setting("Counting2", type="Counting9"), "Counting2", "type",
         f"unknown type 'Counting9'; expected one of {list(QUESTION_TYPES)}"),
    *(Case(f"kind-{name}", setting(_holder(name), **{name: [1]}), _holder(name), name, f"expected {what}, got [1]")
      for name, (_, what) in FIELD_KINDS.items()),
    Case("kind-answer-plus", setting("Counting2", answer="2"), "Counting2", "answer", "expected an integer, got '2'"),
    Case("kind-answer-bool", setting("TorF1", answer=False), "TorF1", "answer", "expected an integer, got False"),
    Case("kind-answer-route", setting("planning", answer=2), "planning", "answer",
         "expected the route text, got 2"),
    Case("duplicate-id", setting("planning", id="q1"), "planning", "id", "duplicate id 'q1' (first on line 1)"),
    # the map
    Case("figure-null", setting("Counting2", figure=None), "Counting2", "figure", "no image (figure is null)"),
    Case("figure-empty", setting("Counting2", figure=""), "Counting2", "figure", "path '' escapes the dataset folder"),
    Case("figure-absolute", setting("Counting2", figure="/etc/hostname"), "Counting2", "figure",
         "path '/etc/hostname' escapes the dataset folder"),
    Case("figure-up", setting("Counting2", figure="../outside.png"), "Counting2", "figure",
         "path '../outside.png' escapes the dataset folder"),
    Case("figure-link-out", _link_outside, "Counting2", "figure",
         "path 'maps/testland/link.png' escapes the dataset folder"),
    Case("figure-absent", setting("Counting2", figure="maps/testland/none.png"), "Counting2", "figure",
         "image 'maps/testland/none.png' is missing"),
    Case("figure-folder", setting("Counting2", figure="maps/testland"), "Counting2", "figure",
         "image 'maps/testland' is missing"),
    *(Case(f"figure-{name}", _bad_map(content), "Counting2", "figure",
           f"image maps/testland/bad.png is unreadable: {_map_problem(content)}")
      for name, content in (("text", b"just text"), ("bomb", bomb()), ("broken-stream", broken_stream()),
                            ("dds", dds_of_unknown_format()), ("tiff", tiff_with_float_strip_offsets()))),
    # the station file
    Case("json-empty", setting("Counting2", json=""), "Counting2", "json", "path '' escapes the dataset folder"),
    Case("json-up", setting("Counting2", json="../toyville.json"), "Counting2", "json",
         "path '../toyville.json' escapes the dataset folder"),
    Case("json-absent", setting("Counting2", json="stations/testland/none.json"), "Counting2", "json",
         "station file 'stations/testland/none.json' is missing"),
    Case("station-file-unreadable", _unreadable_station_file, "Counting2", "json",
         f"{BAD_FILE}: cannot read station file (OSError: disk on fire)"),
    *(Case(f"station-file-{name}", _bad_station_file(content), "Counting2", "json", f"{BAD_FILE}: {message}")
      for name, content, message in (
          ("not-json", "Line 1", "not valid JSON (Expecting value at line 1 column 1)"),
          ("not-utf8", b'{"L": ["A\xff", "B"]}', "not UTF-8 text (byte 9)"),
          ("digits", '{"L": [' + "9" * 5000 + "]}",
           "not usable JSON (an integer of more than 4300 digits)"),
          ("deep", "[" * 100_000 + "]" * 100_000, "not usable JSON (nested too deep)"),
          ("too-large", '{"L": ["A", "B"]}' + " " * fileio.STATION_FILE_MAX_BYTES,
           "station file is larger than the 16 MB allowed"),
          ("line-twice", '{"L": ["A", "B"], "L": ["C", "D"]}', "line 'L' is defined twice"),
          ("not-object", "[]", "expected a JSON object mapping line names to station lists, got a list"),
          ("no-lines", "{}", "no lines"),
          ("blank-line-name", '{" ": ["A", "B"]}', "line name ' ' is empty or not a string"),
          ("surrogate", '{"L\\ud800": ["A", "B"]}', "line name 'L\\ud800': holds an unpaired surrogate (not text)"),
          ("control", '{"L": ["A\\u0007", "B"]}', "line 'L': station 1 'A\\x07': holds the control character U+0007"),
          ("marker", '{"L -- M": ["A", "B"]}', "line name 'L -- M': holds '--', which route answers use as structure"),
          ("line-not-list", '{"L": "A"}', "line 'L': expected a list of station names, got a string"),
          ("empty-line", '{"L": []}', "line 'L': empty line (no stations)"),
          ("station-number", '{"L": ["A", 7]}', "line 'L': station 2 is a number, expected a string"),
          ("station-unnamed", '{"L": ["A", " (Transfer Station)"]}', "line 'L': station 2 has an empty name"),
          ("station-twice", '{"L": ["A", "B", "A", "C"]}',
           "line 'L': station 'A' appears twice (positions 1 and 3); only a loop may repeat a station, its first one "
           "at its end"),
          ("one-station", '{"L": ["A"]}', "line 'L': a line needs at least two stations"))),
    # the city
    Case("city-line-count", setting("TorF2", city_line_count=5), "TorF2", "city_line_count",
         "is 5, the station file gives 4"),
    Case("city-transfer-count", setting("TorF2", city_transfer_count=3), "TorF2", "city_transfer_count",
         "is 3, the station file gives 4"),
    Case("difficulty-city", setting("planning", difficulty_city="hard"), "planning", "difficulty_city",
         "is 'hard', the station file gives 'middle'"),
    Case("station-1", setting("Counting2", station_1="Atlantis Station"), "Counting2", "station_1",
         "station 'Atlantis Station' is not in stations/testland/toyville.json"),
    Case("station-2", setting("TorF1", station_2="Atlantis Station"), "TorF1", "station_2",
         "station 'Atlantis Station' is not in stations/testland/toyville.json"),
    # Plus questions
    Case("difficulty-question-plus", setting("Counting3", difficulty_question="easy"), "Counting3",
         "difficulty_question", "is 'easy', a Plus question takes the map's 'middle'"),
    Case("line", setting("TorF2", line="Line 9"), "TorF2", "line",
         "line 'Line 9' is not in stations/testland/toyville.json"),
    *(Case(f"choices-{name}", setting("Counting1", choices=choices), "Counting1", "choices",
           f"expected four distinct integers, got {choices!r}")
      for name, choices in (("repeated", [1, 1, 2, 3]), ("three", [1, 2, 3]), ("text", "1234"),
                            ("boolean", [0, 2, 3, True]), ("float", [1.0, 2, 3, 4]), ("list", [[1], 2, 3, 4]))),
    Case("choices-wrong", setting("Counting1", choices=[5, 6, 7, 8]), "Counting1", "choices",
         "none is the right count, 2"),
    Case("counting1-two-lines", setting("Counting1", station_1="B Station", station_2="C Station"), "Counting1",
         "answer", "'B Station' and 'C Station' share 2 lines, a Counting1 pair needs one"),
    Case("counting1-no-line", setting("Counting1", station_2="E Station"), "Counting1", "answer",
         "'A Station' and 'E Station' share 0 lines, a Counting1 pair needs one"),
    *(Case(f"answer-{kind}", setting(kind, answer=answer), kind, "answer",
           f"is {answer}, the station file gives {right}")
      for kind, answer, right in (("Counting1", 2, 1), ("Counting2", 3, 2), ("Counting3", 5, 4), ("TorF1", 1, 0),
                                  ("TorF2", 0, 1))),
    # route questions
    Case("same-stations", setting("planning", station_2="E Station"), "planning", "station_2",
         "a route question needs two different stations"),
    Case("no-station-2", setting("planning", station_2=None), "planning", "station_2",
         "a route question needs two different stations"),
    Case("unreachable", _to_the_islands, "planning", "routes", "'S1 Station' cannot be reached from 'N1 Station'"),
    Case("question-transfer-count", setting("planning", question_transfer_count=2), "planning",
         "question_transfer_count", "is 2, the optimal route has 1"),
    Case("difficulty-question-route", setting("planning", difficulty_question="hard"), "planning",
         "difficulty_question", "is 'hard', 1 transfers make it 'middle'"),
    Case("no-plans", setting("planning", routes=[]), "planning", "routes", "expected a non-empty list of plans"),
    Case("plans-not-list", setting("planning", routes={"plan": 1}), "planning", "routes",
         "expected a non-empty list of plans"),
    Case("empty-plan", setting("planning", routes=[[]]), "planning", "routes",
         "plan 1: expected a non-empty list of sections"),
    Case("section-not-object", plan(lambda p: p.__setitem__(0, "Line 2")), "planning", "routes",
         f"plan 1: section 1 needs the fields {list(ROUTE_SECTION_FIELDS)}"),
    Case("section-field-missing", plan(lambda p: p[1].pop("via_stops")), "planning", "routes",
         f"plan 1: section 2 needs the fields {list(ROUTE_SECTION_FIELDS)}"),
    *(Case(f"section-kind-{name}", plan(lambda p, name=name: p[0].update({name: [1]})), "planning", "routes",
           f"plan 1: section 1: {name}: expected {what}, got [1]")
      for name, (_, what) in SECTION_KINDS.items()),
    Case("section-line", plan(lambda p: p[1].update(route_name="Line 9")), "planning", "routes",
         "plan 1: section 2: line 'Line 9' is not in the station file"),
    Case("departs-from", plan(lambda p: p[1].update(departure_stop="G Station", num_via_stops=1,
                                                   via_stops=["H Station"])),
         "planning", "routes", "plan 1: section 2 departs from 'G Station', expected 'F Station'"),
    Case("not-a-ride", plan(lambda p: p[1].update(arrival_stop="A Station")), "planning", "routes",
         "plan 1: section 2: 'F Station' -> 'A Station' is not a ride on 'Ring'"),
    Case("ride-nowhere", plan(lambda p: p[0].update(arrival_stop="E Station", num_via_stops=0, via_stops=[])),
         "planning", "routes", "plan 1: section 1: 'E Station' -> 'E Station' is not a ride on 'Line 2'"),
    Case("via-stops", plan(lambda p: p[0].update(via_stops=["C Station", "B Station"])), "planning", "routes",
         "plan 1: section 1: via stops do not match the shortest ride on 'Line 2'"),
    Case("num-via-stops", plan(lambda p: p[1].update(num_via_stops=3)), "planning", "routes",
         "plan 1: section 2: via stops do not match the shortest ride on 'Ring'"),
    Case("ends-at", plan(lambda p: p.pop()), "planning", "routes", "plan 1: ends at 'F Station', expected 'I Station'"),
    Case("not-optimal", _detour, "planning", "routes",
         "plan 2: not optimal: 3 transfers and 6 stops, the best is 1 transfers and 6 stops"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_problem_fires_alone_and_names_file_line_and_field(clean, tmp_path, monkeypatch, case):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder, symlinks=True)
    records = json.loads(json.dumps(RECORDS))
    case.change(Edit(folder, records, monkeypatch))
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    message = case.message.replace(ROOT, str(folder.resolve()))
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [f"{folder / 'questions.jsonl'}:{LINE[case.kind]}: field '{case.field}': "
                                          f"{message}"], result.stdout
    assert f": 1 problems ({case.field} 1)" in summary(result), result.stderr


# --- what stops the check (exit 2), and what it reports beside the problems (exit 0) --------

ERRORS = [  # (name, change of the clean folder, the one error line after `error: `)
    ("no-questions", lambda f: (f / "questions.jsonl").unlink(), "{f}: no questions.jsonl (is this a dataset folder?)"),
    ("no-records", lambda f: (f / "questions.jsonl").write_text("\n"), "{f}/questions.jsonl: no records"),
    ("not-an-object", lambda f: _line_3(f, "[1]"), "{f}/questions.jsonl:3: expected a JSON object, got list"),
    ("not-json", lambda f: _line_3(f, '{"id": }'),
     "{f}/questions.jsonl:3: not valid JSON (Expecting value at line 1 column 8)"),
]


def _line_3(folder: Path, text: str) -> None:
    lines = (folder / "questions.jsonl").read_text().splitlines()
    lines[2] = text
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("name, change, error", ERRORS, ids=[e[0] for e in ERRORS])
def test_what_is_not_a_dataset_stops_the_check_in_one_line(clean, tmp_path, name, change, error):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    change(folder)
    result = data_check(folder)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr.splitlines() == ["error: " + error.format(f=folder)], result.stderr


WHITE = (64, 48)
LABELS = [  # (name, positions file of the toy map, the label problems data check prints)
    ("sound", {"labels": {"A Station": [14, 20, 50, 30]}, "stations": {"A Station": [8, 25]}, "lines": {}}, []),
    ("no-position", {"labels": {"Z Station": [14, 20, 50, 30]}, "stations": {}, "lines": {}},
     ["Z Station: has a label but no position"]),
    ("outside", {"labels": {"A Station": [-5, 20, 6, 30]}, "stations": {"A Station": [8, 25]}, "lines": {}},
     ["A Station: outside the image"]),
    # the map is white: a line or another colour drawn white crosses every label
    ("line-colour", {"labels": {"A Station": [14, 20, 50, 30]}, "stations": {"A Station": [8, 25]},
                     "lines": {"Line 1": "#ffffff"}}, ["A Station: crossed by a line or a line badge"]),
    ("other-colour", {"labels": {"A Station": [14, 20, 50, 30]}, "stations": {"A Station": [8, 25]}, "lines": {},
                      "other_colours": ["#ffffff"]}, ["A Station: crossed by a line or a line badge"]),
    ("reserved", {"labels": {"A Station": [14.0, 20, 50, 30]}, "stations": {"A Station": [8, 25]}, "lines": {},
                  "reserved": [[40.0, 0, 64, 10], [45, 28, 64, 48]]}, ["A Station: overlaps the title or the legend"]),
    ("nearer", {"labels": {"A Station": [40, 20, 52, 30]}, "stations": {"A Station": [8, 25], "B Station": [58, 25]},
                "lines": {}}, ["A Station: nearer to B Station than to its own station"]),
    ("leader", {"labels": {"A Station": [40, 20, 52, 30]}, "stations": {"A Station": [8, 25], "B Station": [58, 25]},
                "lines": {}, "leaders": {"A Station": [10, 25, 40, 25]}}, []),  # its leader starts at A
]


@pytest.mark.parametrize("name, positions, found", LABELS, ids=[c[0] for c in LABELS])
def test_label_problems_of_a_synthetic_map_are_reported_beside_the_answers(clean, tmp_path, name, positions, found):
    """A label a reader cannot use leaves every answer right: reported, exit status 0."""
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    (folder / "positions/testland").mkdir(parents=True)
    (folder / "positions/testland/toyville.json").write_text(json.dumps(positions))
    result = data_check(folder)
    assert result.exit_code == 0, result.output
    shown = [f"maps/testland/toyville.png: {len(found)} label problems: {'; '.join(found)}"] if found else []
    assert result.stdout.splitlines() == shown, result.stdout
    assert f"labels of 1 synthetic maps: {len(found)} problems on {len(shown)} maps" in summary(result)


def test_a_positions_file_is_read_as_utf8_whatever_the_locale(clean, tmp_path, ascii_locale):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    (folder / "positions/testland").mkdir(parents=True)
    positions = {"labels": {"Zürich Hbf": [-5, 20, 6, 30]}, "stations": {"Zürich Hbf": [8, 25]}, "lines": {}}
    (folder / "positions/testland/toyville.json").write_bytes(json.dumps(positions, ensure_ascii=False).encode())
    result = data_check(folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["maps/testland/toyville.png: 1 label problems: Zürich Hbf: outside the image"]


@pytest.mark.parametrize("figure, positions", [("maps/toyville.png", "positions/toyville.json"),
                                                ("pictures/testland/toyville.png", "positions/testland/toyville.json")])
def test_only_a_map_under_maps_country_has_its_labels_checked(clean, tmp_path, figure, positions):
    """The positions file of a synthetic map is found from maps/<country>/<city>.png; a map elsewhere
    (a real or imported one) has no labels to check, whatever lies under positions/."""
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    (folder / figure).parent.mkdir(parents=True, exist_ok=True)
    shutil.move(folder / "maps/testland/toyville.png", folder / figure)
    (folder / positions).parent.mkdir(parents=True, exist_ok=True)
    (folder / positions).write_text(json.dumps(LABELS[2][1]))  # a label outside the image
    records = [{**r, "figure": figure} if r["figure"] else r for r in RECORDS]
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    assert result.exit_code == 0 and result.stdout == "", result.output
    assert "labels of" not in summary(result)


def test_route_questions_of_two_cities_are_each_routed_on_their_own_map(clean, tmp_path):
    """The checker keeps one router per station file: a route on the second city is not looked
    for on the first city's lines."""
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    islands = {**TOYVILLE, "city": "islands", "json": "stations/testland/islands.json", "difficulty_city": "easy",
               "city_line_count": 2, "city_transfer_count": 0}
    route = _record(7, "planning", "Route Name: North Line\n...", "N1 Station", "N2 Station", difficulty="easy",
                    question_long="A long planning question?",
                    routes=[[_section("North Line", "N1 Station", "N2 Station", [])]])
    records = [*RECORDS, {**route, **{f: islands[f] for f in islands}}]
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    assert result.exit_code == 0 and result.stdout == "", result.output
    assert "checked 7 records" in summary(result)


def _gone(n: int):
    """Records 2..N+1 name a map that is not there; record 1 has a wrong answer."""
    def change(records):
        records[0]["answer"] = 2
        for r in records[1:n + 1]:
            r["figure"] = "maps/testland/gone.png"
    return change


@pytest.mark.parametrize("n, lines", [(5, "lines 2, 3, 4, 5, 6)"), (2, "lines 2, 3)")])
def test_a_problem_of_many_records_is_one_line_with_their_count_and_first_lines(clean, tmp_path, n, lines):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    records = json.loads(json.dumps(RECORDS))
    _gone(n)(records)
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = data_check(folder)
    questions = folder / "questions.jsonl"
    assert result.exit_code == 1 and result.stdout.splitlines() == [  # in order of first appearance
        f"{questions}:1: field 'answer': is 2, the station file gives 1",
        f"{questions}: field 'figure': image 'maps/testland/gone.png' is missing ({n} records, {lines}"], result.stdout


def test_more_records_than_shown_end_their_lines_with_dots(clean, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    (folder / "maps/testland/toyville.png").unlink()
    result = data_check(folder)
    assert result.stdout.splitlines() == [f"{folder / 'questions.jsonl'}: field 'figure': image "
                                          "'maps/testland/toyville.png' is missing (6 records, lines 1, 2, 3, 4, 5, ...)"]
    assert ": 6 problems (figure 6)" in summary(result)


# --- every message has a case ------------------------------------------------------------------

# The messages no dataset can make the checker say, and why.
UNREACHABLE = {
    "not a Plus type": "the checker asks for a Plus answer only for the Plus types",
    "has no pixels": "every Pillow reader refuses an image of no pixels on opening (`not an image file`)",
    "is not a regular file": "the checker opens only what `is_file` finds regular; anything else is `missing`",
}
# Where the messages are: the checker, and what it calls with a message it passes on.
SOURCES = [check, schema.field_problems, loading, images.check_map, plus.plus_answer, plus.counting1_stops,
           fileio.read_capped, fileio.parse_json]


class _MutantsLeftOut(ast.NodeTransformer):
    """Under mutation testing (tools/mutation.py, mutmut) a module also holds a mutated copy of each
    function, `x_NAME__mutmut_N`, beside the original: only the original's messages count."""

    def visit_FunctionDef(self, node):
        return None if re.search(r"__mutmut_\d+$", node.name) else self.generic_visit(node)


def _templates(source) -> list[str]:
    """The messages SOURCE writes, as texts with `{}` for each value filled in: the second
    item of each `yield (field, message)` and of each pair in a returned list, each string
    returned, each raised exception's message, and what is assigned to a variable that is
    yielded as a message or raised."""
    tree = _MutantsLeftOut().visit(ast.parse(textwrap.dedent(inspect.getsource(source))))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        said = {node.exc.args[0].id for node in ast.walk(function) if isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call) and node.exc.args and isinstance(node.exc.args[0], ast.Name)}
        said |= {node.value.elts[-1].id for node in ast.walk(function) if isinstance(node, ast.Yield)
                 and isinstance(node.value, ast.Tuple) and isinstance(node.value.elts[-1], ast.Name)}
        for node in ast.walk(function):
            if isinstance(node, ast.Yield) and isinstance(node.value, ast.Tuple):
                found.append(node.value.elts[-1])
            elif isinstance(node, ast.Return) and isinstance(node.value, (ast.List, ast.ListComp)):
                pairs = node.value.elts if isinstance(node.value, ast.List) else [node.value.elt]
                found += [p.elts[-1] for p in pairs if isinstance(p, ast.Tuple)]
            elif isinstance(node, ast.Return):
                found.append(node.value)
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                found.append(node.exc.args[0])
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in said for t in node.targets):
                value = node.value  # `msg = ...; raise E(msg)`, `found = a if c else "b"; yield f, found`
                found += [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
    texts = []
    for node in found:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value.replace("{", "{{").replace("}", "}}"))
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(part.value.replace("{", "{{").replace("}", "}}")
                                 if isinstance(part, ast.Constant) else "{}" for part in node.values))
    # a message of no words of its own only joins others (`Problem.__str__`): not one to cover
    return [t for t in texts if re.search(r"[a-z]{2}", t.replace("{}", ""))]


def _pattern(template: str) -> re.Pattern:
    """A message ending in TEMPLATE, alone or after a prefix such as `plan 1: ` or a file's name."""
    parts = [re.escape(p.replace("{{", "{").replace("}}", "}")) for p in template.split("{}")]
    return re.compile(r"(?:^|: )" + ".+?".join(parts) + "$", re.S)


def _covered_by() -> list[str]:
    messages = [c.message for c in CASES] + [e[2] for e in ERRORS]
    return messages + [line for _, _, found in LABELS for line in found]


def test_every_message_of_the_checker_has_a_case():
    templates = {t for source in SOURCES for t in _templates(source)}
    # the collector still finds what it should (a change of style would otherwise pass unseen)
    for known in ("section {} departs from {}, expected {}", "ends at {}, expected {}", "missing",
                  "duplicate id {} (first on line {})", "has a label but no position", "{}: no lines",
                  "expected {}, got {}", "does not decode ({})"):
        assert known in templates, known
    messages = _covered_by()
    uncovered = [t for t in templates if not any(_pattern(t).search(m) for m in messages)
                 and not any(u in t for u in UNREACHABLE)]
    assert not uncovered, f"messages of data check that no case here makes it say: {uncovered}"
    assert all(any(u in t for t in templates) for u in UNREACHABLE)  # an unreachable message removed: drop it here
