"""Question wordings and the answer formats they ask for (as ReasonMap and ReasonMap-Plus word them)."""

from __future__ import annotations

from collections.abc import Sequence

from .kinds import ROUTE_TYPE

LETTERS = "ABCD"

_BOXED_LETTER = "Put the letter of the correct option (A, B, C or D) in \\boxed{}."
_BOXED_NUMBER = "Put your final answer, a single integer, in \\boxed{}."
_BOXED_YES_NO = "Only answer yes or no, and put it in \\boxed{}."


def counting1(a: str, b: str, choices: Sequence[int]) -> str:
    options = " ".join(f"{LETTERS[i]}) {c}" for i, c in enumerate(choices))
    return (f"According to the subway map, how many intermediate stops are there between "
            f"{a} and {b} (except for this two stops)? {options}. {_BOXED_LETTER}")


def counting2(station: str) -> str:
    return f"According to the subway map, how many lines pass through {station}? {_BOXED_NUMBER}"


def counting3() -> str:
    return ("According to the subway map, how many subway (metro) lines are there in total? "
            f"{_BOXED_NUMBER}")


def torf1(a: str, b: str) -> str:
    return f"According to the subway map, is it true that {a} is the same line as {b}? {_BOXED_YES_NO}"


def torf2(station: str, line: str) -> str:
    return f"According to the subway map, is {station} on the line {line}? {_BOXED_YES_NO}"


_SECTION = "Route Name: <line name>\nDeparture Stop: <station>\nArrival Stop: <station>"
_LONG_FIELD = {
    "count": "Number of Via Stops: <number of stops strictly between departure and arrival>",
    "list": "Via Stops: <the stops strictly between departure and arrival, separated by commas>",
}


def route(a: str, b: str, long: str | None = None) -> str:
    """A route question; `long` is None (short), "count" or "list" (the long field asked)."""
    section = _SECTION + ("\n" + _LONG_FIELD[long] if long else "")
    return (f"According to the subway map, how do I get from {a} to {b}? Provide only one "
            "optimal route: the fewest transfers, then the fewest stops. Answer with one "
            "section per line ridden, in riding order, in exactly this format, and separate "
            "the sections with a line holding only --:\n"
            f"{section}\n--\n{section}")


def route_answer(sections: Sequence[dict], long: str | None = None) -> str:
    """The answer text a route question asks for, from ReasonMap-style sections."""
    blocks = []
    for s in sections:
        lines = [f"Route Name: {s['route_name']}", f"Departure Stop: {s['departure_stop']}",
                 f"Arrival Stop: {s['arrival_stop']}"]
        if long == "count":
            lines.append(f"Number of Via Stops: {s['num_via_stops']}")
        elif long == "list":
            lines.append(f"Via Stops: {', '.join(s['via_stops'])}")
        blocks.append("\n".join(lines))
    return "\n--\n".join(blocks)


def target_text(record: dict) -> str:
    """The answer in exactly the form the question asks for.

    >>> target_text({"type": "TorF1", "answer": 1}), target_text({"type": "Counting1", "answer": 2})
    ('\\\\boxed{yes}', '\\\\boxed{C}')
    """
    qtype, answer = record["type"], record["answer"]
    if qtype == ROUTE_TYPE:
        return answer
    if qtype.startswith("TorF"):
        return "\\boxed{" + ("yes" if answer else "no") + "}"
    if qtype == "Counting1":
        return "\\boxed{" + LETTERS[answer] + "}"
    return "\\boxed{" + str(answer) + "}"
