"""Mutation suites over what strangers hand us: station files, JSON-lines records and map
images, each changed at random (a JSON value replaced, removed or retyped, bytes flipped,
cut or inserted, an image header rewritten). Every command that reads one either does its
work or refuses the input in one line with exit status 2 (`data check` may also report
problems, status 1): never a traceback, and a refused build leaves no output behind.

The counts below are what the README's reliability section reports."""

from __future__ import annotations

import copy
import json
import random
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
        if result.exit_code == 2:
            assert not out.exists() and "city.json" in result.output, (case, result.output[-500:])
        else:
            assert (out / "questions.jsonl").is_file()
    assert outcomes[0] and outcomes[2]  # the mutations both kept and broke files


def test_mutated_json_lines_are_read_or_refused_in_one_line(dataset, tmp_path):
    records = [json.loads(line) for line in (dataset / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    questions = data / "questions.jsonl"
    rng = random.Random(34)
    for case in range(JSON_LINES):
        lines = [json.dumps(r).encode() for r in records]
        k = rng.randrange(len(lines))
        lines[k] = mutated_text(records[k], rng).replace(b"\n", b" ")
        questions.write_bytes(b"\n".join(lines) + b"\n")
        what = f"JSON lines case {case} (line {k + 1})"
        assert_handled(run("data", "check", data), what, allowed=(0, 1, 2))
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
    rng = random.Random(56)
    refused = 0
    for case in range(IMAGES):
        figure.write_bytes(mutate_image(original, rng))
        what = f"image case {case}"
        try:
            check_map(figure)
            sound = True
        except ImageProblem as e:
            sound, refused = False, refused + 1
            assert "\n" not in str(e), (what, str(e))
        result = run("data", "check", data)
        assert_handled(result, what, allowed=(0, 1) if sound else (1,))
        try:
            load_benchmark(data, "reasonmap-plus")
            assert sound, what  # eval uses only maps the check finds sound
        except InputError as e:
            assert not sound and figure.name in str(e) and "\n" not in str(e), (what, str(e))
    assert 0 < refused < IMAGES  # the mutations broke maps, and left some sound
