"""`data check`: recompute every answer from the station files and report what disagrees.

Each problem is one line `questions.jsonl:LINE: field 'F': what is wrong`, so a dataset
from any source (built, synthesised, imported, edited by hand) can be trusted or fixed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


from ..errors import InputError, shown, where
from ..fileio import is_file, read_jsonl
from ..images import ImageProblem, check_map
from ..network import Network, Router, StationFiles, question_difficulty
from ..questions.kinds import PLUS_TYPES, QUESTION_TYPES
from ..questions.plus import counting1_stops, plus_answer
from .balance import free_answers
from .schema import BASE_FIELDS, ROUTE_SECTION_FIELDS, SECTION_KINDS, TYPE_FIELDS, field_problems


class Problem(NamedTuple):
    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{where(self.file, self.line, self.field)}: {self.message}"


@dataclass
class CheckReport:
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    per_type: Counter = field(default_factory=Counter)
    # synthetic maps (those with a positions file naming their labels): map -> label problems
    labels: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # types whose most common answer is right too often (datasets.balance): a warning, not a problem
    free_answers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_by_field(self) -> Counter:
        return Counter(p.field for p in self.problems)

    def grouped(self, shown: int = 5) -> list[str]:
        """One line per distinct problem (same field, same message), in order of first
        appearance: 900 records naming one missing map make one line with a count and the
        first SHOWN line numbers, not 900 lines."""
        groups: dict[tuple[str, str], list[Problem]] = {}
        for problem in self.problems:
            groups.setdefault((problem.field, problem.message), []).append(problem)
        lines = []
        for (field_name, message), found in groups.items():
            if len(found) == 1:
                lines.append(str(found[0]))
                continue
            numbers = ", ".join(str(p.line) for p in found[:shown]) + (", ..." if len(found) > shown else "")
            lines.append(f"{found[0].file}: field '{field_name}': {message} ({len(found)} records, lines {numbers})")
        return lines


class _Checker:
    """Loads each station file and image a dataset names once, remembering what failed."""

    def __init__(self, root: Path):
        self.root = root
        self.networks: dict[str, Network | str] = {}  # path -> network, or why it failed
        self.files = StationFiles(root, strict=True)
        self.images: dict[str, str | None] = {}  # path -> problem, or None when readable
        self.routers: dict[str, Router] = {}

    def _open(self, rel, what: str, load):
        """load(path) for a path inside the folder, else a sentence saying what is wrong."""
        if not isinstance(rel, str) or not rel or Path(rel).is_absolute():
            return f"path {shown(rel)} escapes the dataset folder"
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()):
            return f"path {shown(rel)} escapes the dataset folder"
        if not is_file(path):
            return f"{what} {shown(rel)} is missing"
        return load(path)

    def network(self, rel: str) -> Network | str:
        if rel not in self.networks:
            self.networks[rel] = self._open(rel, "station file", self._load_network)
        return self.networks[rel]

    def _load_network(self, path: Path) -> Network | str:
        try:
            return self.files.load(path)
        except InputError as e:
            return str(e)

    def image_problem(self, rel) -> str | None:
        if rel is None:
            return "no image (figure is null)"
        if rel not in self.images:
            self.images[rel] = self._open(rel, "image", lambda path: _image_problem(path, rel))
        return self.images[rel]

    def router(self, rel: str, network: Network) -> Router:
        return self.routers.setdefault(rel, Router(network))


def _image_problem(path: Path, rel: str) -> str | None:
    try:
        check_map(path)
        return None
    except ImageProblem as e:
        return f"image {rel} is unreadable: {e}"


def check_dataset(folder: str | Path) -> CheckReport:
    """Check DIR/questions.jsonl against its station files and images."""
    root = Path(folder)
    questions = root / "questions.jsonl"
    if not questions.is_file():
        raise InputError(f"{root}: no questions.jsonl (is this a dataset folder?)")
    checker, report, ids = _Checker(root), CheckReport(), {}
    answers = []
    for lineno, record in read_jsonl(questions):
        report.records += 1
        kind = record.get("type")
        if kind in PLUS_TYPES:
            answers.append({"type": kind, "answer": record.get("answer")})
        report.per_type[kind if isinstance(kind, str) or kind is None else "(not a string)"] += 1
        for fieldname, message in _problems(record, checker, ids, lineno):
            report.problems.append(Problem(questions, lineno, fieldname, message))
    if not report.records:
        raise InputError(f"{questions}: no records")
    report.free_answers = free_answers(answers)
    for rel, problem in checker.images.items():
        if problem is None:
            found = _label_problems(root, rel)
            if found is not None:
                report.labels[rel] = found
    return report


def _label_problems(root: Path, rel: str) -> list[tuple[str, str]] | None:
    """The label problems of a synthetic map (`synth.legibility`), None for a map without a
    positions file that names its labels (a real or imported map)."""
    import json

    from PIL import Image

    from ..synth.legibility import label_problems

    rel_path = Path(rel)
    if len(rel_path.parts) < 3 or rel_path.parts[0] != "maps":
        return None
    positions = root / "positions" / Path(*rel_path.parts[1:]).with_suffix(".json")
    try:
        data = json.loads(positions.read_text(encoding="utf-8"))
        labels, stations = data["labels"], data["stations"]
        boxes = {s: tuple(int(v) for v in box) for s, box in labels.items()}
        centres = {s: tuple(xy) for s, xy in stations.items()}
        reserved = [tuple(int(v) for v in box) for box in data.get("reserved", [])]
        colours = [*data["lines"].values(), *data.get("other_colours", [])]
        leaders = {s: tuple(float(v) for v in line) for s, line in data.get("leaders", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no usable positions file: nothing to check the labels against
    if set(boxes) - set(centres):
        return [(s, "has a label but no position") for s in sorted(set(boxes) - set(centres))]
    with Image.open(root / rel) as image:
        return label_problems(image, boxes, centres, colours, reserved, leaders)


def _problems(r: dict, checker: _Checker, ids: dict, lineno: int):
    missing = [f for f in BASE_FIELDS if f not in r]
    kind = r.get("type")
    if kind not in QUESTION_TYPES:
        yield "type", f"unknown type {kind!r}; expected one of {list(QUESTION_TYPES)}"
        return
    missing += [f for f in TYPE_FIELDS.get(kind, ()) if f not in r]
    for f in missing:
        yield f, "missing"
    if missing:
        return
    wrong = list(field_problems(r))
    if wrong:  # the checks below compare values; a value of the wrong kind has nothing to compare
        yield from wrong
        return
    if r["id"] in ids:
        yield "id", f"duplicate id {r['id']!r} (first on line {ids[r['id']]})"
    ids.setdefault(r["id"], lineno)
    image = checker.image_problem(r["figure"])
    if image:
        yield "figure", image
    network = checker.network(r["json"])  # a string: field_problems said so above
    if isinstance(network, str):
        yield "json", network
        return
    yield from _city_problems(r, network)
    for f in ("station_1", "station_2"):
        if r[f] is not None and not network.lines_through(r[f]):
            yield f, f"station {r[f]!r} is not in {r['json']}"
            return
    if kind in PLUS_TYPES:
        yield from _plus_problems(r, network)
    else:
        yield from _route_problems(r, network, checker.router(r["json"], network))


def _city_problems(r: dict, network: Network):
    for f, expected in (("city_line_count", network.line_count),
                        ("city_transfer_count", network.transfer_count),
                        ("difficulty_city", network.difficulty)):
        if r[f] != expected:
            yield f, f"is {r[f]!r}, the station file gives {expected!r}"


def _plus_problems(r: dict, network: Network):
    if r["difficulty_question"] != network.difficulty:
        yield "difficulty_question", f"is {r['difficulty_question']!r}, a Plus question takes the map's {network.difficulty!r}"
    if r["type"] == "TorF2" and r["line"] not in network.lines:
        yield "line", f"line {r['line']!r} is not in {r['json']}"
        return
    if r["type"] == "Counting1":
        choices = r["choices"]
        if not (isinstance(choices, list) and len(choices) == 4
                and all(isinstance(c, int) and not isinstance(c, bool) for c in choices) and len(set(choices)) == 4):
            yield "choices", f"expected four distinct integers, got {choices!r}"
            return
        try:
            stops = counting1_stops(network, r["station_1"], r["station_2"])
        except ValueError as e:  # a pair that shares no single line
            yield "answer", str(e)
            return
        if stops not in choices:
            yield "choices", f"none is the right count, {stops}"
            return
    expected = plus_answer(network, r)
    if r["answer"] != expected:
        yield "answer", f"is {r['answer']!r}, the station file gives {expected!r}"


def _route_problems(r: dict, network: Network, router: Router):
    a, b = r["station_1"], r["station_2"]
    if a is None or b is None or a == b:
        yield "station_2", "a route question needs two different stations"
        return
    best = router.routes(a, b, limit=1)
    if not best:
        yield "routes", f"{b!r} cannot be reached from {a!r}"
        return
    t, stops = best[0].transfers, best[0].stops
    if r["question_transfer_count"] != t:
        yield "question_transfer_count", f"is {r['question_transfer_count']!r}, the optimal route has {t}"
    if r["difficulty_question"] != question_difficulty(t):
        yield "difficulty_question", f"is {r['difficulty_question']!r}, {t} transfers make it {question_difficulty(t)!r}"
    plans = r["routes"]
    if not isinstance(plans, list) or not plans:
        yield "routes", "expected a non-empty list of plans"
        return
    for k, plan in enumerate(plans, 1):
        problem = _plan_problem(plan, network, a, b, t, stops)
        if problem:
            yield "routes", f"plan {k}: {problem}"


def _plan_problem(plan, network: Network, a: str, b: str, transfers: int, stops: int) -> str | None:
    if not isinstance(plan, list) or not plan:
        return "expected a non-empty list of sections"
    at, ridden = a, 0
    for i, s in enumerate(plan, 1):
        if not isinstance(s, dict) or any(f not in s for f in ROUTE_SECTION_FIELDS):
            return f"section {i} needs the fields {list(ROUTE_SECTION_FIELDS)}"
        for name, problem in field_problems(s, SECTION_KINDS):
            return f"section {i}: {name}: {problem}"
        line, dep, arr = s["route_name"], s["departure_stop"], s["arrival_stop"]
        if line not in network.lines:
            return f"section {i}: line {line!r} is not in the station file"
        if dep != at:
            return f"section {i} departs from {dep!r}, expected {at!r}"
        if not (network.on_line(dep, line) and network.on_line(arr, line)) or dep == arr:
            return f"section {i}: {dep!r} -> {arr!r} is not a ride on {line!r}"
        vias = network.lines[line].vias(dep, arr)
        if list(s["via_stops"]) not in vias or s["num_via_stops"] != len(s["via_stops"]):
            return f"section {i}: via stops do not match the shortest ride on {line!r}"
        at, ridden = arr, ridden + len(s["via_stops"]) + 1
    if at != b:
        return f"ends at {at!r}, expected {b!r}"
    if len(plan) - 1 != transfers or ridden != stops:
        return (f"not optimal: {len(plan) - 1} transfers and {ridden} stops, "
                f"the best is {transfers} transfers and {stops} stops")
    return None
