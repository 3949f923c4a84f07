"""Procedural synthetic cities drawn as transit diagrams that look like real metro maps.

`generate_city(seed, difficulty, size)` lays out an octilinear network with local-style
names and the requested map difficulty; `render_city` draws it; `write_city` writes the
ReasonMap station file, the PNG and the station pixel positions.
"""

from .city import (
    DIFFICULTIES,
    CityFiles,
    SynthCity,
    generate_city,
    station_file_mapping,
    transfer_stations,
    write_city,
)
from .render import render_city

__all__ = [
    "DIFFICULTIES", "CityFiles", "SynthCity", "generate_city", "render_city", "station_file_mapping",
    "transfer_stations", "write_city",
]
