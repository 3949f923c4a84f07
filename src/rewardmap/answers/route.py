"""Reading route answers: the released parser and a repaired one.

An answer is sections separated by `--`, each

    Route Name: Line 2
    Departure Stop: A Station
    Arrival Stop: B Station

optionally followed by `Number of Via Stops: n` or `Via Stops: a, b` (the long question).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .text import clean_once, final_answer

_NAME, _DEPARTURE, _ARRIVAL = "Route Name:", "Departure Stop:", "Arrival Stop:"
_MARKERS_LOWER = tuple(m.lower() for m in (_NAME, _DEPARTURE, _ARRIVAL))
WRONG = "Wrong"  # the released code's value for a field it cannot read


class Section(NamedTuple):
    """One parsed section. Stops are as the parser left them (see each parser).

    A named tuple rather than a dataclass: an answer can hold thousands of sections.
    """

    route_name: str
    departure: str
    arrival: str
    strict: bool = True  # reference: the three labels appear with their exact case
    via_count: int | None = None  # robust: `Number of Via Stops`, when given
    via_stops: tuple[str, ...] | None = None  # robust: `Via Stops`, when given


# ------------------------------------------------------------------ the released parser


def reference_sections(response: str) -> list[Section]:
    """Sections as the released reward reads them (labels split on `--`, fields cut at the next label).

    Every piece of the response split on `--` that holds the three labels in any case is a
    section (the detail reward's test); `strict` tells whether they appear with their
    exact case (the correctness test). Name and departure are the text after `Route Name: `
    / `Departure Stop: ` up to the next newline (the name stripped), or "Wrong" when the
    label with its space or the newline is missing; the arrival is all the text after the
    last `Arrival Stop:` (the whole section when that exact label is absent), stripped.
    Stops are left raw: the released code cleans them once here and again when comparing,
    which `released_stop` does.

    >>> [s] = reference_sections("Route Name: Line 1\\nDeparture Stop: A\\nArrival Stop: B\\nVia Stops: C")
    >>> s.route_name, s.departure, s.arrival, released_stop(s.arrival)
    ('Line 1', 'A', 'B\\nVia Stops: C', 'bviastops:c')
    """
    # Only the pieces holding "arrival stop:" are visited (an answer of a million `--` has
    # half a million pieces). Positions are found in the lower-cased text, which has the
    # same positions: U+0130 is the one character whose lower case is two characters, and
    # it cannot be part of a label. A piece after an odd run of dashes may lose the one
    # leading "-" that `split` leaves it; no label or value can start with it.
    lowered = response.replace("\u0130", "\u0131").lower()
    sections: list[Section] = []
    known: dict[str, Section | None] = {}  # a degenerate answer repeats one section
    at = lowered.find(_MARKERS_LOWER[2])
    while at != -1:
        before = lowered.rfind("--", 0, at)
        start = 0 if before == -1 else before + 2
        end = lowered.find("--", at)
        end = len(lowered) if end == -1 else end
        piece = response[start:end]
        section = known.get(piece, known)
        if section is known:
            section = known[piece] = _reference_section(piece, lowered, start, end)
        if section is not None:
            sections.append(section)
        at = lowered.find(_MARKERS_LOWER[2], end)
    return sections


# A piece that is just the three exact labels, one a line, with no ":" in any value (so no
# label hides in a value): what the general reading below gives, in one match.
_REFERENCE_PLAIN = re.compile(r"\s*Route Name: ([^\n:]*)\nDeparture Stop: ([^\n:]*)\nArrival Stop:([^:]*)")


def _reference_section(piece: str, lowered: str, start: int, end: int) -> Section | None:
    plain = _REFERENCE_PLAIN.fullmatch(piece)
    if plain:
        return Section(plain[1].strip(), plain[2], plain[3].strip())
    low = lowered[start:end]
    if not (_MARKERS_LOWER[0] in low and _MARKERS_LOWER[1] in low):  # the arrival's is there
        return None
    name, departure = line_after(piece, "Route Name: "), line_after(piece, "Departure Stop: ")
    return Section(WRONG if name is None else name.strip(), WRONG if departure is None else departure,
                   piece.rpartition(_ARRIVAL)[2].strip(), _NAME in piece and _DEPARTURE in piece and _ARRIVAL in piece)


def line_after(text: str, label: str) -> str | None:
    """`re.search(label + "(.*?)\\n", text).group(1)`, None when it does not match.

    Without the regex: the match starts at the first `label`, and when no newline follows
    that one none follows a later one. The lazy regex would retry at every later label,
    quadratic on a label repeated without newlines.
    """
    start = text.find(label)
    end = text.find("\n", start + len(label)) if start != -1 else -1
    return None if end == -1 else text[start + len(label):end]


def released_stop(stop: str) -> str:
    """A stop as the released code compares it: cleaned when parsed, and again when compared.

    "Wrong" (a missing field) is not cleaned when parsed; it compares as "wrong" all the
    same, since `clean` leaves "wrong" as it is.
    """
    return _released_short(stop) if len(stop) <= 256 else clean_once(clean_once(stop))


@lru_cache(maxsize=1 << 16)
def _released_short(stop: str) -> str:
    return clean_once(clean_once(stop))


# ------------------------------------------------------------------ the lenient reader

MAX_SECTIONS = 64  # no route has more; a longer answer is cut here (the robust reward: wrong)
MAX_NAME = 200  # no station or line name is longer; a longer value names none


class Fields(NamedTuple):
    """One section's fields as written: original case, stripped, markdown `*` around a value
    dropped. `count` / `listed`: the values of a `Number of Via Stops` / `Via Stops` line,
    None when the section has none."""

    name: str
    departure: str
    arrival: str
    count: str | None = None
    listed: str | None = None


def _label(words: str) -> str:
    return r"[ \t]*".join(words.split()) + r"[ \t]*:"


# Labels are searched in the lower-cased answer (patterns that start with a literal are
# searched at C speed); values are sliced from the answer at the same positions.
_NAME_FIELD, _DEPARTURE_FIELD, _ARRIVAL_FIELD, _VIA_COUNT = (
    re.compile(_label(words) + r"([^\n]*)") for words in ("route name", "departure stop", "arrival stop",
                                                          "number of via stops"))
_ARRIVAL_LABEL = re.compile(_label("arrival stop"))
_VIA_LIST = re.compile(_label("via stops") + r"([^\n]*)")
_COUNT_LABEL = re.compile(_label("number of via stops"))
# A piece that is just the three fields (and maybe a via line), one a line, with no ":" in
# any value, so that no label can hide in a value: what the general path reads, in one match.
_PLAIN_SECTION = re.compile(r"\s*route name:([^\n:]*)\ndeparture stop:([^\n:]*)\narrival stop:([^\n:]*)"
                            r"(?:\nnumber of via stops:([^\n:]*)|\nvia stops:([^\n:]*))?\s*")


def lenient_fields(response: str) -> tuple[list[Fields], bool]:
    """Sections read leniently, and whether the answer was cut after `MAX_SECTIONS` pieces.

    The one lenient reading of route answers, shared by the robust reward and the robust
    evaluation (each normalises the values its own way). Only the answer after thinking is
    read (`final_answer`), with markdown `**` removed. A section is a piece between `--`
    separators holding the three labels in any case and spacing (`route name :`); every
    field is the rest of its own line (the last line needs no newline), so a via line is
    never glued to the arrival, and `Via Stops:` is never read inside `Number of Via Stops:`.
    Only pieces holding an arrival label are visited, at most `MAX_SECTIONS` of them.

    >>> [f], cut = lenient_fields("**Route Name:** Line 1\\nDEPARTURE STOP: A Station\\narrival stop : B\\nVia Stops: X")
    >>> f, cut
    (Fields(name='Line 1', departure='A Station', arrival='B', count=None, listed='X'), False)
    """
    text = final_answer(response).replace("**", "")
    # Same positions as `text`: U+0130 is the one character whose lower case is two characters.
    lowered = text.replace("\u0130", "\u0131").lower()
    found: list[Fields] = []
    label = _ARRIVAL_LABEL.search(lowered)
    for _ in range(MAX_SECTIONS):
        if label is None:
            return found, False
        before = lowered.rfind("--", 0, label.start())
        start = before + 2 if before != -1 else 0
        end = lowered.find("--", label.end())
        end = len(lowered) if end == -1 else end
        piece = lowered[start:end]
        plain = _PLAIN_SECTION.fullmatch(piece)
        if plain:  # the usual shape: the general path below would read the same
            spans = [plain.span(group) for group in range(1, 6)]
        else:
            matches = (_NAME_FIELD.search(piece), _DEPARTURE_FIELD.search(piece), _ARRIVAL_FIELD.search(piece),
                       _VIA_COUNT.search(piece), _via_list_label(piece))
            spans = [m.span(1) if m else (-1, -1) for m in matches]
        if all(a != -1 for a, _ in spans[:3]):
            values = [_value(text[start + a:start + b]) if a != -1 else None for a, b in spans]
            found.append(Fields(*values))
        label = _ARRIVAL_LABEL.search(lowered, end)
    return found, label is not None


def _via_list_label(piece: str) -> re.Match | None:
    """The first `via stops:` that is not the end of `number of via stops:` (with any blanks
    between its words: a label ends where the count's label ends)."""
    count_label_ends = {match.end() for match in _COUNT_LABEL.finditer(piece)}
    for match in _VIA_LIST.finditer(piece):
        if match.start(1) not in count_label_ends:
            return match
    return None


def _value(raw: str) -> str:
    return raw.strip().strip("*").strip()


_LIST_SEPARATOR = re.compile(r"[,，、;；]")
_NO_STOPS = {"", "none", "无", "0"}


def via_list(listed: str) -> tuple[str, ...]:
    """The stops of a `Via Stops` value, trimmed, in order; none for "none", "无" or "0".

    >>> via_list("A Station，B Station、 C"), via_list("None")
    (('A Station', 'B Station', 'C'), ())
    """
    if listed.lower() in _NO_STOPS:
        return ()
    return tuple(stop for stop in (part.strip() for part in _LIST_SEPARATOR.split(listed)) if stop)


# ------------------------------------------------------------------ the repaired parser

_COUNT = re.compile(r"[-+]?\d+")


def robust_stop(stop: str) -> str:
    """A stop as the robust reward compares it: lower-cased, then cleaned once, so that
    case never matters (`clean` itself replaces "Station" but not "STATION"). Station
    names go through the same function (`RewardIndex.robust_members`). A value longer than
    `MAX_NAME` names no station and is only lower-cased."""
    return clean_once(stop.lower()) if len(stop) <= MAX_NAME else stop.lower()


def robust_sections(response: str) -> tuple[list[Section], bool]:
    """`lenient_fields` as the robust reward reads them, and whether the answer was cut.

    Stops, listed via stops included, are `robust_stop`ped; a via count is the integer
    that starts its value (None when there is none).

    >>> [s], cut = robust_sections("route name: Line 1\\nDEPARTURE STOP: A Station\\nArrival Stop: B\\nVia Stops: X, Y")
    >>> s.route_name, s.departure, s.arrival, s.via_stops, cut
    ('Line 1', 'a', 'b', ('x', 'y'), False)
    """
    found, cut = lenient_fields(response)
    sections = []
    for f in found:
        count = f.count is not None and _COUNT.match(f.count)
        sections.append(Section(f.name, robust_stop(f.departure), robust_stop(f.arrival),
                                via_count=int(count.group()) if count and len(count.group()) < 10 else None,
                                via_stops=tuple(map(robust_stop, via_list(f.listed))) if f.listed is not None else None))
    return sections, cut


# ------------------------------------------------------------------ the requested format

_VALUE = r"[ \t]*+[^\s][^\n]*+"
_SECTION = (rf"Route Name:{_VALUE}\nDeparture Stop:{_VALUE}\nArrival Stop:{_VALUE}"
            rf"(?:\n(?:Number of Via Stops:[ \t]*+\d++[ \t]*+|Via Stops:[^\n]*+))?+")
_FORMAT = re.compile(rf"{_SECTION}(?:\s*+--[ \t]*+\n\s*+{_SECTION})*+\s*+")


def route_format_ok(response: str) -> bool:
    """Whether the answer ends in the requested form: from its first line starting with
    `Route Name:` to its end, nothing but well-formed sections (exact labels, one field a
    line, a value on each) separated by `--` lines. Reasoning before the first section is
    allowed.

    >>> route_format_ok("I ride Line 1.\\nRoute Name: Line 1\\nDeparture Stop: A\\nArrival Stop: B\\n")
    True
    >>> route_format_ok("Route Name: Line 1\\nDeparture Stop: A\\nArrival Stop: B\\nThen walk.")
    False
    """
    text = final_answer(response)
    if text.startswith(_NAME):
        return _FORMAT.fullmatch(text) is not None
    first = text.find("\n" + _NAME)
    return first != -1 and _FORMAT.fullmatch(text, first + 1) is not None
