"""Mutation suites over what strangers hand us: station files, JSON-lines records and map
images, each changed at random (a JSON value replaced, removed or retyped, bytes flipped,
cut or inserted, an image header rewritten). Every command that reads one either does its
work or refuses the input in one line with exit status 2: never a traceback, and a refused
build leaves no output behind. `data build` refuses exactly the station files the reader
refuses, in its words; `data check` gives for each mutation the outcome worked out here
without it (`expected_problems`): exit 2 for a line that is not a JSON object, else exactly
the problems (line, field, what is said) the change makes, exit 1, or none and exit 0.

The counts below are what docs/reliability.md reports."""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from commands import synth_data
from typer.testing import CliRunner

from rewardmap.cli import app
from rewardmap.errors import InputError
from rewardmap.eval.run import load_benchmark
from rewardmap.network import load_station_file

STATION_FILES, JSON_LINES, IMAGES = 120, 150, 60
runner = CliRunner()

# Values a careless or hostile source puts where another belongs.
ODD_VALUES = [None, True, 0, -1, 1.5, 10 ** 30, "", "x" * 3000, [], {}, [[[]]], {"a": [1, {"b": None}]},
              "Line 1\n--\nRoute Name: X", "\ud800", "A\u202eB", "../../outside.json", "/dev/zero", "Transfer Station",
              ["A Station"], ["A Station", "A Station"], 1e308, -0.0]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_handled(result, what: str, allowed=(0, 2)) -> None:
    """No traceback; exit 0 or 2 (or ALLOWED), and an exit 2 says why in one line."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code in allowed, (what, result.exit_code, result.output[-1000:])
    if result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (what, result.output[-1000:])


def mutate_json(value, rng: random.Random):
    """VALUE with one random change somewhere: replaced, removed, retyped, renamed or doubled."""
    value = copy.deepcopy(value)
    slots = list(_slots(value))
    if not slots:
        return rng.choice(ODD_VALUES)
    parent, key = rng.choice(slots)
    op = rng.randrange(5)
    if op == 0:
        parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif op == 1:
        del parent[key]
    elif op == 2:
        parent[key] = str(parent[key]) if not isinstance(parent[key], str) else [parent[key]]
    elif op == 3 and isinstance(parent, dict):
        parent[rng.choice(["", " ", "Line 1", "\ud800", "x" * 300, str(key) + "\n--"])] = parent.pop(key)
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    else:
        parent[key] = [parent[key], parent[key]]
    return value


def _slots(value):
    if isinstance(value, dict):
        for key, child in value.items():
            yield value, key
            yield from _slots(child)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield value, i
            yield from _slots(child)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """DATA flipped, cut, padded or spliced at a random place."""
    at = rng.randrange(len(data) + 1)
    op = rng.randrange(4)
    if op == 0 and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
    if op == 1:
        return data[:at]
    if op == 2:
        junk = rng.choice([b"\xff\xfe", b"\x00", b"{", b"]]]", b"\n", b'"', b"\\u", b"9" * 400])
        return data[:at] + junk + data[at:]
    return data[:at] + data[rng.randrange(len(data) + 1):]


def mutated_text(value, rng: random.Random) -> bytes:
    if rng.random() < 0.7:
        return json.dumps(mutate_json(value, rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    return mutate_bytes(json.dumps(value).encode(), rng)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """One small synthetic city (questions of every type, its map and station file), each
    record with its own right answer as the response, so that `score` and `metrics` read it."""
    folder = synth_data(tmp_path_factory.mktemp("mutation") / "base")
    lines = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        answer = record["answer"] if isinstance(record["answer"], str) else f"\\boxed{{{record['answer']}}}"
        lines.append(json.dumps({**record, "response": answer, "response_short": answer, "response_long": answer}))
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_mutated_station_files_are_built_or_refused_in_one_line(dataset, tmp_path):
    source = next((dataset / "stations").glob("*/*.json"))
    original = json.loads(source.read_text(encoding="utf-8"))
    rng = random.Random(12)
    outcomes = {0: 0, 2: 0}
    for case in range(STATION_FILES):
        stations = tmp_path / f"s{case}" / "land"
        stations.mkdir(parents=True)
        (stations / "city.json").write_bytes(mutated_text(original, rng))
        out = tmp_path / f"out{case}"
        result = run("data", "build", "--stations", stations.parent, "--out", out, "--per-city", 6, "--workers", 1)
        assert_handled(result, f"station file case {case}")
        outcomes[result.exit_code] += 1
        try:
            load_station_file(stations / "city.json")
            refused = None
        except InputError as e:
            refused = str(e)
        if refused is not None:  # refused exactly when the reader refuses it, in the reader's words
            assert result.exit_code == 2 and not out.exists(), (case, refused, result.output[-500:])
            assert f"error: {' '.join(refused.split())}" in " ".join(result.output.split()), (case, refused)
        else:
            assert result.exit_code == 0 and (out / "questions.jsonl").is_file(), (case, result.output[-500:])
    assert outcomes[0] and outcomes[2]  # the mutations both kept and broke files


def test_mutated_json_lines_are_read_or_refused_in_one_line(dataset, tmp_path):
    records = [json.loads(line) for line in (dataset / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    questions = data / "questions.jsonl"
    networks = {r["json"]: load_station_file(data / r["json"]) for r in records}
    clean = run("data", "check", data)
    assert clean.exit_code == 0, clean.output
    labels = clean.stdout.splitlines()  # the label problems of the small maps: the same after each change
    rng = random.Random(34)
    outcomes = {0: 0, 1: 0}
    for case in range(JSON_LINES):
        lines = [json.dumps(r).encode() for r in records]
        k = rng.randrange(len(lines))
        lines[k] = mutated_text(records[k], rng).replace(b"\n", b" ")
        questions.write_bytes(b"\n".join(lines) + b"\n")
        what = f"JSON lines case {case} (line {k + 1})"
        result = run("data", "check", data)
        assert_handled(result, what, allowed=(0, 1, 2))
        expected = expected_problems(lines[k], k + 1, records, networks)
        if expected is None:  # not a JSON object: refused, naming the line
            assert result.exit_code == 2 and f"questions.jsonl:{k + 1}: " in result.output, (what, result.output)
        else:
            shown = result.stdout.splitlines()
            assert shown[len(shown) - len(labels):] == labels, (what, result.stdout[-2000:])
            found = [(int(m[1]), m[2], m[3]) if m else (0, text, "")  # not a problem: shown in the failure
                     for text, m in ((text, PROBLEM.match(text)) for text in shown[:len(shown) - len(labels)])]
            assert [(line, field) for line, field, _ in found] == [(line, f) for line, f, _ in expected], \
                (what, expected, result.stdout[-2000:])
            assert all(re.search(words, message) for (*_, message), (*_, words) in zip(found, expected)), \
                (what, expected, found)
            assert result.exit_code == (1 if expected else 0), (what, result.output[-1000:])
            outcomes[result.exit_code] += 1
        variant = rng.choice(["reference", "robust"])
        assert_handled(run("score", questions, "--stations-root", data, "--variant", variant), what)
        for benchmark, route in (("reasonmap-plus", False), ("reasonmap", True)):
            # metrics reads a file of one benchmark's questions: the mutated line is in its own
            answers = data / f"{benchmark}.jsonl"
            answers.write_bytes(b"\n".join(line for line, r in zip(lines, records)
                                            if (r["type"] == "planning") == route) + b"\n")
            assert_handled(run("metrics", answers, "--benchmark", benchmark, "--stations-root", data), what)
            try:
                load_benchmark(data, benchmark)
            except InputError as e:
                assert "\n" not in str(e), (what, str(e))
    assert min(outcomes.values()) >= 10  # many mutations that kept the record right, many that broke it


PROBLEM = re.compile(r"^.*questions\.jsonl:(\d+): field '([^']*)': (.*)$")
# What holds what (the schema's kinds, written out again here).
_INTEGERS = {"question_transfer_count", "city_line_count", "city_transfer_count"}
_TEXTS = {"question", "question_long", "country", "city", "line", "difficulty_city", "difficulty_question", "json"}
_TEXTS_OR_NULL = {"station_1", "station_2", "figure"}
_REQUIRED = ("id", "type", "question", "answer", "station_1", "station_2", "country", "city", "difficulty_city",
             "difficulty_question", "question_transfer_count", "city_line_count", "city_transfer_count", "json",
             "figure")
_BY_TYPE = {"TorF2": ("line",), "Counting1": ("choices",), "planning": ("routes", "question_long")}
_NOT_CHECKED = {"question", "question_long", "country", "city"}  # nor `answer` of a route question: see below
_SAME_AS_BEFORE = {  # a field whose right value is the clean record's: what a changed one is told
    "city_line_count": "the station file gives", "city_transfer_count": "the station file gives",
    "difficulty_city": "the station file gives", "answer": "the station file gives",
    "difficulty_question": "a Plus question takes the map's|transfers make it",
    "question_transfer_count": "the optimal route has"}


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _right_kind(name: str, value, kind: str) -> bool:
    if name == "id":
        return _integer(value) or isinstance(value, str)
    if name == "answer":
        return isinstance(value, str) if kind == "planning" else _integer(value)
    if name in _INTEGERS:
        return _integer(value)
    if name in _TEXTS:
        return isinstance(value, str)
    if name in _TEXTS_OR_NULL:
        return value is None or isinstance(value, str)
    return True


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # 1 is not true, 0 is not -0.0


def expected_problems(line: bytes, lineno: int, records: list[dict], networks: dict) -> list[tuple] | None:
    """What `data check` must say when line LINENO of a right dataset of RECORDS is LINE:
    None when LINE is not a JSON object, else the (line, field, words) of each problem in the
    order reported, [] for none. Raises NotImplementedError for a change it cannot tell the
    outcome of (a mutation added here that needs a rule)."""
    problems = _expected_problems(line, records[lineno - 1], networks)
    if problems == "id":  # another id, of the right kind: a problem only if another record has it
        new = json.loads(line)["id"]
        other = next((n for n, r in enumerate(records, 1) if n != lineno and r["id"] == new), None)
        if other is None:
            return []
        return [(max(lineno, other), "id", rf"^duplicate id .* \(first on line {min(lineno, other)}\)$")]
    return None if problems is None else [(lineno, field, words) for field, words in problems]


def _expected_problems(line: bytes, clean: dict, networks: dict):
    if not line.strip():
        return []  # a blank line is no record
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    kind = record.get("type")
    if kind != clean["type"]:
        if kind in ("Counting1", "Counting2", "Counting3", "TorF1", "TorF2", "planning"):
            raise NotImplementedError("a record of another type")
        return [("type", "^unknown type")]
    missing = [f for f in (*_REQUIRED, *_BY_TYPE.get(kind, ())) if f not in record]
    if missing:
        return [(f, "^missing$") for f in missing]
    changed = [f for f in (*_REQUIRED, *_BY_TYPE.get(kind, ())) if not _same(record[f], clean[f])]
    if not changed:
        return []
    [name] = changed  # one change
    value = record[name]
    if not _right_kind(name, value, kind):
        return [(name, "^expected ")]
    network = networks[clean["json"]]
    if name == "id":
        return "id"  # a problem only if another record has it
    if name in _NOT_CHECKED or (name == "answer" and kind == "planning"):
        return []  # (a route answer's text is not compared with its routes)
    if name == "question_transfer_count" and kind != "planning":
        return []  # a Plus question rides no route: its count is not checked
    if name in _SAME_AS_BEFORE:
        return [(name, _SAME_AS_BEFORE[name])]
    if name == "json":
        return [("json", "escapes the dataset folder|is missing$")]
    if name == "figure":
        return [("figure", "escapes the dataset folder|is missing$" if value is not None else "^no image")]
    if name == "line":
        if value in network.lines:
            raise NotImplementedError("line became another line")
        return [("line", "is not in")]
    if name in ("station_1", "station_2"):
        if value is not None:
            if network.lines_through(value):
                raise NotImplementedError(f"{name} became another station")
            return [(name, "is not in")]
        if kind == "planning":
            return [("station_2", "^a route question needs two different stations$")]
        if kind == "Counting1":
            return [("answer", "share 0 lines")]
        return [("answer", "the station file gives 0$")] if clean["answer"] else []  # no line through null
    if name == "choices":
        if not (isinstance(value, list) and len(value) == 4 and all(map(_integer, value)) and len(set(value)) == 4):
            return [("choices", "^expected four distinct integers")]
        right = clean["choices"][clean["answer"]]
        if right not in value:
            return [("choices", "^none is the right count")]
        return [] if value.index(right) == clean["answer"] else [("answer", "the station file gives")]
    if name == "routes":
        if not isinstance(value, list) or not value:
            return [("routes", "^expected a non-empty list of plans$")]
        return [("routes", f"^plan {k}: ") for k, plan in enumerate(value, 1)
                if not any(_same(plan, right) for right in clean["routes"])]
    raise NotImplementedError(f"a change of {name}")


def _png_chunks(data: bytes):
    at = 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        yield kind, at, length
        at += 12 + length


def mutate_image(data: bytes, rng: random.Random) -> bytes:
    """A map changed where it hurts (its size in the header, checksum fixed or not; its pixel
    stream; its bytes anywhere) or where it does not (bytes after the end, a text chunk)."""
    op = rng.randrange(5)
    if op == 3:  # bytes after the end: readers ignore them
        return data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if op == 4:  # an ancillary text chunk before the pixels, with its checksum
        body = b"tEXt" + b"Comment\x00" + rng.choice([b"x" * 100, b"\xff\xfe", b"Line 1 -- Route Name:"])
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if op == 0:
        width, height = rng.choice([(0, 0), (1, 1 << 30), (30000, 30000), (1 << 31, 2), (20000, 10000)])
        body = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
        crc = zlib.crc32(body) if rng.random() < 0.8 else 0
        return data[:8] + struct.pack(">I", 13) + body + struct.pack(">I", crc) + data[33:]
    if op == 1:
        _, at, length = next(c for c in _png_chunks(data) if c[0] == b"IDAT")
        stream = bytearray(data[at + 8:at + 8 + length])
        for _ in range(rng.randint(1, 8)):
            stream[rng.randrange(len(stream))] ^= 0xFF
        body = b"IDAT" + bytes(stream)
        return data[:at] + struct.pack(">I", length) + body + struct.pack(">I", zlib.crc32(body)) + \
            data[at + 12 + length:]
    return mutate_bytes(data, rng)


def test_mutated_maps_are_used_or_refused_in_one_line(dataset, tmp_path):
    from rewardmap.images import ImageProblem, check_map

    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    figure = next((data / "maps").glob("*/*.png"))
    original = figure.read_bytes()
    rel = figure.relative_to(data).as_posix()
    questions = data / "questions.jsonl"
    naming = [n for n, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), 1)
              if json.loads(line)["figure"] == rel]
    labels = run("data", "check", data).stdout.splitlines()  # the label problems of the clean maps
    rng = random.Random(56)
    refused = 0
    for case in range(IMAGES):
        figure.write_bytes(mutate_image(original, rng))
        what = f"image case {case}"
        try:
            check_map(figure)
            sound = True
        except ImageProblem as e:
            sound, refused, problem = False, refused + 1, str(e)
            assert "\n" not in problem, (what, problem)
        result = run("data", "check", data)
        assert_handled(result, what, allowed=(0,) if sound else (1,))
        shown = result.stdout.splitlines()
        if sound:  # used (its labels checked: a sound change may move its pixels), the other map's as before
            assert not any(map(PROBLEM.match, shown)), (what, result.stdout[-2000:])
            assert [line for line in shown if not line.startswith(rel)] == \
                [line for line in labels if not line.startswith(rel)], (what, result.stdout[-2000:])
        else:  # one line for the records naming it, the other map's labels checked as before
            numbers = ", ".join(map(str, naming[:5])) + (", ..." if len(naming) > 5 else "")
            assert shown[0] == (f"{questions}: field 'figure': image {rel} is unreadable: {problem} "
                                f"({len(naming)} records, lines {numbers})"), (what, shown[0])
            assert set(shown[1:]) <= set(labels) and not any(line.startswith(rel) for line in shown[1:]), what
        try:
            load_benchmark(data, "reasonmap-plus")
            assert sound, what  # eval uses only maps the check finds sound
        except InputError as e:
            assert not sound and figure.name in str(e) and "\n" not in str(e), (what, str(e))
    assert 0 < refused < IMAGES  # the mutations broke maps, and left some sound
