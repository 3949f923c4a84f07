"""StationFiles: every way a record names its station data, each read once, failures kept."""

import json
from types import MappingProxyType

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


def test_paths_are_read_once_from_the_dataset_or_the_stations_folder(dataset, station_file_reads):
    files = StationFiles(dataset)
    first = files.load("stations/toyland/toyburg.json")
    assert sorted(first.lines) == ["Line 1", "Line 2"] and first.name == "toyburg"
    assert files.load("stations/toyland/toyburg.json") is first
    assert files.load(dataset / "stations/toyland/toyburg.json") is first  # absolute, same file
    assert len(station_file_reads) == 1
    # the stations folder as root: the dataset's `stations/` prefix is dropped
    assert sorted(StationFiles(dataset / "stations").load("stations/toyland/toyburg.json").lines) == ["Line 1", "Line 2"]


def test_station_objects_and_json_text_drop_null_lines():
    arrow_style = {**CITY, "Line 9": None}  # a column read back from Arrow holds every city's lines
    files = StationFiles(None)
    for source in (arrow_style, json.dumps(arrow_style)):
        network = files.load(source)
        assert isinstance(network, Network) and sorted(network.lines) == ["Line 1", "Line 2"]
    assert files.load(network) is network


def test_failures_are_kept_and_raised_again(dataset, station_file_reads):
    files = StationFiles(dataset)
    for _ in range(2):
        with pytest.raises(InputError, match="nowhere.json"):
            files.load("stations/nowhere.json")
    assert len(station_file_reads) == 1
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


def test_the_default_root_is_the_working_folder(dataset, monkeypatch):
    monkeypatch.chdir(dataset)
    assert StationFiles().load("stations/toyland/toyburg.json").name == "toyburg"


def test_each_path_and_object_gives_its_own_network(dataset):
    other = dataset / "stations" / "toyland" / "other.json"
    other.write_text(json.dumps({"Line 7": ["X Station", "Y Station"]}), encoding="utf-8")
    files = StationFiles(dataset)
    assert files.load("stations/toyland/toyburg.json").name == "toyburg"
    assert files.load("stations/toyland/other.json").line_names == ["Line 7"]
    assert files.load({"Line 8": ["P", "Q"]}).line_names == ["Line 8"]
    assert files.load({"Line 9": ["R", "S"]}).line_names == ["Line 9"]


def test_line_order_is_the_objects_own():
    # the same lines in another order are another file: line order is file order (it used to
    # come back in the order of the first object loaded)
    files = StationFiles(None)
    assert files.load({"Line 2": CITY["Line 2"], "Line 1": CITY["Line 1"]}).line_names == ["Line 2", "Line 1"]
    assert files.load(CITY).line_names == ["Line 1", "Line 2"]
    assert files.load(json.dumps(CITY)).line_names == ["Line 1", "Line 2"]


def test_json_text_is_read_as_text():
    # text padded with white space (a hand-written record), and in a loader that saw no object
    for text in (json.dumps(CITY), "\n  " + json.dumps(CITY)):
        assert StationFiles(None).load(text).line_names == ["Line 1", "Line 2"]


def test_strict_applies_to_station_objects_too():
    twice = {"Line 1": ["A Station", "B Station", "A Station", "C Station"]}
    for source in (twice, json.dumps(twice)):
        assert StationFiles(None).load(source).warnings  # lenient by default
        with pytest.raises(InputError, match="appears twice"):
            StationFiles(None, strict=True).load(source)


def test_values_json_cannot_hold_are_refused_as_input_errors():
    with pytest.raises(InputError, match="^<station data>: line 'L': expected a list of station names, got set$"):
        StationFiles(None).load({"L": {"A", "B"}})


def test_an_empty_path_is_not_a_path():
    with pytest.raises(InputError, match="^expected a station-file path or the station object, got str$"):
        StationFiles(".").load("")


def test_a_path_outside_the_root_is_refused_by_name(dataset):
    root = dataset / "stations"
    with pytest.raises(InputError) as e:
        StationFiles(root).load("../secret.json")
    assert str(e.value) == f"station file '../secret.json' is outside the stations root {root}; not read"


@pytest.mark.parametrize("as_text", [False, True])
def test_station_objects_kept_are_bounded_and_paths_stay(dataset, station_file_reads, as_text):
    """A long run meets many cities' objects: only the last few are kept, while files stay read once."""
    files = StationFiles(dataset)
    objects = [{f"Line {i}": ["A Station", "B Station"]} for i in range(station_files._OBJECTS_KEPT + 1)]
    sources = [json.dumps(o) for o in objects] if as_text else objects
    first = files.load(sources[0])
    assert files.load(sources[1]) is not first and files.load(sources[0]) is first  # each kept once read
    for source, data in zip(sources[1:], objects[1:]):
        assert files.load(source).line_names == list(data)
    again = files.load(sources[0])
    assert again is not first and again.line_names == ["Line 0"]  # let go with the others, read again
    path = files.load("stations/toyland/toyburg.json")
    for source in sources:
        files.load(source)
    assert files.load("stations/toyland/toyburg.json") is path and len(station_file_reads) == 1


def test_objects_with_the_same_json_text_are_told_apart():
    # a tuple writes as a list: refusing it must not refuse the list loaded next (it used to),
    # nor may the list loaded first stand in for the tuple
    files = StationFiles(None)
    for first, second in ((("A", "B"), ["A", "B"]), (["A", "B"], ("A", "B")), ({"A"}, "{'A'}")):
        for stations in (first, second):
            if type(stations) is list:
                assert files.load({"L": stations}).lines["L"].stations == ("A", "B")
            else:
                kind = {tuple: "tuple", set: "set", str: "a string"}[type(stations)]
                with pytest.raises(InputError, match=f"expected a list of station names, got {kind}$"):
                    files.load({"L": stations})
    assert files.load(MappingProxyType({"L": ["A", "B"]})).line_names == ["L"]  # a Mapping, not a dict
