"""Questions about a network: the five ReasonMap-Plus types and route planning."""

from .city import allocate, city_questions
from .kinds import DIFFICULTIES, PLUS_TYPES, QUESTION_TYPES, ROUTE_TYPE
from .plus import counting1_stops, plus_answer
from .routes import route_questions, split_quota

__all__ = ["DIFFICULTIES", "PLUS_TYPES", "QUESTION_TYPES", "ROUTE_TYPE", "allocate", "city_questions",
           "counting1_stops", "plus_answer", "route_questions", "split_quota"]
