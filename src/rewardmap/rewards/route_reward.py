"""Route correctness (accuracy) and the detail reward of RewardMap's training reward.

`reference_*` reproduce the released code, quirks included; `robust_*` repair them (see
docs/rewards.md). Both take parsed sections (`answers.route`), the network's
`RewardIndex` and station_1/station_2 cleaned once.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..answers.route import MAX_NAME, Section, released_stop, robust_sections, robust_stop
from .index import RewardIndex, line_key, released_line_name

DETAIL_CAP = 10.0

# ------------------------------------------------------------------ released


def reference_correct(sections: Sequence[Section], index: RewardIndex, start: str, goal: str) -> bool:
    """The released accuracy check on the strictly parsed sections.

    The first departure and the last arrival equal station_1 / station_2; every route name
    (after the 八通/大兴 renaming) is a line of the file, exactly; both stops of every section
    are on that line; each arrival equals the next departure. Stops compare as
    `released_stop` gives them (cleaned twice). Station order is not checked.
    """
    if not sections or released_stop(sections[0].departure) != start or released_stop(sections[-1].arrival) != goal:
        return False
    for i, section in enumerate(sections):
        stations = index.members.get(released_line_name(section.route_name))
        if stations is None:
            return False
        arrival = released_stop(section.arrival)
        if released_stop(section.departure) not in stations or arrival not in stations:
            return False
        if i + 1 < len(sections) and arrival != released_stop(sections[i + 1].departure):
            return False
    return True


def reference_detail(sections: Sequence[Section], index: RewardIndex, start: str, goal: str,
                     transfers: int) -> float:
    """The released detail reward on the leniently parsed sections (capped at 10, no floor).

    0 unless the first departure and the last arrival both match; then +2, and for each
    section i (1-based): -5 when i > transfers (so a route of exactly transfers + 1
    sections always takes one); for a route name that is a line of the file, +4 when there
    are no transfers and it is a line holding both endpoints, +3 for any line when there
    are transfers; +1 when both stops are on the line, the section is not the last, its
    arrival is the next departure and i <= transfers.
    """
    if not sections or released_stop(sections[0].departure) != start or released_stop(sections[-1].arrival) != goal:
        return 0.0
    through_both = index.lines_holding(start, goal) if transfers == 0 else set()
    score = 2
    for i, section in enumerate(sections, 1):
        if i > transfers:
            score -= 5
        name = released_line_name(section.route_name)
        stations = index.members.get(name)
        if stations is None:
            continue
        score += (4 if name in through_both else 0) if transfers == 0 else 3
        if i <= transfers and i < len(sections):  # tested first: it spares the cleaning
            arrival = released_stop(section.arrival)
            if (released_stop(section.departure) in stations and arrival in stations
                    and arrival == released_stop(sections[i].departure)):
                score += 1
    return float(min(score, DETAIL_CAP))


# ------------------------------------------------------------------ repaired


def robust_line(name: str, index: RewardIndex) -> str | None:
    """The file's line an answer names: exactly, else by `line_key` ("2号线" is "Line 2"),
    else by the released 八通/大兴 renaming; None when it names none."""
    if name in index.lines:
        return name
    if len(name) > MAX_NAME:
        return None
    key = line_key(name)
    if key in index.line_by_key:
        return index.line_by_key[key]
    renamed = released_line_name(name)
    return renamed if renamed in index.lines else None


def robust_correct(sections: Sequence[Section], index: RewardIndex, start: str, goal: str) -> bool:
    """The released check with names matched by `robust_line`, stops compared as
    `robust_stop` gives them (case-blind, cleaned once; so are `start` and `goal`), and the
    ride itself checked: a section must go somewhere (departure != arrival), and a via
    count or via list it states must match a ride between its stops on that line (the list
    in riding order; either way round a loop; not checked where a branch leaves the order
    unknown).
    """
    if not sections or sections[0].departure != start or sections[-1].arrival != goal:
        return False
    for i, section in enumerate(sections):
        name = robust_line(section.route_name, index)
        stations = index.robust_members.get(name) if name else None
        departure, arrival = section.departure, section.arrival
        if stations is None or departure not in stations or arrival not in stations or departure == arrival:
            return False
        if i + 1 < len(sections) and arrival != sections[i + 1].departure:
            return False
        if (section.via_count is not None or section.via_stops is not None) and not _vias_agree(
                section, index, name, stations[departure], stations[arrival]):
            return False
    return True


def _vias_agree(section: Section, index: RewardIndex, name: str, a: str, b: str) -> bool:
    if not index.lines[name].certain(a, b):
        return True
    rides = index.robust_rides(name, a, b)
    if section.via_count is not None and all(section.via_count != len(ride) for ride in rides):
        return False
    return section.via_stops is None or section.via_stops in rides


def robust_detail(sections: Sequence[Section], index: RewardIndex, start: str, goal: str,
                  transfers: int) -> float:
    """The detail reward with the robust repairs (at most 10, no floor).

    Only sections that ride earn: both stops on the named line (`robust_line`, stops as
    `robust_stop` gives them) and different, so a route that never leaves its departure, or
    names real lines with stops off them, earns nothing. Then, as released, +2 when the
    route rides at all and its first departure or last arrival matches (the paper's rule;
    released: both must match, riding or not); per riding section +4 (no transfers, a line holding
    both ends) or +3 (transfers), and +1 when it is not the last, its arrival is the next
    departure and i <= transfers. The credit is capped at 10 and only then is 5 taken for
    each section beyond transfers + 1 (released: beyond transfers, before the cap), so an
    extra split never ties the plan the question asks for.
    """
    if not sections or (sections[0].departure != start and sections[-1].arrival != goal):
        return 0.0
    through_both = index.lines_holding(start, goal, robust=True) if transfers == 0 else set()
    credit, rides = 0, False
    for i, section in enumerate(sections, 1):
        name = robust_line(section.route_name, index)
        stations = index.robust_members[name] if name else ()
        departure, arrival = section.departure, section.arrival
        if departure == arrival or departure not in stations or arrival not in stations:
            continue
        rides = True
        credit += (4 if name in through_both else 0) if transfers == 0 else 3
        if i <= transfers and i < len(sections) and arrival == sections[i].departure:
            credit += 1
    if not rides:
        return 0.0
    extra = max(0, len(sections) - (transfers + 1))
    return float(min(credit + 2, DETAIL_CAP) - 5 * extra)


def endpoints_named(response: str, station_1: str, station_2: str) -> bool:
    """Whether a route answer departs from station_1 and arrives at station_2 (its first and
    last sections, stops compared as the robust reward compares them): the endpoints the detail
    reward checks before anything else (the released reward needs both, the robust one either).

    >>> endpoints_named("Route Name: L1\\nDeparture Stop: A Station\\nArrival Stop: b", "A", "B")
    True
    """
    if not isinstance(response, str):
        return False
    sections, _ = robust_sections(response)
    return bool(sections) and sections[0].departure == robust_stop(station_1) \
        and sections[-1].arrival == robust_stop(station_2)
