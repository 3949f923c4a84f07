import json
import re

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import station_maps

from rewardmap.network import (
    Line,
    Network,
    Router,
    StationFileError,
    clean,
    eclean,
    load_station_file,
    map_difficulty,
    network_from_mapping,
    strip_markers,
)
from rewardmap.network import loading
from rewardmap.network.names import drop_brackets


def test_loading_strips_markers_and_finds_loops_and_transfers(toy_file):
    net = load_station_file(toy_file)
    assert net.name == "toyville"
    assert net.line_names == ["Line 1", "Line 2", "Ring", "Line 4"]
    assert net.lines["Line 1"].stations == ("A Station", "B Station", "C Station", "D Station")
    ring = net.lines["Ring"]
    assert ring.loop and len(ring.stations) == 6  # the repeated first station is not a new stop
    assert net.lines_through("B Station") == ["Line 1", "Line 2"]
    assert net.lines_through("Nowhere Station") == []
    assert net.transfer_stations == ["B Station", "C Station", "F Station", "J Station"]
    assert (net.line_count, net.transfer_count, net.difficulty) == (4, 4, "middle")


def test_stops_between_takes_the_short_way_round_a_loop(toy_file):
    net = load_station_file(toy_file)
    assert net.stops_between("Line 1", "D Station", "A Station") == 2
    assert net.stops_between("Ring", "F Station", "J Station") == 1  # F-K-J, not F-G-H-I-J
    ring = net.lines["Ring"]
    assert ring.vias("F Station", "J Station") == [["K Station"]]
    # I is opposite F on a ring of six: both ways are optimal
    assert sorted(ring.vias("F Station", "I Station")) == [["G Station", "H Station"], ["K Station", "J Station"]]


def test_routes_fewest_transfers_then_fewest_stops_with_every_tie(toy_file):
    router = Router(load_station_file(toy_file))
    [direct] = router.routes("A Station", "D Station")
    assert direct.to_sections() == [{"route_name": "Line 1", "departure_stop": "A Station",
                                     "arrival_stop": "D Station", "num_via_stops": 2,
                                     "via_stops": ["B Station", "C Station"]}]
    # A -> F: change at B (1 + 2 stations ridden) or at C (2 + 1): both ride 3, both optimal
    ties = router.routes("A Station", "F Station")
    assert [[(s.route_name, s.departure_stop, s.arrival_stop) for s in r.sections] for r in ties] == [
        [("Line 1", "A Station", "B Station"), ("Line 2", "B Station", "F Station")],
        [("Line 1", "A Station", "C Station"), ("Line 2", "C Station", "F Station")],
    ]
    assert {(r.transfers, r.stops) for r in ties} == {(1, 3)}
    # E -> I: Line 2 to F then either way round the ring
    assert len(router.routes("E Station", "I Station")) == 2
    far = router.routes("A Station", "M Station")
    assert {(r.transfers, r.stops) for r in far} == {(3, 7)}
    assert router.routes("A Station", "M Station", limit=1) == far[:1]
    assert router.transfers("M Station", "A Station") == 3


def test_unreachable_and_bad_route_queries():
    net = network_from_mapping({"X": ["A", "B"], "Y": ["C", "D"]})
    router = Router(net)
    assert router.routes("A", "D") == [] and router.transfers("A", "D") is None
    with pytest.raises(KeyError):
        router.routes("A", "Z")
    with pytest.raises(ValueError):
        router.routes("A", "A")


def test_to_mapping_round_trips_with_markers(toy_file):
    net = load_station_file(toy_file)
    mapping = net.to_mapping()
    assert mapping["Ring"][0] == mapping["Ring"][-1] == "F Station (Transfer Station)"
    assert mapping == json.loads(toy_file.read_text())
    again = network_from_mapping(mapping)
    assert again.to_mapping() == mapping and again.lines == net.lines


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "expected a JSON object mapping line names to station lists, got a list"),
    ("{}", "no lines"),
    ('{"L": []}', "line 'L': empty line (no stations)"),
    ('{"L": "A, B"}', "line 'L': expected a list of station names, got a string"),
    ('{"L": ["A", 3]}', "line 'L': station 2 is a number, expected a string"),
    ('{"L": ["A", " (Transfer Station)"]}', "line 'L': station 2 has an empty name"),
    ('{"L": ["A", "B", "C", "B"]}', "line 'L': station 'B' appears twice (positions 2 and 4)"),
    ('{"L": ["A", "B"], "L": ["C", "D"]}', "line 'L' is defined twice"),
    ('{"L": ["A"]}', "line 'L': a line needs at least two stations"),
    ('{"L": ["A", "B"]', "not valid JSON"),
])
def test_malformed_station_files_give_one_line_errors_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StationFileError) as e:
        load_station_file(path)
    text = str(e.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_lenient_loading_keeps_the_first_of_a_repeated_station():
    net = network_from_mapping({"L": ["A", "B", "C", "B", "D"]}, strict=False)
    assert net.lines["L"].stations == ("A", "B", "C", "D")
    assert len(net.warnings) == 1 and "appears twice" in net.warnings[0]


def test_names_reproduce_the_released_normalisations():
    assert strip_markers("Bologna Station (Branch-starting Station)") == "Bologna Station"
    # clean: Metro/comma/quote removal, Univ/Tech/Road rewrites, Station removal, one trailing 站,
    # brackets, spaces and dashes, lower-case
    assert clean("Metro Univ. of Tech, Road Station") == "universityersityoftechnologylu"
    assert clean("O'Hare (Blue) - North") == "oharenorth"
    assert clean("Asian Games Village") == "yayuncun"
    assert clean("西站站") == "西站" and clean(clean("西站站")) == "西"  # not idempotent
    # eclean keeps "Station" and 站
    assert eclean("Union Station (Transfer Station)") == "unionstation"
    assert eclean("西直门站（换乘站）") == "西直门站"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["(", ")", "（", "）", "a", "站", " "]), max_size=24).map("".join))
def test_drop_brackets_equals_the_released_pattern(text):
    assert drop_brackets(text) == re.sub(r"[(（][^)）]*[)）]", "", text)


def _clean_as_written(text: str) -> str:
    """The released `clean`, transcribed with the plain regexes (slow on long text)."""
    for junk in ("Metro", "metro", ",", "*", "\n", "'"):
        text = text.replace(junk, "")
    for old, new in (("Univ.", "University"), ("Univ", "University"), ("Tech.", "Technology"),
                     ("Tech", "Technology"), ("road", "lu"), ("Road", "lu")):
        text = text.replace(old, new)
    text = text.replace("Station", "").replace("station", "").replace("Asian Games Village", "yayuncun")
    text = text[:-1] if text.endswith("站") else text
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    return re.sub(r"[\s\-]", "", text).lower()


CLEAN_TOKENS = list("( )（）-站 aSMUTr\n\t\u3000\x1c\xa0Σİ,*'") + [
    "Metro", "Univ.", "Tech", "road", "Station", "Asian Games Village"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CLEAN_TOKENS), max_size=150).map("".join))
def test_clean_equals_the_method_file_transcription(text):
    assert clean(text) == _clean_as_written(text)


def test_map_difficulty_thresholds():
    assert [map_difficulty(*c) for c in [(3, 15), (3, 16), (5, 40), (6, 14), (6, 15), (22, 172)]] == [
        "easy", "middle", "middle", "middle", "hard", "hard"]


# --- real station files -----------------------------------------------------------------

def test_every_real_station_file_loads_and_difficulty_splits_ten_ten_ten(real_data):
    levels = {}
    for path in sorted((real_data / "stations").glob("*/*.json")):
        strict = path.stem != "new_york"  # its B and R lines reuse a name for two places
        net = load_station_file(path, strict=strict)
        levels[path.stem] = net.difficulty
    assert len(levels) == 30
    assert sorted(levels.values()).count("easy") == 10
    assert sorted(levels.values()).count("middle") == 10
    assert {c for c, d in levels.items() if d == "hard"} == {
        "changsha", "singapore", "washington", "kl", "xian", "hangzhou", "shenzhen", "shanghai",
        "beijing", "new_york"}
    with pytest.raises(StationFileError, match="new_york.json: line 'B': station '7 Av Station' appears twice"):
        load_station_file(real_data / "stations/america/new_york.json")


def test_golden_routes_on_real_files(real_data):
    rome = load_station_file(real_data / "stations/italy/rome.json")
    [route] = Router(rome).routes("Battistini Station", "Laurentina Station")
    assert [(s.route_name, s.departure_stop, s.arrival_stop, s.num_via_stops) for s in route.sections] == [
        ("Line A", "Battistini Station", "Termini Station", 10),
        ("Line B", "Termini Station", "Laurentina Station", 10)]
    # Bologna starts a branch inside Line B: the order after it is unknown
    line_b = rome.lines["Line B"]
    assert line_b.branch_at == line_b.index["Bologna Station"]
    assert line_b.certain("Laurentina Station", "Bologna Station")
    assert not line_b.certain("Termini Station", "Jonio Station")
    shanghai = load_station_file(real_data / "stations/china/shanghai.json")
    line4 = shanghai.lines["Line 4"]
    assert line4.loop and len(line4.stations) == 26
    assert shanghai.stops_between("Line 4", "宜山路站", "上海体育馆站") == 0  # neighbours across the seam
    assert shanghai.lines_through("人民广场站") == ["Line 1", "Line 2", "Line 8"]


@pytest.mark.parametrize("marker", [" (Branch-starting Station)", "（支线起始站）"])
def test_a_branch_marker_makes_rides_past_it_uncertain(marker):
    """Without the real files: a line listing its main line, then a branch from the marked station,
    fixes the stops up to the marker only; routes and Counting1 questions rely on the known part."""
    net = network_from_mapping({"Line 1": ["A Station", "B Station", f"C Station{marker}", "D Station", "E Station"],
                                "Line 2": ["D Station", "F Station"]}, name="branchy")
    line = net.lines["Line 1"]
    assert line.stations[2] == "C Station" and line.branch_at == 2
    assert line.certain("A Station", "C Station") and line.certain("C Station", "B Station")
    assert not line.certain("B Station", "D Station") and not line.certain("D Station", "E Station")
    [known] = Router(net).routes("A Station", "C Station")
    [unknown] = Router(net).routes("A Station", "E Station")
    assert known.certain and not unknown.certain
    plain = network_from_mapping({"Line 1": ["A Station", "B Station", "C Station", "D Station", "E Station"]})
    assert plain.lines["Line 1"].branch_at is None and plain.lines["Line 1"].certain("A Station", "E Station")


# --- property: routes are valid and optimal on random networks ----------------------------

def _oracle(net, a, b):
    """(transfers, stops) of the best route, by Dijkstra over (station, line) states."""
    big = 10_000
    g = nx.DiGraph()
    for name, line in net.lines.items():
        n = len(line.stations)
        pairs = list(zip(line.stations, line.stations[1:]))
        if line.loop:
            pairs.append((line.stations[-1], line.stations[0]))
        for u, v in pairs:
            g.add_edge((u, name), (v, name), w=1)
            g.add_edge((v, name), (u, name), w=1)
        for s in line.stations:
            g.add_edge("src", (s, name), w=0) if s == a else None
            g.add_edge((s, name), "dst", w=0) if s == b else None
            for other in net.lines_through(s):
                if other != name:
                    g.add_edge((s, name), (s, other), w=big)
        assert n >= 2
    try:
        cost = nx.dijkstra_path_length(g, "src", "dst", weight="w")
    except nx.NetworkXNoPath:
        return None
    return divmod(cost, big)


@settings(max_examples=150, deadline=None)
@given(station_maps(max_stations=14, max_lines=5, max_line_length=8), st.data())
def test_routes_are_valid_and_optimal(mapping, data):
    net = network_from_mapping(mapping)
    a, b = data.draw(st.lists(st.sampled_from(net.stations), min_size=2, max_size=2, unique=True))
    routes = Router(net).routes(a, b, limit=50)
    best = _oracle(net, a, b)
    if best is None:
        assert routes == []
        return
    assert routes, "a reachable pair must have a route"
    for route in routes:
        assert (route.transfers, route.stops) == best
        at = a
        for s in route.sections:
            line = net.lines[s.route_name]
            assert s.departure_stop == at and s.arrival_stop in line
            assert list(s.via_stops) in line.vias(s.departure_stop, s.arrival_stop)
            assert s.num_via_stops == len(s.via_stops)
            at = s.arrival_stop
        assert at == b
    assert len(set(routes)) == len(routes)


# --- one-line errors, as `network_from_mapping` words them --------------------------------

NO_SOURCE = "<station data>"
TWICE = "only a loop may repeat a station, its first one at its end"


@pytest.mark.parametrize("data, message", [
    (None, "expected a JSON object mapping line names to station lists, got null"),
    (("L",), "expected a JSON object mapping line names to station lists, got tuple"),
    ({"  ": ["A", "B"]}, "line name '  ' is empty or not a string"),
    ({1: ["A", "B"]}, "line name 1 is empty or not a string"),
    ({"L\x07": ["A", "B"]}, "line name 'L\\x07': holds the control character U+0007"),
    ({"L": None}, "line 'L': expected a list of station names, got null"),
    ({"L": {"A": "B"}}, "line 'L': expected a list of station names, got an object"),
    ({"L": ["A", True]}, "line 'L': station 2 is a boolean, expected a string"),
    ({"L": ["A", 1.5]}, "line 'L': station 2 is a number, expected a string"),
    ({"L": ["A", "B\x1b"]}, "line 'L': station 2 'B\\x1b': holds the control character U+001B"),
    ({"L": ["A", "B\u2028"]}, "line 'L': station 2 'B\\u2028': holds the control character U+2028"),
    ({"L": ["A", "B\u2029"]}, "line 'L': station 2 'B\\u2029': holds the control character U+2029"),
    ({"L": ["A", "B\u202e"]}, "line 'L': station 2 'B\\u202e': holds the control character U+202E"),
    ({"L": ["A", "B\ud800"]}, "line 'L': station 2 'B\\ud800': holds an unpaired surrogate (not text)"),
    # the answer's markers in any case: a model may write them either way
    ({"L": ["A", "x departure stop: y"]},
     "line 'L': station 2 'x departure stop: y': holds 'Departure Stop:', which route answers use as structure"),
    ({"VIA STOPS: L": ["A", "B"]},
     "line name 'VIA STOPS: L': holds 'Via Stops:', which route answers use as structure"),
    # strict by default; three entries are too few for a loop, so the first one is repeated
    ({"L": ["A", "B", "A"]}, f"line 'L': station 'A' appears twice (positions 1 and 3); {TWICE}"),
])
def test_bad_station_data_is_refused_with_its_exact_message(data, message):
    with pytest.raises(StationFileError) as e:
        network_from_mapping(data)
    assert str(e.value) == f"{NO_SOURCE}: {message}"


def test_errors_name_the_source_else_the_city():
    with pytest.raises(StationFileError, match=r"^oslo: no lines$"):
        network_from_mapping({}, name="oslo")
    with pytest.raises(StationFileError, match=r"^/data/oslo\.json: no lines$"):
        network_from_mapping({}, name="oslo", source="/data/oslo.json")
    net = network_from_mapping({"L": ["A", "B"]})
    assert (net.name, net.source) == ("", None)
    assert repr(Network([Line("L", ("A", "B"))])) == "Network('', 1 lines, 2 stations)"


def test_station_file_read_errors_name_the_file(tmp_path, monkeypatch):
    missing = tmp_path / "missing.json"
    with pytest.raises(StationFileError) as e:
        load_station_file(missing)
    assert str(e.value) == f"{missing}: station file is not a regular file"
    path = tmp_path / "oslo.json"
    path.write_text(json.dumps({"L": ["A", "B"]}), encoding="utf-8")
    assert load_station_file(path).source == str(path)

    def unreadable(*args):
        raise PermissionError("denied")
    monkeypatch.setattr(loading, "read_capped", unreadable)
    with pytest.raises(StationFileError) as e:
        load_station_file(path)
    assert str(e.value) == f"{path}: cannot read station file (PermissionError: denied)"


# --- lenient loading, loops, branches, released names -------------------------------------

@pytest.mark.parametrize("entries, stations, loop, repeats", [
    (["A", "B", "C", "A"], ("A", "B", "C"), True, 0),
    (["A", "B", "A"], ("A", "B"), False, 1),  # too short for a loop
    (["A", "A", "B", "C", "A"], ("A", "B", "C"), False, 2),  # the first also in the middle: no loop
    (["A", "B", "C", "A", "A"], ("A", "B", "C"), False, 2),
])
def test_only_the_first_station_closing_a_line_makes_a_loop(entries, stations, loop, repeats):
    net = network_from_mapping({"L": entries}, strict=False)
    line = net.lines["L"]
    assert (line.stations, line.loop, len(net.warnings)) == (stations, loop, repeats)


def test_a_lenient_repeat_is_warned_about_in_full():
    net = network_from_mapping({"L": ["A", "B", "C", "B", "D"]}, strict=False)
    assert net.warnings == [f"{NO_SOURCE}: line 'L': station 'B' appears twice (positions 2 and 4); {TWICE}; "
                            "kept the first"]


BRANCH = " (Branch-starting Station)"


@pytest.mark.parametrize("entries, branch_at", [
    # a repeat dropped before the marked station must not shift its index (it used to: E)
    (["A", "B", "C", "B", f"D{BRANCH}", "E"], 3),
    (["A", "B", "C", f"B{BRANCH}", "D"], 1),  # marked on a dropped repeat: where that station is kept
    (["A", "B", "C", "D", f"A{BRANCH}"], None),  # on a loop's closing entry: nothing listed after it
    ([f"A{BRANCH}", "B", "C", "A"], 0),
])
def test_the_branch_index_points_at_the_marked_station(entries, branch_at):
    line = network_from_mapping({"L": entries}, strict=False).lines["L"]
    assert line.branch_at == branch_at


def test_released_names_are_kept_only_where_the_released_code_reads_them_differently():
    line = network_from_mapping({"L": ["东管头南站 （换乘站）", "Court St Station(Transfer Station)",
                                       "Union Station (Transfer Station)", "乙站（换乘站）"]}).lines["L"]
    assert line.stations == ("东管头南站", "Court St Station", "Union Station", "乙站")
    assert line.released == {"东管头南站": "东管头南站 ", "Court St Station": "Court St Station(Transfer Station)"}


def test_to_mapping_writes_chinese_and_english_markers():
    mapping = {"1号线": ["甲站", "乙站（换乘站）（支线起始站）", "丙站", "丁站"],
               "2号线": ["乙站（换乘站）", "戊站"],
               "Line A": ["Alpha", "Bravo Station (Branch-starting Station)", "Charlie"]}
    net = network_from_mapping(mapping)
    assert net.to_mapping() == mapping
    assert net.to_mapping(markers=False) == {"1号线": ["甲站", "乙站", "丙站", "丁站"], "2号线": ["乙站", "戊站"],
                                             "Line A": ["Alpha", "Bravo Station", "Charlie"]}


def test_a_ride_from_a_station_to_itself():
    ring = network_from_mapping({"Ring": ["A", "B", "C", "D", "A"]}).lines["Ring"]
    assert ring.rides("C", "C") == [[], ["D", "A", "B"]]
    assert ring.rides("B", "D") == ring.rides("D", "B") == [["C"], ["A"]]


# --- routing: ties across line sequences, the default limit, messages ----------------------

def test_ties_between_line_sequences_are_all_kept():
    # A lies between X and Y on L1; Z is on L2 (from X) and L3 (from Y), one stop from each
    router = Router(network_from_mapping({"L1": ["X", "A", "Y"], "L2": ["X", "Z"], "L3": ["Y", "Z"]}))
    routes = router.routes("A", "Z")
    assert [[s.route_name for s in r.sections] for r in routes] == [["L1", "L2"], ["L1", "L3"]]


def test_at_most_sixteen_routes_by_default():
    # L1 and L2 share 17 stations in the same order: changing at any of them rides 18 stations
    shared = [f"S{i:02d}" for i in range(17)]
    router = Router(network_from_mapping({"L1": ["A", *shared], "L2": [*shared, "Z"]}))
    assert len(router.routes("A", "Z", limit=50)) == 17
    assert router.routes("A", "Z") == router.routes("A", "Z", limit=50)[:16]


def test_route_query_errors_say_what_is_wrong():
    router = Router(network_from_mapping({"L": ["A", "B"]}))
    with pytest.raises(KeyError, match="unknown station 'Z'"):
        router.routes("A", "Z")
    with pytest.raises(ValueError, match="^departure and arrival are the same station$"):
        router.routes("B", "B")


# --- names: the normalisations on text past eclean's memo, and clean's lower-case words ------

# A piece whose brackets close, so the normalisation of N copies is N copies of its normalisation.
ECLEAN_PIECE = "Metro Line-2 (Transfer Station), metro*North\nSTATION XX\nXX"


def test_eclean_of_long_text():
    text = ECLEAN_PIECE * 12  # past 256 characters: not memoised
    assert len(text) > 256
    assert eclean(text) == "line2northstationxxxx" * 12


@pytest.mark.parametrize("text, cleaned", [
    ("metro Line", "line"),
    ("Main station", "main"),
    ("Main Stat\nion", "main"),  # a line break goes before the words are matched
    ("Uni\nv. Road", "universityersitylu"),
])
def test_clean_lower_case_words(text, cleaned):
    assert clean(text) == cleaned
