"""Station-name handling: marker stripping and the two normalisations of the released code.

`clean` is the reward code's normalisation and `eclean` the evaluation code's. Both are
reproduced exactly, quirks included: `clean` is not idempotent (each pass drops one
trailing "站", so "西站站" needs two), which is why callers must apply it as many times as
the released code did; and "Univ" -> "University" runs after "Univ." -> "University", so
"Univ." becomes "Universityersity".
"""

from __future__ import annotations

import re
from functools import lru_cache

# Markers written into names by the station files; removed before a name is used.
_MARKER = re.compile(r"\s*\((?:Transfer Station|Branch-starting Station)\)|（(?:换乘站|支线起始站)）")
_BRANCH_MARKER = re.compile(r"\(Branch-starting Station\)|（支线起始站）")
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")


def drop_brackets(text: str) -> str:
    """Delete each `(`/`（` up to the next `)`/`）` (no nesting), in linear time.

    Equal to `re.sub(r"[(（][^)）]*[)）]", "", text)`, but that pattern rescans to the end of
    the text from every opening bracket with no closing one after it (quadratic: 30,000 of
    them take seconds). Those brackets all lie after the last closing bracket and are never
    deleted, so the pattern only needs to run up to it.

    >>> drop_brackets("a(b)c（d）e(("), drop_brackets("((x")
    ('ace((', '((x')
    """
    cut = max(text.rfind(")"), text.rfind("）")) + 1
    return _BRACKETED.sub("", text[:cut]) + text[cut:] if cut else text


def _squash(text: str) -> str:
    """Delete whitespace and "-". `str.split()` splits on exactly what the regex `\\s`
    matches, and is several times faster on long text (model answers can be megabytes)."""
    return "".join(text.split()).replace("-", "")


def strip_markers(name: str) -> str:
    """
    >>> strip_markers("Union Station (Transfer Station)")
    'Union Station'
    >>> strip_markers("东川路站（支线起始站）"), strip_markers("Court St Station(Transfer Station)")
    ('东川路站', 'Court St Station')
    """
    return _MARKER.sub("", name).strip()


_RELEASED_MARKERS = (" (Transfer Station)", " (Branch-starting Station)", "（换乘站）", "（支线起始站）")


def released_name(name: str) -> str:
    """A station-file name as the released RewardMap code reads it: each marker deleted by
    plain replacement, nothing stripped, so a space written before a full-width marker stays.

    >>> released_name("东管头南站 （换乘站）"), strip_markers("东管头南站 （换乘站）")
    ('东管头南站 ', '东管头南站')
    """
    for marker in _RELEASED_MARKERS:
        name = name.replace(marker, "")
    return name


def has_branch_marker(name: str) -> bool:
    return bool(_BRANCH_MARKER.search(name))


def clean(text: str) -> str:
    """The reward code's normalisation of a station or line string (one pass).

    >>> clean("Union Station (Transfer Station)"), clean("王府庄站（换乘站）")
    ('union', '王府庄站')
    >>> clean("Tech. Univ. Road")
    'technologynologyuniversityersitylu'
    >>> clean("火车西站站"), clean(clean("火车西站站"))
    ('火车西站', '火车西')
    """
    for junk in ("Metro", "metro", ",", "*", "\n", "'"):
        text = text.replace(junk, "")
    for old, new in (("Univ.", "University"), ("Univ", "University"), ("Tech.", "Technology"),
                     ("Tech", "Technology"), ("road", "lu"), ("Road", "lu")):
        text = text.replace(old, new)
    text = text.replace("Station", "").replace("station", "")
    text = text.replace("Asian Games Village", "yayuncun")
    if text.endswith("站"):
        text = text[:-1]
    return _squash(drop_brackets(text)).lower()


def eclean(text: str) -> str:
    """The evaluation code's narrower normalisation. Memoised for names and short answers:
    scoring a file compares the same station and line names on every line.

    >>> eclean("Union Station (Transfer Station)"), eclean("Metro Line-2")
    ('unionstation', 'line2')
    """
    return _eclean_short(text) if len(text) <= 256 else _eclean(text)


def _eclean(text: str) -> str:
    for junk in ("Metro", "metro", ",", "*", "\n"):
        text = text.replace(junk, "")
    return _squash(drop_brackets(text)).lower()


_eclean_short = lru_cache(maxsize=1 << 16)(_eclean)
