"""Station-name handling: marker stripping and the two normalisations of the released code.

`clean` is the reward code's normalisation and `eclean` the evaluation code's. Both are
reproduced exactly, quirks included: `clean` is not idempotent (each pass drops one
trailing "站", so "西站站" needs two), which is why callers must apply it as many times as
the released code did; and "Univ" -> "University" runs after "Univ." -> "University", so
"Univ." becomes "Universityersity".
"""

from __future__ import annotations

import re

# Markers written into names by the station files; removed before a name is used.
_MARKER = re.compile(r"\s*\((?:Transfer Station|Branch-starting Station)\)|（(?:换乘站|支线起始站)）")
_BRANCH_MARKER = re.compile(r"\(Branch-starting Station\)|（支线起始站）")
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")
_SPACE_OR_DASH = re.compile(r"[\s\-]")


def strip_markers(name: str) -> str:
    """
    >>> strip_markers("Union Station (Transfer Station)")
    'Union Station'
    >>> strip_markers("东川路站（支线起始站）"), strip_markers("Court St Station(Transfer Station)")
    ('东川路站', 'Court St Station')
    """
    return _MARKER.sub("", name).strip()


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
    text = _BRACKETED.sub("", text)
    return _SPACE_OR_DASH.sub("", text).lower()


def eclean(text: str) -> str:
    """The evaluation code's narrower normalisation.

    >>> eclean("Union Station (Transfer Station)"), eclean("Metro Line-2")
    ('unionstation', 'line2')
    """
    for junk in ("Metro", "metro", ",", "*", "\n"):
        text = text.replace(junk, "")
    text = _BRACKETED.sub("", text)
    return _SPACE_OR_DASH.sub("", text).lower()
