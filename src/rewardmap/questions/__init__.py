"""Questions about a network: the five ReasonMap-Plus types and route planning.

The question kinds are imported at once (every command reads them); the generators only when
first used, so that scoring and evaluation do not pay for importing them."""

from importlib import import_module

from .kinds import DIFFICULTIES, PLUS_TYPES, QUESTION_TYPES, ROUTE_TYPE

_LAZY = {"allocate": "city", "city_questions": "city", "counting1_stops": "plus", "plus_answer": "plus",
         "route_questions": "routes", "split_quota": "routes"}

__all__ = ["DIFFICULTIES", "PLUS_TYPES", "QUESTION_TYPES", "ROUTE_TYPE", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
