"""ReasonMap route metrics: accuracy and map score, as the released evaluation computes them.

The rules of the released code (fscdc/ReasonMap `main.py`) are reproduced literally, quirks
included; among them:

- stop suffixes are appended unless the stop already ends with "站" (China) or with
  "Station" (elsewhere; the code tests `endswith("Station")`, without the space);
- outside China the line-name rules are applied to the ANSWER's own name (so `+2` is
  earned only by names the rules leave unchanged up to `eclean`, e.g. ones without any
  ASCII letter or digit, or an empty name), and the via LIST earns nothing;
- the best plan is kept with `>=`, so among equal scores the last plan wins;
- `routes` given as an object is read in its key order, and `None` plans (absent plan
  names in a table-shaped dataset) are skipped.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..answers.route_eval import AnswerSection, ascii_digits, read_route_answer
from ..answers.variants import TRAINING, check_variant
from ..errors import InputError
from ..network import Network, StationFiles, eclean

SHORT_MAX, LONG_MAX = 20, 40
_COUNT_FIELD = "Number of Via Stops:"  # in question_long: the count field is asked, else the list

# Line-name rules for cities outside China, in order; X is 1-2 characters of [A-Za-z0-9].
# The flags and classes are the released code's (`[A-Z0-9]` with IGNORECASE).
_X = r"([A-Z0-9]{1,2})"
_METRO_X_LINE = re.compile(rf"Metro\s+{_X}[-\s]?Line", re.I)
_METRO_X = re.compile(rf"Metro\s+{_X}", re.I)
_LINEA_X = re.compile(rf"Linea\s+{_X}", re.I)
_ANY_X = re.compile(_X, re.I)
_M_DIGITS = re.compile(r"M(\d+)", re.I)
_X_LINE = re.compile(rf"{_X}\s+Line", re.I)
_X_TRAIN = re.compile(rf"{_X}\s+Train", re.I)
# Whole-name rules per city, tried after `_ANY_X` (so reached only by names it misses):
# Auckland's before `_M_DIGITS`, Dubai's and Kuala Lumpur's after it.
_AUCKLAND = {"West": "Western Line", "Sth": "Southern Line", "East": "Eastern Line"}
_DUBAI = {"MRed2": "Red Line", "MGrn": "Green Line", "MRed1": "Red Line"}
_KL = {"MRT Putrajaya Line": "Line 12", "Ampang Line": "Line 3", "LRT Kelana Jaya Line": "Line 5",
       "KTM Tanjung Malim - Pelabuhan Klang": "Line 2", "LRT Sri Petaling Line": "Line 4",
       "MRT Kajang Line": "Line 9", "KTM Batu Caves - Pulau Sebang/Tampin": "Line 1"}

_SECTION_TEXT = ("route_name", "departure_stop", "arrival_stop")  # every plan section has these
_CHINA_NUMBER = re.compile(r"\d+")
_CHINA_BRACKETS = re.compile(r"\(.*?\)")


class RecordError(InputError):
    """A bad record field; `evaluate_predictions` adds the file and line."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"field '{field}': {detail}")
        self.field, self.detail = field, detail


def china_line_name(reference_name: str) -> str:
    """A Chinese reference plan's line name as the evaluation compares it.

    >>> china_line_name("地铁02号线(西直门--西直门)")
    'Line 2'
    >>> china_line_name("地铁昌平线(昌平西山口--西土城)")
    '昌平线'
    """
    number = _CHINA_NUMBER.search(reference_name)
    if number:
        return "Line " + ascii_digits(number.group())
    return _CHINA_BRACKETS.sub("", reference_name).replace("地铁", "")


def mapped_line_name(answer_name: str, city: str) -> str:
    """Outside China: the name the evaluation derives from the ANSWER's route name.

    >>> mapped_line_name("Metro B-Line", "los_angeles"), mapped_line_name("Line B", "rome")
    ('Line B', 'Line Li')
    >>> mapped_line_name("B1", "rome"), mapped_line_name("West", "auckland")
    ('Line B', 'Line We')
    """
    for rule in (_METRO_X_LINE, _METRO_X, _LINEA_X):
        match = rule.search(answer_name)
        if match:
            return "Line " + match.group(1)
    match = _ANY_X.search(answer_name)
    if match:
        x = match.group(1)
        return "Line " + ("B" if x == "B1" and city == "rome" else x)
    # Everything below is reached only by names without an ASCII letter or digit.
    if city == "auckland" and answer_name in _AUCKLAND:
        return _AUCKLAND[answer_name]
    match = _M_DIGITS.search(answer_name)
    if match:
        return "Line " + match.group(1)
    whole_names = {"dubai": _DUBAI, "kl": _KL}.get(city, {})
    if answer_name in whole_names:
        return whole_names[answer_name]
    for rule in (_X_LINE, _X_TRAIN):
        match = rule.search(answer_name)
        if match:
            return "Line " + match.group(1)
    return answer_name


@dataclass(frozen=True)
class MapScore:
    """A map score (`total`: capped, correctness bonus included) and the kept plan's parts.

    `plan`: index of the kept plan (None when no section was parsed); `endpoints`,
    `line_points`, `stop_points`: its points before the cap; `via_count` and `via_list`:
    a long answer's two via terms (0 for short answers).
    """

    total: float
    plan: int | None = None
    endpoints: int = 0
    line_points: int = 0
    stop_points: int = 0
    via_count: float = 0
    via_list: float = 0


def route_correct(sections: Sequence[AnswerSection], network: Network,
                  station_1: str, station_2: str) -> bool:
    """The released accuracy check with `eclean`: endpoints, lines of the file, stops on their line, transfers.

    A name with "八通" counts as "Line 1"; else a name with "大兴" as "Line 4" (the released
    code tests 大兴 on the already replaced name, so 八通 wins when both appear).
    """
    if not sections or not _endpoints_match(sections, station_1, station_2):
        return False
    for i, section in enumerate(sections):
        name = section.name
        if "八通" in name:
            name = "Line 1"
        if "大兴" in name:
            name = "Line 4"
        stations = _cleaned_lines(network).get(name)
        # Parsed stops were cleaned once already; the released code cleans them again here.
        if stations is None or eclean(section.departure) not in stations \
                or eclean(section.arrival) not in stations:
            return False
        if i + 1 < len(sections) and eclean(section.arrival) != eclean(sections[i + 1].departure):
            return False
    return True


def map_score(sections: Sequence[AnswerSection], plans: Sequence[Sequence[Mapping]], *,
              country: str, city: str, station_1: str, station_2: str, correct: bool,
              long: bool = False) -> MapScore:
    """The map score of a parsed answer against every reference plan, best plan kept.

    Short: at most 10 points, +10 when correct. Long: route points plus the via terms,
    at most 20, +20 when correct. No parsed section scores 0.
    """
    best = MapScore(0)
    if not sections:
        return best
    endpoints = _endpoints_match(sections, station_1, station_2)
    for index, plan in enumerate(plans):
        score = _plan_score(sections, plan, country == "china", city, long) if endpoints \
            else MapScore(0)
        points = score.endpoints + score.line_points + score.stop_points
        if long:
            total = min(20, points + score.via_count + score.via_list) + 20 * correct
        else:
            total = min(10, points) + 10 * correct
        if total >= best.total:  # a later plan with an equal score replaces an earlier one
            best = MapScore(total, index, score.endpoints, score.line_points, score.stop_points,
                            score.via_count, score.via_list)  # not dataclasses.replace: 10x its cost
    return best


def _plan_score(sections, plan, china: bool, city: str, long: bool) -> MapScore:
    """The points of one plan once the endpoints matched (its `total` is left 0)."""
    line_points = stop_points = 0
    count_term = listed = 0
    union: set[str] = set()
    common: set[str] = set()
    for k, (answer, ref) in enumerate(zip(sections, plan)):
        departure, arrival = ref["departure_stop"], ref["arrival_stop"]
        if china:
            ref_name = china_line_name(ref["route_name"])
            departure, arrival = _suffixed(departure, arrival, "站", own_test=long)
        else:
            ref_name = mapped_line_name(answer.name, city)
            departure, arrival = _suffixed(departure, arrival, "Station", own_test=False)
        names_match = eclean(ref_name) == eclean(answer.name)
        line_points += 2 * names_match
        stop_points += (eclean(departure) == eclean(answer.departure)) \
            + (eclean(arrival) == eclean(answer.arrival))
        if answer.via_count is not None:
            count_term += _count_term(answer.via_count, _num_via_stops(ref, k))
        elif answer.via_list is not None and china:
            # Raw pieces against the plan's names with 站: neither side is normalised.
            ref_vias = [v if v.endswith("站") else v + "站" for v in _via_stops(ref, k)]
            listed += sum(v in ref_vias for v in answer.via_list)
            if names_match:
                union.update(ref_vias, answer.via_list)
                common.update(set(ref_vias) & set(answer.via_list))
    iou = len(common) / len(union) if union else 0
    return MapScore(0, None, 1, line_points, stop_points, min(10, count_term),
                    (iou * 10 + min(10, listed)) / 2)


def _suffixed(departure: str, arrival: str, suffix: str, own_test: bool) -> tuple[str, str]:
    """The plan's stops with the suffix appended. The released code decides the arrival by
    testing the DEPARTURE and, when that already ends with the suffix, uses the departure
    as the arrival; only China's long path (`own_test`) tests the arrival itself."""
    dep = departure if departure.endswith(suffix) else departure + _spaced(suffix)
    if own_test:
        arr = arrival if arrival.endswith(suffix) else arrival + _spaced(suffix)
    else:
        arr = departure if departure.endswith(suffix) else arrival + _spaced(suffix)
    return dep, arr


def _spaced(suffix: str) -> str:
    return suffix if suffix == "站" else " " + suffix


def _count_term(n: float, n_ref: int) -> float:
    if n == n_ref:
        return 4
    return 0 if n_ref == 0 else max(0, 4 - abs(n - n_ref) / n_ref * 4)


def _endpoints_match(sections, station_1: str, station_2: str) -> bool:
    # Parsed stops are cleaned again, station_1/station_2 once.
    return (eclean(sections[0].departure) == eclean(station_1)
            and eclean(sections[-1].arrival) == eclean(station_2))


_CLEANED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cleaned_lines(network: Network) -> dict[str, frozenset[str]]:
    """Line name -> its stations `eclean`ed once, computed once per network."""
    lines = _CLEANED.get(network)
    if lines is None:
        lines = {name: frozenset(map(eclean, line.stations)) for name, line in network.lines.items()}
        _CLEANED[network] = lines
    return lines


def _num_via_stops(ref: Mapping, k: int) -> int:
    """The plan's count read with `int()`, as the released code does ("2" and 2.0 are 2)."""
    value = ref.get("num_via_stops")
    try:
        n = None if isinstance(value, bool) else int(value)
    except (TypeError, ValueError, OverflowError):
        n = None
    if n is None or n < 0:
        raise RecordError("routes", f"section {k + 1}: 'num_via_stops' must be a non-negative "
                                    f"integer, got {value!r}")
    return n


def _via_stops(ref: Mapping, k: int) -> list[str]:
    value = ref.get("via_stops")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError("routes", f"section {k + 1}: 'via_stops' must be a list of names, "
                                    f"got {value!r}")
    return value


# --- records -------------------------------------------------------------------------

def score_route_record(record: Mapping, response_short: str, response_long: str,
                       variant: str = "reference") -> dict:
    """Accuracy and map score of a ReasonMap question's short and long answers.

    `record["json"]`: the station object or a loaded `Network`; `record["routes"]`: an
    object or a list of reference plans. Returns `acc_short, map_score_short` (0-20),
    `acc_long, map_score_long` (0-40). `variant`: "reference" (the released parser) or
    "robust" (its parsing quirks repaired, listed in `answers.route_eval`; scoring unchanged).

    >>> record = {"country": "italy", "city": "rome", "station_1": "Termini Station",
    ...           "station_2": "Lepanto Station", "question_long": "... Number of Via Stops: ...",
    ...           "json": {"Line A": ["Termini Station", "Repubblica Station", "Lepanto Station"]},
    ...           "routes": {"plan 1": [{"route_name": "A", "departure_stop": "Termini",
    ...                                  "arrival_stop": "Lepanto", "num_via_stops": 1, "via_stops": []}]}}
    >>> short = "Route Name: Line A\\nDeparture Stop: Termini Station\\nArrival Stop: Lepanto Station"
    >>> score_route_record(record, short, short + "\\nNumber of Via Stops: 1\\n")
    {'acc_short': 1, 'map_score_short': 13, 'acc_long': 1, 'map_score_long': 27.0}

    (+1 endpoints, +0 line: "Line A" -> "Line Li" outside China, +1 +1 stops = 3; short
    3 + 10 = 13; long 3 + 4 (via count equal) = 7, + 20 = 27.)
    """
    return route_record_scores(record, response_short, response_long,
                               check_variant("variant", variant, TRAINING, ValueError))


def route_record_scores(record: Mapping, response_short: str, response_long: str, variant: str) -> dict:
    """`score_route_record` trusting VARIANT: for a caller that checked it once for a whole file."""
    network = record_network(record)
    plans = record_plans(record)
    country, city = _text(record, "country"), _text(record, "city")
    station_1, station_2 = _text(record, "station_1"), _text(record, "station_2")
    via = "count" if _COUNT_FIELD in _text(record, "question_long") else "list"
    out = {}
    for kind, response, long in (("short", response_short, False), ("long", response_long, True)):
        if not isinstance(response, str):
            raise RecordError(f"response_{kind}", f"expected a string, got {type(response).__name__}")
        sections = read_route_answer(response, long, via if long else None, variant)
        correct = route_correct(sections, network, station_1, station_2)
        score = map_score(sections, plans, country=country, city=city, station_1=station_1,
                          station_2=station_2, correct=correct, long=long)
        out[f"acc_{kind}"] = int(correct)
        out[f"map_score_{kind}"] = score.total
    return out


_STATION_OBJECTS = StationFiles(root=None)  # objects and absolute paths; metrics resolve the rest


def record_network(record: Mapping) -> Network:
    """The record's station data (`json`) as a `Network`: a `Network`, the station object,
    also as JSON text, or an absolute path (see `StationFiles`)."""
    try:
        return _STATION_OBJECTS.load(record.get("json"))
    except InputError as e:
        raise RecordError("json", str(e)) from None


def record_plans(record: Mapping) -> list[list[Mapping]]:
    """The reference plans, in order, checked for the fields every rule reads."""
    routes = record.get("routes")
    if isinstance(routes, Mapping):
        routes = [plan for plan in routes.values() if plan is not None]
    if not isinstance(routes, list) or not routes:
        raise RecordError("routes", "expected a non-empty list or object of plans")
    for p, plan in enumerate(routes, 1):
        if not isinstance(plan, list) or not plan:
            raise RecordError("routes", f"plan {p}: expected a non-empty list of sections")
        for k, section in enumerate(plan, 1):
            if not isinstance(section, Mapping) or not all(
                    isinstance(section.get(f), str) for f in _SECTION_TEXT):
                raise RecordError("routes", f"plan {p} section {k}: needs string route_name, "
                                            "departure_stop and arrival_stop")
    return routes


def _text(record: Mapping, field: str) -> str:
    value = record.get(field)
    if not isinstance(value, str):
        raise RecordError(field, f"expected a string, got {type(value).__name__}")
    return value
