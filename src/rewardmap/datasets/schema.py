"""The record schema: ReasonMap-Train field names, plus the fields some types add."""

from __future__ import annotations

from ..errors import shown
from ..questions.kinds import DIFFICULTIES, PLUS_TYPES, QUESTION_TYPES, ROUTE_TYPE

# Every record carries these (ReasonMap-Train names). Plus questions have
# question_transfer_count 0 (no route) and station_2 null when they name one station.
BASE_FIELDS = (
    "id", "type", "question", "answer", "station_1", "station_2", "country", "city",
    "difficulty_city", "difficulty_question", "question_transfer_count",
    "city_line_count", "city_transfer_count", "json", "figure",
)
# Fields only some types carry.
TYPE_FIELDS = {
    "TorF2": ("line",),
    "Counting1": ("choices",),
    ROUTE_TYPE: ("routes", "question_long"),
}
ROUTE_SECTION_FIELDS = ("route_name", "departure_stop", "arrival_stop", "num_via_stops", "via_stops")



def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value) -> bool:
    return isinstance(value, str)


def _text_or_null(value) -> bool:
    return value is None or isinstance(value, str)


# What each field holds: (test, in words). `answer` depends on the type: see `field_problems`.
FIELD_KINDS = {
    "id": (lambda v: _text(v) or _integer(v), "a string or an integer"),
    "question": (_text, "a string"), "question_long": (_text, "a string"),
    "station_1": (_text_or_null, "a station name or null"), "station_2": (_text_or_null, "a station name or null"),
    "country": (_text, "a string"), "city": (_text, "a string"), "line": (_text, "a line name"),
    "difficulty_city": (_text, "easy, middle or hard"), "difficulty_question": (_text, "easy, middle or hard"),
    "question_transfer_count": (_integer, "an integer"), "city_line_count": (_integer, "an integer"),
    "city_transfer_count": (_integer, "an integer"),
    "json": (_text, "a station file's path"), "figure": (_text_or_null, "a map image's path"),
}
SECTION_KINDS = {
    "route_name": (_text, "a line name"), "departure_stop": (_text, "a station name"),
    "arrival_stop": (_text, "a station name"), "num_via_stops": (_integer, "an integer"),
    "via_stops": (lambda v: isinstance(v, list) and all(map(_text, v)), "a list of station names"),
}


def field_problems(record: dict, kinds: dict = FIELD_KINDS):
    """(field, problem) for each field of RECORD that holds the wrong kind of value."""
    for name, (ok, what) in kinds.items():
        if name in record and not ok(record[name]):
            yield name, f"expected {what}, got {shown(record[name])}"
    if kinds is FIELD_KINDS and "answer" in record:
        route = record.get("type") == ROUTE_TYPE
        if not (_text if route else _integer)(record["answer"]):
            yield "answer", f"expected {'the route text' if route else 'an integer'}, got {shown(record['answer'])}"


__all__ = ["BASE_FIELDS", "DIFFICULTIES", "FIELD_KINDS", "PLUS_TYPES", "QUESTION_TYPES", "ROUTE_SECTION_FIELDS",
           "ROUTE_TYPE", "SECTION_KINDS", "TYPE_FIELDS", "field_problems"]
