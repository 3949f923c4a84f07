"""The record schema: ReasonMap-Train field names, plus the fields some types add."""

from __future__ import annotations

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

__all__ = ["BASE_FIELDS", "DIFFICULTIES", "PLUS_TYPES", "QUESTION_TYPES", "ROUTE_SECTION_FIELDS",
           "ROUTE_TYPE", "TYPE_FIELDS"]
