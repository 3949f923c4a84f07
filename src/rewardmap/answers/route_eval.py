"""Reading route answers as the released ReasonMap evaluation does (the released `main.py`).

This is the evaluation's own parser, not the reward's: it normalises with `eclean`, reads
a long answer's arrival only up to a newline, and reads the long question's via field.

`variant="reference"` reproduces the released parser, quirks included:

- sections are the pieces of the answer split on "--" that contain `Route Name:`,
  `Departure Stop:` and `Arrival Stop:` (case-sensitive);
- a field is the text after its label and one space up to the next newline; a field that
  is missing, or whose label has no newline after it, is the literal "Wrong";
- a SHORT answer's arrival is everything after the section's last `Arrival Stop:`, so any
  line after it (e.g. a via line) becomes part of it;
- the via count is the first integer after the last `Number of Via Stops: ` of the
  section, or in the whole section when the label is absent (0 when there is none);
- the via list is the text after the last `Via Stops: ` (the whole section when absent),
  split on "," only when it contains "站" (else empty), pieces not trimmed.

`variant="robust"` repairs these parsing quirks and nothing else (scoring is unchanged). It
reads with `answers.route.lenient_fields`, the lenient reader the robust reward uses
too, and normalises with `eclean` as the evaluation does:

1. only the answer after thinking is read (the text after the last `</think>` or
   `◁/think▷`; none when a thinking block is opened and never closed);
2. markdown `**` is removed, and `*` around a value;
3. labels match in any case and spacing (`route name :`);
4. every field is read to the end of its own line, the last line needing no newline, so
   a short answer's arrival no longer swallows the lines after it and a long answer's
   final arrival is no longer "Wrong";
5. `Via Stops:` is not read inside `Number of Via Stops:`, and an absent via field is an
   unanswered one (count None, list empty) instead of being read from the whole section;
6. via lists split on ",", "，", "、", ";" and "；" whatever their script; pieces are
   trimmed and empty ones dropped; "none", "无" and "0" list no stops;
7. at most 64 sections are read (`MAX_SECTIONS`; no route has more).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..network import eclean
from .route import lenient_fields, line_after, via_list
from .variants import TRAINING, check_variant

WRONG = "Wrong"  # what the released parser stores for a field it cannot read

_LABELS = ("Route Name:", "Departure Stop:", "Arrival Stop:")
_INT = re.compile(r"\d+")  # \d: any Unicode decimal digit, as in the released code


@dataclass(frozen=True)
class AnswerSection:
    """One parsed section: the route name stripped, the stops `eclean`ed once (or "Wrong").

    `via_count` is set when the long question asks for `Number of Via Stops` (None: not
    answered, robust only), `via_list` when it asks for `Via Stops`; both None for short
    answers.
    """

    name: str
    departure: str
    arrival: str
    via_count: int | float | None = None
    via_list: tuple[str, ...] | None = None


def parse_route_answer(text: str, *, long: bool = False, via: str | None = None,
                       variant: str = "reference") -> list[AnswerSection]:
    """Sections of a route answer. `via`: "count", "list" or None (which long field to read).

    >>> ans = "Route Name: Line 2\\nDeparture Stop: A Station\\nArrival Stop: B Station"
    >>> parse_route_answer(ans)
    [AnswerSection(name='Line 2', departure='astation', arrival='bstation', via_count=None, via_list=None)]
    >>> parse_route_answer(ans, long=True)[0].arrival   # no newline after the arrival
    'Wrong'
    >>> parse_route_answer(ans, long=True, variant="robust")[0].arrival
    'bstation'
    """
    return read_route_answer(text, long, via, check_variant("variant", variant, TRAINING, ValueError))


def read_route_answer(text: str, long: bool, via: str | None, variant: str) -> list[AnswerSection]:
    """`parse_route_answer` trusting VARIANT: for scorers whose caller checked it once."""
    if len(text) <= 2048:  # answers repeat across a file (and the short and long ones often): read once
        return list(_parse_memo(text, long, via, variant))
    return _parse(text, long, via, variant)


def _parse(text: str, long: bool, via: str | None, variant: str) -> list[AnswerSection]:
    if variant == "robust":
        return _parse_robust(text, long, via)
    sections = []
    for chunk in text.split("--"):
        if not chunk.strip() or any(label not in chunk for label in _LABELS):
            continue
        name = line_after(chunk, "Route Name: ")
        departure = line_after(chunk, "Departure Stop: ")
        if long:
            arrival = line_after(chunk, "Arrival Stop: ")
            arrival = eclean(arrival) if arrival is not None else WRONG
        else:
            arrival = eclean(chunk.split("Arrival Stop:")[-1].strip())
        count = vias = None
        if long and via == "count":
            count = _first_int(chunk.split("Number of Via Stops: ")[-1].strip())
        elif long and via == "list":
            listed = chunk.split("Via Stops: ")[-1].strip()
            vias = tuple(listed.split(",")) if "站" in listed else ()
        sections.append(AnswerSection(
            name.strip() if name is not None else WRONG,
            eclean(departure) if departure is not None else WRONG,
            arrival, count, vias))
    return sections


_parse_memo = lru_cache(maxsize=1 << 14)(lambda text, long, via, variant: tuple(_parse(text, long, via, variant)))


def _parse_robust(text: str, long: bool, via: str | None) -> list[AnswerSection]:
    sections = []
    for f in lenient_fields(text)[0]:
        count = vias = None
        if long and via == "count":
            count = None if f.count is None else _first_int(f.count)
        elif long and via == "list":
            vias = via_list(f.listed or "")
        sections.append(AnswerSection(f.name, eclean(f.departure), eclean(f.arrival), count, vias))
    return sections


def _first_int(text: str) -> int | float:
    """The first integer in `text` (0 when none); inf for one too long for `int()`."""
    match = _INT.search(text)
    if not match:
        return 0
    digits = ascii_digits(match.group())
    return int(digits) if len(digits) <= 4000 else math.inf


def ascii_digits(digits: str) -> str:
    """A run of Unicode decimal digits as `str(int(digits))` writes it, for any length.

    >>> ascii_digits("007"), ascii_digits("１２")
    ('7', '12')
    """
    return "".join(str(unicodedata.decimal(c)) for c in digits).lstrip("0") or "0"
