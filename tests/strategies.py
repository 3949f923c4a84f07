"""Hypothesis strategies shared by the property tests."""

from hypothesis import strategies as st


@st.composite
def station_maps(draw, max_stations: int = 24, max_lines: int = 6, max_line_length: int = 10):
    """A random station-file object: lines drawn from a pool of names, some of them loops."""
    pool = [f"Stop {i} Station" for i in range(draw(st.integers(4, max_stations)))]
    lines = {}
    for k in range(draw(st.integers(1, max_lines))):
        stations = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=max_line_length, unique=True))
        if len(stations) >= 3 and draw(st.booleans()):
            stations = stations + stations[:1]  # a loop repeats its first station
        lines[f"Line {k + 1}"] = stations
    return lines
