"""ReasonMap evaluation metrics (as released): every rule with its arithmetic."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardmap.errors import InputError
from rewardmap.metrics import (
    china_line_name,
    evaluate_predictions,
    map_score,
    mapped_line_name,
    parse_route_answer,
    route_correct,
    score_route_record,
    summarize,
    weight,
)
from rewardmap.answers.route_eval import _parse_memo
from rewardmap.network import clean, load_station_file, network_from_mapping
from rewardmap.network import files as station_files


@pytest.fixture(autouse=True)
def fresh_parses():
    """Each test parses its answers afresh: answers remembered from an earlier test (or, under
    mutation testing, from the run before the code changed) would hide what the parser does now."""
    _parse_memo.cache_clear()

# A Chinese toy city: 甲 -> 辛 rides Line 1, Line 2, then 房山线 (three sections).
CN = {
    "Line 1": ["甲站", "乙站（换乘站）", "丙站", "丁站"],
    "Line 2": ["戊站", "乙站（换乘站）", "己站（换乘站）"],
    "房山线": ["己站（换乘站）", "庚站", "辛站"],
}
CN_PLAN = [  # map-API style, as in the official data: no 站, line names with numbers
    {"route_name": "地铁1号线(甲--丁)", "departure_stop": "甲", "arrival_stop": "乙",
     "num_via_stops": 0, "via_stops": []},
    {"route_name": "地铁02号线(戊--己)", "departure_stop": "乙", "arrival_stop": "己",
     "num_via_stops": 0, "via_stops": []},
    {"route_name": "地铁房山线(己--辛)", "departure_stop": "己", "arrival_stop": "辛",
     "num_via_stops": 1, "via_stops": ["庚"]},
]
# A city elsewhere: North -> Far rides Line A, then Line B (one via stop, West).
EN = {
    "Line A": ["North Station", "Hub Station (Transfer Station)", "South Station"],
    "Line B": ["East Station", "Hub Station (Transfer Station)", "West Station", "Far Station"],
}
EN_PLAN = [
    {"route_name": "A", "departure_stop": "North", "arrival_stop": "Hub", "num_via_stops": 0, "via_stops": []},
    {"route_name": "B", "departure_stop": "Hub", "arrival_stop": "Far", "num_via_stops": 1, "via_stops": ["West"]},
]
COUNT_Q = "How do I get there? ... Number of Via Stops: <n> ..."
LIST_Q = "How do I get there? ... Via Stops: <stops> ..."


def cn_record(**kw):
    return {"country": "china", "city": "toycity", "station_1": "甲站", "station_2": "辛站",
            "json": CN, "routes": {"plan 1": CN_PLAN}, "question_long": COUNT_Q, **kw}


def en_record(**kw):
    return {"country": "testland", "city": "testville", "station_1": "North Station",
            "station_2": "Far Station", "json": EN, "routes": [EN_PLAN], "question_long": COUNT_Q, **kw}


def answer(*sections, extra=None, end="\n"):
    """Sections (name, departure, arrival) joined the requested way; `extra`: one long line each."""
    blocks = []
    for i, (name, dep, arr) in enumerate(sections):
        lines = [f"Route Name: {name}", f"Departure Stop: {dep}", f"Arrival Stop: {arr}"]
        if extra:
            lines.append(extra[i])
        blocks.append("\n".join(lines))
    return "\n--\n".join(blocks) + end


CN_ROUTE = [("Line 1", "甲站", "乙站"), ("Line 2", "乙站", "己站"), ("房山线", "己站", "辛站")]
EN_ROUTE = [("Line A", "North Station", "Hub Station"), ("Line B", "Hub Station", "Far Station")]


def score(record, short, long=""):
    return score_route_record(record, short, long)


# --- parsing ---------------------------------------------------------------------------

def test_parsing_uses_eclean_not_the_rewards_clean():
    s = parse_route_answer(answer(("Line 2", "Union Station (Transfer Station)", "王府井站")))[0]
    # eclean keeps "Station" and 站 and expands nothing; clean would drop both.
    assert (s.departure, s.arrival) == ("unionstation", "王府井站")
    assert clean("Union Station") == "union" and clean("王府井站") == "王府井"
    # So an answer saying "North Station" for station_1 "North" misses the endpoint: 0 points.
    assert score(en_record(station_1="North"), answer(*EN_ROUTE)) == \
        {"acc_short": 0, "map_score_short": 0, "acc_long": 0, "map_score_long": 0}


def test_parsed_stops_are_cleaned_twice_and_reference_names_once():
    # "Met ro Hub Station" -> parse: "metrohubstation" -> compare: "metro" deleted -> "hubstation",
    # which equals eclean("Hub Station") once: the second pass makes the transfer station match.
    route = [("Line A", "North Station", "Met ro Hub Station"), ("Line B", "Met ro Hub Station", "Far Station")]
    assert parse_route_answer(answer(*route))[0].arrival == "metrohubstation"
    assert score(en_record(), answer(*route))["acc_short"] == 1
    # station_1 is cleaned once: "Met ro North Station" as station_1 never matches.
    assert score(en_record(station_1="Met ro North Station"), answer(*EN_ROUTE))["acc_short"] == 0


def test_a_section_needs_all_three_labels_case_sensitively():
    text = answer(*EN_ROUTE)
    assert len(parse_route_answer(text)) == 2
    assert len(parse_route_answer(text.replace("Route Name:", "route name:", 1))) == 1
    assert len(parse_route_answer(text.replace("Arrival Stop:", "Arrival:"))) == 0
    assert parse_route_answer("-- \n --") == []


def test_fields_need_one_space_and_a_newline_else_wrong():
    s = parse_route_answer("Route Name:Line A\nArrival Stop: X\nDeparture Stop: North Station")[0]
    # No space after "Route Name:" and no newline after the departure: both "Wrong".
    assert (s.name, s.departure) == ("Wrong", "Wrong")
    # the short arrival: all after "Arrival Stop:", stripped, eclean'd (newline and spaces deleted)
    assert s.arrival == "xdeparturestop:northstation"
    # An empty name is read as "" (the pattern matched), not "Wrong".
    assert parse_route_answer("Route Name: \nDeparture Stop: a\nArrival Stop: b")[0].name == ""


def test_short_arrival_swallows_the_following_lines():
    text = "Route Name: Line B\nDeparture Stop: Hub Station\nArrival Stop: Far Station\nNumber of Via Stops: 1\n"
    # everything after the last "Arrival Stop:", stripped, then eclean: newlines and spaces gone
    assert parse_route_answer(text)[0].arrival == "farstationnumberofviastops:1"
    assert parse_route_answer(text, long=True, via="count")[0].arrival == "farstation"


def test_long_arrival_needs_a_newline():
    text = answer(*EN_ROUTE, end="")
    assert parse_route_answer(text, long=True, via="count")[-1].arrival == "Wrong"
    # so the last arrival never matches station_2: long scores 0 while short is correct
    assert score(en_record(), text, text) == {"acc_short": 1, "map_score_short": 15,
                                               "acc_long": 0, "map_score_long": 0}


def test_via_count_is_the_first_integer_after_the_last_label_else_in_the_whole_section():
    def count(section):
        return parse_route_answer(section, long=True, via="count")[0].via_count
    base = "Route Name: Line 5\nDeparture Stop: a\nArrival Stop: b\n"
    assert count(base + "Number of Via Stops: about 3 or 4\n") == 3
    assert count(base + "Number of Via Stops: 1\nNumber of Via Stops: 7\n") == 7
    assert count(base + "Number of Via Stops: none\n") == 0
    assert count(base + "Number of Via Stops: ٣\n") == 3  # any Unicode decimal digit, as \d reads
    assert count(base) == 5  # label absent: the whole section, whose first integer is the 5 of Line 5
    assert count(base + "Number of Via Stops:7\n") == 5  # the label needs its space
    assert count(base + "Number of Via Stops: " + "9" * 5000) == float("inf")  # too long for int()


def test_via_list_is_split_only_with_站_and_pieces_stay_raw():
    def vias(section, variant="reference"):
        return parse_route_answer(section, long=True, via="list", variant=variant)[0].via_list
    base = "Route Name: Line 1\nDeparture Stop: 甲站\nArrival Stop: 丙站\n"
    assert vias(base + "Via Stops: 乙站, 丁站\n") == ("乙站", " 丁站")  # leading space kept
    assert vias(base + "Via Stops: Hub, West\n") == ()  # no 站: nothing listed
    # Label absent: the whole section (which has 站) split on commas.
    assert vias(base) == (base.strip(),)
    assert vias(base + "Via Stops: 乙站， 丁站、戊站\n", "robust") == ("乙站", "丁站", "戊站")


def test_robust_parsing_repairs_the_quirks():
    text = ("<think>Route Name: Line 9\nDeparture Stop: x\nArrival Stop: y</think>"
            "**route name:** Line A\nDEPARTURE STOP:North Station\narrival stop: Hub Station\n"
            "Number of Via Stops: 0\n--\n"
            "Route Name: Line B\nDeparture Stop: Hub Station\nArrival Stop: Far Station\n"
            "Number of Via Stops: 1")
    ref = parse_route_answer(text, long=True, via="count")
    robust = parse_route_answer(text, long=True, via="count", variant="robust")
    assert [s.name for s in ref] == ["Line 9", "Line B"]  # the thinking part's section was read
    assert [(s.name, s.departure, s.arrival, s.via_count) for s in robust] == [
        ("Line A", "northstation", "hubstation", 0), ("Line B", "hubstation", "farstation", 1)]
    # the reference reads the thinking part's section first: the endpoints fail, everything is 0
    assert set(score_route_record(en_record(), text, text).values()) == {0}
    # short answers: the arrival stops at its line end; via list not read inside the count label
    short = parse_route_answer(text, variant="robust")
    assert short[0].arrival == "hubstation"
    missing = parse_route_answer("Route Name: 1\nDeparture Stop: a\nArrival Stop: b\nNumber of Via Stops: 2",
                                 long=True, via="list", variant="robust")
    assert missing[0].via_list == ()
    assert parse_route_answer("Route Name: 1\nDeparture Stop: a\nArrival Stop: b",
                              long=True, via="count", variant="robust")[0].via_count is None
    # thinking never closed: no answer was given (the rule of the robust reward too)
    unclosed = "<think>Route Name: Line A\nDeparture Stop: North Station\nArrival Stop: Hub Station"
    assert parse_route_answer(unclosed, variant="robust") == []
    assert len(parse_route_answer(unclosed)) == 1  # the reference reads it all
    # and the robust long score of that answer: +1, +0 +0 names (Line Li), 4 stops, 4 + 4 via = 13, +20
    record = en_record()
    assert score_route_record(record, text, text, "robust") == {
        "acc_short": 1, "map_score_short": 15, "acc_long": 1, "map_score_long": 33.0}
    with pytest.raises(ValueError, match="variant"):
        parse_route_answer(text, variant="lenient")


# --- accuracy ---------------------------------------------------------------------------

def test_accuracy_checks_endpoints_lines_stops_and_transfers_only():
    net = network_from_mapping(EN)
    def correct(route, s1="North Station", s2="Far Station"):
        return route_correct(parse_route_answer(answer(*route)), net, s1, s2)
    assert correct(EN_ROUTE)
    # not optimal, riding Line B away and back: order and optimality are not checked
    assert correct([EN_ROUTE[0], ("Line B", "Hub Station", "East Station"),
                    ("Line B", "East Station", "Far Station")])
    assert not correct([EN_ROUTE[0], ("Line B", "West Station", "Far Station")])  # transfer breaks
    assert not correct([("Line A", "North Station", "Hub Station"), ("Line A", "Hub Station", "Far Station")])
    assert not correct([("line a", *EN_ROUTE[0][1:]), EN_ROUTE[1]])  # line names compared exactly
    assert not correct(EN_ROUTE, s2="West Station")
    assert not route_correct([], net, "North Station", "Far Station")


def test_baton_and_daxing_names_count_as_line_1_and_4_in_accuracy_only():
    net = network_from_mapping({"Line 1": ["甲站", "乙站"], "Line 4": ["乙站", "丙站"]})
    def correct(name1, name2):
        return route_correct(parse_route_answer(answer((name1, "甲站", "乙站"), (name2, "乙站", "丙站"))),
                             net, "甲站", "丙站")
    assert correct("八通线", "大兴线")
    assert correct("Line 1", "地铁大兴线")
    assert not correct("八通线", "八通线")  # the second section is on Line 4, not Line 1
    # both words: after 八通 the name is "Line 1", in which 大兴 is then looked for in vain
    assert correct("八通大兴线", "大兴线")


# --- map score, short -------------------------------------------------------------------

def test_china_line_names_of_the_plan():
    assert china_line_name("地铁02号线(西直门--西直门)") == "Line 2"  # integer, leading zero dropped
    assert china_line_name("地铁2号线(8号线)") == "Line 2"  # the first integer
    assert china_line_name("地铁昌平线(昌平西山口--西土城)") == "昌平线"  # (...) and 地铁 removed
    # full-width brackets are kept
    assert china_line_name("地铁昌平线（昌平西山口--西土城）") == "昌平线（昌平西山口--西土城）"
    assert china_line_name("首都机场线") == "首都机场线"


def test_china_short_score_arithmetic():
    # +1 endpoints; per section +2 line ("地铁1号线" -> "Line 1", "地铁02号线" -> "Line 2",
    # "地铁房山线(..)" -> "房山线") +1 dep +1 arr (站 appended) = 4 each: 1 + 12 = 13 -> cap 10;
    # correct -> 10 + 10 = 20.
    assert score(cn_record(), answer(*CN_ROUTE))["map_score_short"] == 20
    # country is compared exactly: "China" is elsewhere, where the answer's names are mapped
    # ("Line 1" -> "Line Li": +0, "房山线" unchanged: +2) and " Station" appended ("甲 Station"):
    # +1 + 2 = 3, correct -> 13
    assert score(cn_record(country="China"), answer(*CN_ROUTE))["map_score_short"] == 13
    # "2号线" is not "Line 2" (only the plan's name is mapped in China):
    two = answer(("Line 1", "甲站", "乙站"), ("2号线", "乙站", "辛站"))
    # endpoints +1; sec 1: +2 +1 +1; sec 2: +0 line, +1 dep, +0 arr (己站 expected) = 6; wrong line -> not correct
    assert score(cn_record(), two) == {"acc_short": 0, "map_score_short": 6, "acc_long": 0, "map_score_long": 0}


def test_cap_of_10_comes_before_the_bonus():
    wrong_last_line = answer(*CN_ROUTE[:2], ("Line 1", "己站", "辛站"))
    # 1 + 4 + 4 + (0 + 1 + 1) = 11 -> cap 10; not correct (Line 1 has no 己站) -> 10
    assert score(cn_record(), wrong_last_line)["map_score_short"] == 10


def test_outside_china_the_mapping_reads_the_answers_own_name():
    # +1 endpoints; names: "Line A" -> "Line Li" != "Line A": +0; stops +1 +1 per section -> 5; correct: 15
    assert score(en_record(), answer(*EN_ROUTE))["map_score_short"] == 15
    # a name without ASCII letters or digits is left as it is, so it "matches": +2 (but is not a line)
    red = answer(("红线", "North Station", "Hub Station"), EN_ROUTE[1])
    assert score(en_record(), red) == {"acc_short": 0, "map_score_short": 7, "acc_long": 0, "map_score_long": 0}
    # as does "Line Li" itself, and an empty name
    assert score(en_record(), answer(("Line Li", *EN_ROUTE[0][1:]), ("", *EN_ROUTE[1][1:])))["map_score_short"] == 9


@pytest.mark.parametrize("name, city, mapped", [
    ("Metro A Line", "los_angeles", "Line A"),
    ("Metro B-Line", "los_angeles", "Line B"),
    ("metro c line", "los_angeles", "Line c"),  # case-insensitive, the match kept as written
    ("Metro 12", "x", "Line 12"),
    ("Linea C", "rome", "Line C"),
    ("Line B", "rome", "Line Li"),  # the first 1-2 letters or digits anywhere
    ("B1", "rome", "Line B"),  # rome: B1 -> B
    ("B1", "milan", "Line B1"),
    ("b1", "rome", "Line b1"),
    ("M1-es Metróvonal", "budapest", "Line M1"),
    ("West", "auckland", "Line We"),  # the auckland, dubai and kl rules are never reached
    ("MRed2", "dubai", "Line MR"),
    ("Ampang Line", "kl", "Line Am"),
    ("5 Train", "new_york", "Line 5"),
    ("红线", "x", "红线"),
    ("２号線", "x", "２号線"),  # full-width digits are not [A-Za-z0-9]
    ("", "x", ""),
])
def test_line_name_rules_elsewhere(name, city, mapped):
    assert mapped_line_name(name, city) == mapped


def test_station_suffix_and_the_departure_quirk_outside_china():
    plan = [dict(s, departure_stop=s["departure_stop"] + " Station", arrival_stop=s["arrival_stop"] + " Station")
            for s in EN_PLAN]
    # Plan departures already end with "Station", so each plan ARRIVAL is taken to be its departure:
    # +1; sec 1: +1 dep, arr "Hub Station" vs "North Station" +0; sec 2: +1, +0 -> 3; correct -> 13
    assert score(en_record(routes=[plan]), answer(*EN_ROUTE))["map_score_short"] == 13
    # the long path outside China has the same quirk: 3 route points + 4 via (0 == 0) + 4 (1 == 1) = 11, +20
    long = answer(*EN_ROUTE, extra=["Number of Via Stops: 0", "Number of Via Stops: 1"])
    assert score(en_record(routes=[plan]), long, long)["map_score_long"] == 31
    # "Station" without the space also counts as the suffix (the released code tests
    # endswith("Station")): "NorthStation" stays as it is and is also the arrival
    glued = [dict(EN_PLAN[0], departure_stop="NorthStation"), EN_PLAN[1]]
    north_twice = answer(("Line A", "North Station", "North Station"), EN_ROUTE[1])
    # +1; sec 1: +1 dep, +1 arr ("NorthStation" == "North Station" after eclean); sec 2: +1 +1 = 5;
    # not correct (North Station is no transfer to Hub Station) -> 5
    assert score(en_record(routes=[glued]), north_twice)["map_score_short"] == 5


def test_station_suffix_and_the_departure_quirk_in_china():
    plan = [dict(s, departure_stop=s["departure_stop"] + "站") for s in CN_PLAN]
    two = [plan[0], dict(plan[1], arrival_stop="辛")]
    # Short: the departures end with 站, so each arrival is taken to be the departure:
    # +1; sec 1: +2 +1 +0; sec 2: +2 +1 +0 = 7; correct -> 17 (19 without the quirk)
    route = answer(CN_ROUTE[0], ("Line 2", "乙站", "辛站"))
    graph = dict(CN, **{"Line 2": ["戊站", "乙站（换乘站）", "辛站"]})
    assert score(cn_record(json=graph, routes=[two]), route)["map_score_short"] == 17
    # Long in China tests the arrival itself: +1; 2 x (2 + 1 + 1) = 9 route points + 2 x 4 via = 17 -> +20
    long = answer(CN_ROUTE[0], ("Line 2", "乙站", "辛站"), extra=["Number of Via Stops: 0"] * 2)
    assert score(cn_record(json=graph, routes=[two]), long, long)["map_score_long"] == 37


def test_best_plan_and_ties():
    other = [dict(EN_PLAN[0], departure_stop="Nowhere"), EN_PLAN[1]]  # one stop point fewer
    sections = parse_route_answer(answer(*EN_ROUTE))
    kw = dict(country="testland", city="testville", station_1="North Station",
              station_2="Far Station", correct=True)
    # plan 0: 15, plan 1: 14 -> the best is kept whatever the order
    best = map_score(sections, [EN_PLAN, other], **kw)
    assert (best.total, best.plan) == (15, 0)
    assert map_score(sections, [other, EN_PLAN], **kw).plan == 1
    # equal scores: the later plan replaces the earlier one
    assert map_score(sections, [EN_PLAN, list(EN_PLAN)], **kw).plan == 1
    # endpoints wrong: every plan scores 0, the last is kept
    assert map_score(sections, [EN_PLAN, other], **dict(kw, station_1="X", correct=False)).plan == 1
    assert map_score([], [EN_PLAN], **kw).total == 0


def test_sections_are_zipped_in_order():
    # Three answer sections against a two-section plan: only the first two are compared.
    three = answer(EN_ROUTE[0], ("Line B", "Hub Station", "East Station"), ("Line B", "East Station", "Far Station"))
    # +1; sec 1: +1 +1; sec 2 vs plan B (Hub -> Far): +1 dep, +0 arr -> 4; correct (not optimal) -> 14
    assert score(en_record(), three)["map_score_short"] == 14
    # One section against two: the plan's second section is never looked at.
    one = answer(("Line A", "North Station", "Far Station"))
    # +1; +1 dep, +0 arr (Hub) -> 2; incorrect (Far is not on Line A)
    assert score(en_record(), one)["map_score_short"] == 2


def test_no_parsed_section_scores_zero():
    assert score(en_record(), "I cannot read this map.", "") == \
        {"acc_short": 0, "map_score_short": 0, "acc_long": 0, "map_score_long": 0}


# --- map score, long --------------------------------------------------------------------

@pytest.mark.parametrize("counts, expected", [
    # plan counts 0, 0, 1; route points: +1 + 3 x 4 = 13
    (("0", "0", "1"), 20 + 20),  # 13 + 12 -> cap 10 -> 23 -> cap 20 -> +20
    (("0", "0", "3"), 20 + 20),  # 4 + 4 + max(0, 4 - 2/1*4) = 8 -> 21 -> 20
    (("1", "1", "1"), 17 + 20),  # n_ref 0 and n != 0: 0, 0; equal: 4 -> 13 + 4 = 17
])
def test_via_count_terms_with_the_cap(counts, expected):
    long = answer(*CN_ROUTE, extra=[f"Number of Via Stops: {c}" for c in counts])
    assert score(cn_record(), "", long)["map_score_long"] == expected


def test_via_count_sum_is_capped_at_10():
    # wrong names and most stops wrong: +1 endpoints, sec 1: +1 dep, sec 3: +1 arr = 3 route points;
    # via counts all equal: 4 + 4 + 4 = 12 -> 10; 3 + 10 = 13, not correct
    long = answer(("Line 9", "甲站", "丙站"), ("Line 9", "丙站", "庚站"), ("Line 9", "庚站", "辛站"),
                  extra=["Number of Via Stops: 0", "Number of Via Stops: 0", "Number of Via Stops: 1"])
    assert score(cn_record(), "", long)["map_score_long"] == 13


def test_via_count_term_arithmetic():
    plan = [dict(EN_PLAN[0], num_via_stops=2), dict(EN_PLAN[1], num_via_stops=4)]
    def long_score(n1, n2):
        text = answer(*EN_ROUTE, extra=[f"Number of Via Stops: {n1}", f"Number of Via Stops: {n2}"])
        return score(en_record(routes=[plan]), "", text)["map_score_long"]
    # route points: +1 + 0 names + 4 stops = 5, correct +20
    assert long_score(2, 4) == 5 + 4 + 4 + 20
    assert long_score(3, 5) == 5 + (4 - 1 / 2 * 4) + (4 - 1 / 4 * 4) + 20  # 2 + 3
    assert long_score(5, 0) == 5 + 0 + 0 + 20  # max(0, 4 - 3/2*4) = 0; 4 - 4/4*4 = 0
    as_text = [dict(EN_PLAN[0], num_via_stops="2"), dict(EN_PLAN[1], num_via_stops=4.0)]  # read with int()
    assert score(en_record(routes=[as_text]), "", answer(*EN_ROUTE, extra=[
        "Number of Via Stops: 2", "Number of Via Stops: 4"]))["map_score_long"] == 5 + 4 + 4 + 20
    zero = [dict(EN_PLAN[0], num_via_stops=0), EN_PLAN[1]]
    text = answer(*EN_ROUTE, extra=["Number of Via Stops: 1", "Number of Via Stops: 1"])
    assert score(en_record(routes=[zero]), "", text)["map_score_long"] == 5 + 0 + 4 + 20  # n_ref 0 -> 0


def test_via_list_term_in_china():
    # Plan via stops: [], [], ["庚"] -> with 站 appended: [], [], ["庚站"].
    vias = ["Via Stops: ", "Via Stops: ", "Via Stops: 庚站, 辛站"]
    long = answer(*CN_ROUTE, extra=vias)
    # count: "庚站" found, "辛站" not -> 1; IoU over sections whose names matched (all three):
    # union {庚站, 辛站}, intersection {庚站} -> 1/2; term (0.5 * 10 + 1) / 2 = 3.
    # route points 13 + 3 = 16, correct -> 36
    assert score(cn_record(question_long=LIST_Q), "", long)["map_score_long"] == 36
    # raw pieces: " 庚站" (after ", ") does not count, and the IoU sees it as another stop
    long = answer(*CN_ROUTE, extra=vias[:2] + ["Via Stops: 辛站, 庚站"])
    # count 0; union {庚站, 辛站, " 庚站"}, intersection {} -> term 0 -> 13 + 20
    assert score(cn_record(question_long=LIST_Q), "", long)["map_score_long"] == 33


def test_via_list_count_is_capped_at_10():
    stations = [f"{c}站" for c in "甲乙丙丁戊己庚辛壬癸子丑寅"]  # 13 stations, 11 between the ends
    record = cn_record(json={"Line 1": stations}, station_2="寅站", question_long=LIST_Q, routes=[[
        {"route_name": "地铁1号线", "departure_stop": "甲", "arrival_stop": "寅", "num_via_stops": 11,
         "via_stops": [s[0] for s in stations[1:-1]]}]])
    long = answer(("Line 1", "甲站", "寅站"), extra=["Via Stops: " + ",".join(stations[1:-1])])
    # route points 1 + 4 = 5; 11 found -> 10; IoU 1 -> (10 + 10) / 2 = 10; 15, correct -> 35
    assert score(record, "", long)["map_score_long"] == 35


def test_via_list_iou_uses_only_sections_whose_line_names_matched():
    plan = [dict(CN_PLAN[0], arrival_stop="丙", num_via_stops=1, via_stops=["乙站"]),
            dict(CN_PLAN[2], departure_stop="丙", via_stops=["庚"])]
    graph = {"Line 1": ["甲站", "乙站", "丙站"], "房山线": ["丙站", "庚站", "辛站"]}
    record = cn_record(json=graph, routes=[plan], question_long=LIST_Q)
    long = answer(("1号线", "甲站", "丙站"), ("房山线", "丙站", "辛站"),
                  extra=["Via Stops: 乙站", "Via Stops: 己站"])
    # endpoints +1; sec 1: "1号线" != "Line 1" +0, +1 +1; sec 2: +2 +1 +1 -> 7 route points.
    # count: 乙站 found (section 1) -> 1. IoU from section 2 only: {庚站} | {己站}, no common -> 0.
    # term (0 + 1) / 2 = 0.5; not correct ("1号线" is no line of the file) -> 7.5
    assert score(record, "", long)["map_score_long"] == 7.5


def test_via_list_earns_nothing_outside_china():
    long = answer(*EN_ROUTE, extra=["Via Stops: ", "Via Stops: West Station"])
    # +1 + 4 stop points = 5, via list 0 (also with 站 in it), correct -> 25
    assert score(en_record(question_long=LIST_Q), "", long)["map_score_long"] == 25
    long = answer(*EN_ROUTE, extra=["Via Stops: ", "Via Stops: West站"])
    assert score(en_record(question_long=LIST_Q, routes=[[EN_PLAN[0], dict(EN_PLAN[1], via_stops=["West"])]]),
                 "", long)["map_score_long"] == 25


def test_long_cap_of_20_then_bonus():
    # a 3-section answer over the plan's lines, the last section on the wrong line:
    # +1 + 4 + 4 + (0 + 1 + 1) = 11 route points + 4 + 4 + 4 = 23 -> cap 20; not correct -> 20
    long = answer(*CN_ROUTE[:2], ("Line 1", "己站", "辛站"),
                  extra=["Number of Via Stops: 0", "Number of Via Stops: 0", "Number of Via Stops: 1"])
    assert score(cn_record(), "", long)["map_score_long"] == 20


def test_record_shapes():
    # routes as a list or an object (None plans skipped), json as an object or a Network
    net = network_from_mapping(EN)
    short = answer(*EN_ROUTE)
    expected = score(en_record(), short)
    assert score(en_record(routes={"a": EN_PLAN, "b": None}, json=net), short) == expected
    # json as JSON text, with another city's line as null (a station object read from Arrow)
    assert score(en_record(json=json.dumps(dict(EN, Ring=None))), short) == expected
    for bad in ({"routes": []}, {"routes": [[{"route_name": "A"}]]}, {"json": "stations/x.json"},
                {"question_long": None}, {"json": {"Line A": []}}):
        with pytest.raises(InputError, match="field"):
            score(en_record(**bad), short)
    with pytest.raises(InputError, match="num_via_stops"):
        text = answer(*EN_ROUTE, extra=["Number of Via Stops: 0"] * 2)
        score(en_record(routes=[[dict(EN_PLAN[0], num_via_stops="x"), EN_PLAN[1]]]), "", text)


# --- golden cases on the real station files --------------------------------------------

def real(real_data, country, city):
    return load_station_file(real_data / "stations" / country / f"{city}.json", strict=False)


def test_golden_beijing(real_data):
    net = real(real_data, "china", "beijing")
    plan = [  # 八角游乐园 -> 苹果园 on Line 1 (via 古城), 苹果园 -> 杨庄 on Line 6
        {"route_name": "地铁1号线八通线(古城--环球度假区)", "departure_stop": "八角游乐园",
         "arrival_stop": "苹果园",
         "num_via_stops": 1, "via_stops": ["古城"]},
        {"route_name": "地铁6号线(金安桥--潞城)", "departure_stop": "苹果园", "arrival_stop": "杨庄",
         "num_via_stops": 0, "via_stops": []},
    ]
    record = {"country": "china", "city": "beijing", "station_1": "八角游乐园站", "station_2": "杨庄站",
              "json": net, "routes": {"0": plan}, "question_long": COUNT_Q}
    route = [("Line 1", "八角游乐园站", "苹果园站"), ("Line 6", "苹果园站", "杨庄站")]
    long = answer(*route, extra=["Number of Via Stops: 1", "Number of Via Stops: 0"])
    # short: +1, 2 x (2 + 1 + 1) = 9, correct -> 19; long: 9 + 4 + 4 = 17, correct -> 37
    assert score(record, answer(*route), long) == {"acc_short": 1, "map_score_short": 19,
                                                    "acc_long": 1, "map_score_long": 37}
    # list field: 古城站 found (1), IoU {古城站}/{古城站} = 1 -> (10 + 1) / 2 = 5.5 -> 9 + 5.5 + 20
    long = answer(*route, extra=["Via Stops: 古城站", "Via Stops: "])
    assert score(dict(record, question_long=LIST_Q), "", long)["map_score_long"] == 34.5
    # 八通线 is Line 1 for accuracy, but earns no +2: 7 + 10 = 17
    baton = answer(("八通线", "八角游乐园站", "苹果园站"), route[1])
    assert score(record, baton)["map_score_short"] == 17


def test_golden_rome(real_data):
    record = {"country": "italy", "city": "rome", "station_1": "Battistini Station",
              "station_2": "Baldo degli Ubaldi Station", "json": real(real_data, "italy", "rome"),
              "routes": [[{"route_name": "Metro A", "departure_stop": "Battistini",
                           "arrival_stop": "Baldo degli Ubaldi", "num_via_stops": 1, "via_stops": ["Cornelia"]}]],
              "question_long": LIST_Q}
    short = answer(("Line A", "Battistini Station", "Baldo degli Ubaldi Station"))
    long = answer(("Line A", "Battistini Station", "Baldo degli Ubaldi Station"),
                  extra=["Via Stops: Cornelia Station"])
    # "Line A" -> "Line Li": no +2; +1 endpoints +1 +1 stops = 3: short 13, long 3 + 0 (list, not China) + 20
    assert score(record, short, long) == {"acc_short": 1, "map_score_short": 13, "acc_long": 1, "map_score_long": 23}
    # "B1" becomes "Line B" in rome, still not "B1": +0; and no line "B1" in the file
    assert score(record, short.replace("Line A", "B1"))["map_score_short"] == 3


def test_golden_auckland_dubai_kl(real_data):
    auckland = {"country": "new_zealand", "city": "auckland", "station_1": "Waitematā (Britomart) Station",
                "station_2": "Meadowbank Station", "json": real(real_data, "new_zealand", "auckland"),
                "routes": [[{"route_name": "East", "departure_stop": "Waitematā (Britomart)",
                             "arrival_stop": "Meadowbank", "num_via_stops": 1, "via_stops": ["Ōrākei"]}]],
                "question_long": COUNT_Q}
    # brackets vanish under eclean: "Waitematā Station" is station_1
    short = answer(("Eastern Line", "Waitematā Station", "Meadowbank Station"))
    # "Eastern Line" -> "Line Ea": +0; +1 +1 +1 = 3, correct -> 13
    assert score(auckland, short)["map_score_short"] == 13
    assert score(auckland, short.replace("Eastern Line", "West"))["map_score_short"] == 3  # "Line We"
    dubai = {"country": "united_arab_emirates", "city": "dubai", "station_1": "Centrepoint Station",
             "station_2": "Airport Terminal 3 Station", "json": real(real_data, "united_arab_emirates", "dubai"),
             "routes": [[{"route_name": "MRed2", "departure_stop": "Centrepoint",
                          "arrival_stop": "Airport Terminal 3", "num_via_stops": 1, "via_stops": ["Emirates"]}]],
             "question_long": COUNT_Q}
    short = answer(("Red Line", "Centrepoint Station", "Airport Terminal 3 Station"))
    assert score(dubai, short)["map_score_short"] == 13
    assert score(dubai, short.replace("Red Line", "MRed2"))["map_score_short"] == 3
    kl = {"country": "malaysia", "city": "kl", "station_1": "Sentul Timur Station", "station_2": "Titiwangsa Station",
          "json": real(real_data, "malaysia", "kl"),
          "routes": [[{"route_name": "Ampang Line", "departure_stop": "Sentul Timur",
                       "arrival_stop": "Titiwangsa", "num_via_stops": 1, "via_stops": ["Sentul"]}]],
          "question_long": COUNT_Q}
    short = answer(("Line 3", "Sentul Timur Station", "Titiwangsa Station"))
    long = answer(("Line 3", "Sentul Timur Station", "Titiwangsa Station"), extra=["Number of Via Stops: 2"])
    # short 3 + 10; long 3 + (4 - 1/1*4 = 0) + 20
    assert score(kl, short, long) == {"acc_short": 1, "map_score_short": 13, "acc_long": 1, "map_score_long": 23}
    assert score(kl, short.replace("Line 3", "Ampang Line"))["map_score_short"] == 3  # "Line Am", no line


# --- properties -------------------------------------------------------------------------

_PIECES = ["Route Name: ", "Departure Stop: ", "Arrival Stop: ", "Number of Via Stops: ", "Via Stops: ",
           "--", "\n", ", ", "Line 1", "Line A", "甲站", "辛站", "North Station", "Far Station", "站",
           "(", ")", "3", "</think>", "Metro", "**"]
responses = st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=30).map("".join)


@settings(max_examples=150, deadline=None)
@given(short=responses, long=responses, china=st.booleans(), listed=st.booleans(),
       variant=st.sampled_from(["reference", "robust"]))
def test_any_response_scores_in_range(short, long, china, listed, variant):
    record = (cn_record if china else en_record)(question_long=LIST_Q if listed else COUNT_Q)
    s = score_route_record(record, short, long, variant)
    assert s["acc_short"] in (0, 1) and s["acc_long"] in (0, 1)
    assert 0 <= s["map_score_short"] <= 20 and 0 <= s["map_score_long"] <= 40
    # a correct answer never scores below an incorrect one
    assert s["map_score_short"] >= 10 if s["acc_short"] else s["map_score_short"] <= 10
    assert s["map_score_long"] >= 20 if s["acc_long"] else s["map_score_long"] <= 20


# --- aggregation ------------------------------------------------------------------------

def test_weights_table():
    assert [weight({"difficulty_question": q, "difficulty_city": m}, "reasonmap")
            for q in ("easy", "middle", "hard") for m in ("easy", "middle", "hard")] == \
        [1.0, 1.5, 2.0, 1.5, 2.0, 2.5, 2.0, 2.5, 3.0]
    assert [weight({"difficulty_city": m, "difficulty_question": "hard"}, "reasonmap-plus")
            for m in ("easy", "middle", "hard")] == [1.0, 1.5, 2.0]  # Plus: map difficulty only
    with pytest.raises(InputError, match="difficulty_question"):
        weight({"difficulty_city": "easy", "difficulty_question": "medium"}, "reasonmap")


def test_summarize_reasonmap():
    rows = [
        {"city": "rome", "difficulty_question": "easy", "difficulty_city": "easy",  # w 1.0
         "acc_short": 1, "map_score_short": 20, "acc_long": 0, "map_score_long": 10},
        {"city": "beijing", "difficulty_question": "hard", "difficulty_city": "middle",  # w 2.5
         "acc_short": 0, "map_score_short": 4, "acc_long": 1, "map_score_long": 30.5},
    ]
    s = summarize(rows, "reasonmap")
    o = s["overall"]
    assert o["count"] == 2
    assert o["acc_short"] == {"mean": 0.5, "weighted": pytest.approx(1 / 3.5)}
    assert o["map_score_short"] == {"mean": 12, "weighted": pytest.approx((20 + 2.5 * 4) / 3.5)}
    assert o["map_score_long"]["weighted"] == pytest.approx((10 + 2.5 * 30.5) / 3.5)
    # published convention: accuracies in percent, map scores raw (out of 20 / 40)
    assert s["published"] == pytest.approx({"acc_short": 100 / 3.5, "acc_long": 250 / 3.5,
                                            "map_score_short": 30 / 3.5, "map_score_long": 86.25 / 3.5})
    assert s["by_question_difficulty"]["hard"] == {
        "count": 1, "acc_short": {"mean": 0, "weighted": 0}, "map_score_short": {"mean": 4, "weighted": 4},
        "acc_long": {"mean": 1, "weighted": 1}, "map_score_long": {"mean": 30.5, "weighted": 30.5}}
    assert list(s["by_map_difficulty"]) == ["easy", "middle"]
    assert {c: g["count"] for c, g in s["by_city"].items()} == {"beijing": 1, "rome": 1}
    assert summarize([], "reasonmap")["overall"] == {"count": 0}
    with pytest.raises(InputError, match="record 1: field 'difficulty_city'"):
        summarize([dict(rows[0], difficulty_city=None)], "reasonmap")
    with pytest.raises(InputError, match="record 2: field 'acc_long'"):
        summarize([rows[0], dict(rows[1], acc_long=None)], "reasonmap")


def test_summarize_plus():
    rows = [
        {"type": "Counting1", "city": "a", "difficulty_city": "easy", "correct": True},  # w 1.0
        {"type": "Counting3", "city": "a", "difficulty_city": "hard", "correct": False},  # w 2.0
        {"type": "TorF2", "city": "b", "difficulty_city": "middle", "correct": True},  # w 1.5
    ]
    s = summarize(rows, "reasonmap-plus")
    assert s["overall"]["correct"] == {"mean": pytest.approx(2 / 3), "weighted": pytest.approx(2.5 / 4.5)}
    assert s["by_group"]["Count"] == {"count": 2, "correct": {"mean": 0.5, "weighted": pytest.approx(1 / 3)}}
    assert s["by_group"]["TorF"]["count"] == 1
    assert s["published"] == pytest.approx({"overall": 250 / 4.5, "Count": 100 / 3, "TorF": 100.0})
    assert list(s["by_type"]) == ["Counting1", "Counting3", "TorF2"]
    assert s["by_map_difficulty"]["hard"]["correct"]["mean"] == 0


# --- predictions files ------------------------------------------------------------------

def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_evaluate_reasonmap_predictions(tmp_path, monkeypatch):
    station_file = tmp_path / "stations" / "testland" / "testville.json"
    station_file.parent.mkdir(parents=True)
    station_file.write_text(json.dumps(EN), encoding="utf-8")
    loads = []
    monkeypatch.setattr(station_files, "load_station_file",
                        lambda p, strict: loads.append(p) or load_station_file(p, strict=strict))
    good = dict(en_record(json="stations/testland/testville.json"), difficulty_question="middle",
                difficulty_city="easy", response_short=answer(*EN_ROUTE), response_long="no idea")
    wrong = dict(good, response_short="Route Name: Line A\nDeparture Stop: South Station\nArrival Stop: Far Station")
    pred = write_jsonl(tmp_path / "pred.jsonl", [good, wrong, dict(good, json=EN)])
    summary, scores = evaluate_predictions(pred, "reasonmap", tmp_path)
    assert scores == [{"acc_short": 1, "map_score_short": 15, "acc_long": 0, "map_score_long": 0},
                      {"acc_short": 0, "map_score_short": 0, "acc_long": 0, "map_score_long": 0},
                      {"acc_short": 1, "map_score_short": 15, "acc_long": 0, "map_score_long": 0}]
    assert len(loads) == 1  # one station file, read once
    assert summary["count"] == 3 and summary["variant"] == "reference"
    assert summary["overall"]["map_score_short"]["mean"] == 10
    # the stations folder itself works as the root too
    assert evaluate_predictions(pred, "reasonmap", tmp_path / "stations")[1] == scores


@pytest.mark.parametrize("change, message", [
    ({"response_long": None}, "pred.jsonl:2: field 'response_long'"),
    ({"difficulty_city": "medium"}, "pred.jsonl:2: field 'difficulty_city'"),
    ({"json": "stations/nowhere.json"}, "pred.jsonl:2: field 'json': .*nowhere.json"),
    ({"routes": "plan"}, "pred.jsonl:2: field 'routes'"),
])
def test_evaluate_reports_file_line_and_field(tmp_path, change, message):
    good = dict(en_record(), difficulty_question="easy", difficulty_city="easy",
                response_short="", response_long="")
    pred = write_jsonl(tmp_path / "pred.jsonl", [good, dict(good, **change)])
    with pytest.raises(InputError, match=message):
        evaluate_predictions(pred, "reasonmap", tmp_path)


def test_evaluate_rejects_unknown_benchmark_and_variant(tmp_path):
    pred = write_jsonl(tmp_path / "pred.jsonl", [])
    with pytest.raises(InputError, match="benchmark"):
        evaluate_predictions(pred, "reasonmap-pro", tmp_path)
    with pytest.raises(InputError, match="variant"):
        evaluate_predictions(pred, "reasonmap", tmp_path, variant="lenient")


# --- linear time ------------------------------------------------------------------------

@pytest.mark.timeout(5)  # under 0.1 s; quadratic parsing would take minutes (timed in benchmarks/bench_rewards.py)
def test_pathological_responses_score():
    for text in ("Arrival Stop: " + "(" * 100_000, "Route Name: Departure Stop: Arrival Stop: " * 20_000):
        assert score_route_record(cn_record(), text, text)["acc_short"] == 0
