"""StationFiles: every way a record names its station data, each read once, failures kept."""

import json

import pytest

from rewardmap.errors import InputError
from rewardmap.network import Network, StationFiles
from rewardmap.network import files as station_files

CITY = {"Line 1": ["Alpha Station", "Bravo Station (Transfer Station)"],
        "Line 2": ["Bravo Station (Transfer Station)", "Charlie Station"]}


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "stations" / "toyland" / "toyburg.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(CITY), encoding="utf-8")
    return tmp_path


@pytest.fixture
def reads(monkeypatch):
    calls = []
    real = station_files.load_station_file
    monkeypatch.setattr(station_files, "load_station_file", lambda p, **kw: calls.append(p) or real(p, **kw))
    return calls


def test_paths_are_read_once_from_the_dataset_or_the_stations_folder(dataset, reads):
    files = StationFiles(dataset)
    first = files.load("stations/toyland/toyburg.json")
    assert sorted(first.lines) == ["Line 1", "Line 2"] and first.name == "toyburg"
    assert files.load("stations/toyland/toyburg.json") is first
    assert files.load(dataset / "stations/toyland/toyburg.json") is first  # absolute, same file
    assert len(reads) == 1
    # the stations folder as root: the dataset's `stations/` prefix is dropped
    assert sorted(StationFiles(dataset / "stations").load("stations/toyland/toyburg.json").lines) == ["Line 1", "Line 2"]


def test_station_objects_and_json_text_drop_null_lines():
    arrow_style = {**CITY, "Line 9": None}  # a column read back from Arrow holds every city's lines
    files = StationFiles(None)
    for source in (arrow_style, json.dumps(arrow_style)):
        network = files.load(source)
        assert isinstance(network, Network) and sorted(network.lines) == ["Line 1", "Line 2"]
    assert files.load(network) is network


def test_failures_are_kept_and_raised_again(dataset, reads):
    files = StationFiles(dataset)
    for _ in range(2):
        with pytest.raises(InputError, match="nowhere.json"):
            files.load("stations/nowhere.json")
    assert len(reads) == 1
    with pytest.raises(InputError, match="not valid JSON"):
        files.load("{not json")
    with pytest.raises(InputError, match="no stations root"):
        StationFiles(None).load("stations/toyland/toyburg.json")
    with pytest.raises(InputError, match="got int"):
        files.load(3)


def test_strict_loading_is_the_callers_choice(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({"Line 1": ["A Station", "B Station", "A Station", "C Station"]}), encoding="utf-8")
    assert StationFiles(tmp_path).load("twice.json").warnings  # lenient: first position kept
    with pytest.raises(InputError, match="twice.json"):
        StationFiles(tmp_path, strict=True).load("twice.json")
