"""A city's lines and stations: loading station files, names, routing and difficulty.

Imports nothing else of rewardmap but `errors`, so every later stage can build on it.
"""

from .difficulty import map_difficulty, question_difficulty
from .files import StationFiles
from .loading import StationFileError, load_station_file, network_from_mapping
from .names import clean, eclean, strip_markers
from .network import Line, Network
from .routing import Route, Router, Section, optimal_routes

__all__ = [
    "Line", "Network", "Route", "Router", "Section", "StationFileError", "StationFiles", "clean", "eclean",
    "load_station_file", "map_difficulty", "network_from_mapping", "optimal_routes",
    "question_difficulty", "strip_markers",
]
