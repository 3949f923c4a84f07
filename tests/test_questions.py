import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import station_maps

from rewardmap.network import (
    Router,
    load_station_file,
    network_from_mapping,
    question_difficulty,
)
from rewardmap.questions import (
    allocate,
    city_questions,
    plus_answer,
    prompts,
    split_quota,
)
from rewardmap.questions.plus import _options, torf1, torf2


def test_allocation_and_route_quota():
    assert allocate(50, ("planning", "Counting1", "Counting2", "Counting3", "TorF1", "TorF2")) == {
        "Counting3": 1, "planning": 20, "Counting1": 7, "Counting2": 7, "TorF1": 7, "TorF2": 8}
    assert allocate(7, ("TorF1",)) == {"TorF1": 7}
    assert split_quota(40) == {"easy": 20, "middle": 15, "hard": 5}
    assert sum(split_quota(13).values()) == 13


def test_counting1_options_are_distinct_and_the_answer_is_placed_uniformly():
    rng = random.Random(0)
    positions, ranks = Counter(), Counter()
    for _ in range(4000):
        n = rng.randrange(5, 30)
        options = _options(n, rng)
        assert len(set(options)) == 4 and n in options and min(options) >= 0
        positions[options.index(n)] += 1
        ranks[sorted(options).index(n)] += 1
    # uniform within a few percent: position and rank both leak nothing
    assert all(900 < positions[i] < 1100 for i in range(4)), positions
    assert all(900 < ranks[i] < 1100 for i in range(4)), ranks
    assert _options(0, rng)[0] >= 0 and sorted(_options(0, rng))[0] == 0


def test_yes_no_questions_are_balanced(toy_file):
    net = load_station_file(toy_file)
    for make in (torf1, torf2):
        qs = make(net, random.Random(1), 10)
        assert Counter(q["answer"] for q in qs) == {0: 5, 1: 5}
        assert len({q["question"] for q in qs}) == 10


def test_one_line_map_cannot_ask_no_so_its_yes_no_share_goes_elsewhere():
    net = network_from_mapping({"Only": [f"S{i} Station" for i in range(12)]})
    qs = city_questions(net, per_city=20, seed=3)
    kinds = Counter(q["type"] for q in qs)
    assert "TorF1" not in kinds and "TorF2" not in kinds
    assert len(qs) == 20 and kinds["Counting3"] == 1


def test_wordings_and_route_answer_format():
    q = prompts.counting1("A Station", "B Station", [3, 5, 4, 7])
    assert "between A Station and B Station" in q and "A) 3 B) 5 C) 4 D) 7" in q and "\\boxed{}" in q
    assert "only answer yes or no" in prompts.torf2("A Station", "Line 2").lower()
    long = prompts.route("A", "B", long="count")
    assert "Number of Via Stops:" in long and "Via Stops: <the" not in long
    assert "Via Stops: <the" in prompts.route("A", "B", long="list")
    sections = [{"route_name": "L1", "departure_stop": "A", "arrival_stop": "B", "num_via_stops": 1, "via_stops": ["X"]},
                {"route_name": "L2", "departure_stop": "B", "arrival_stop": "C", "num_via_stops": 0, "via_stops": []}]
    assert prompts.route_answer(sections) == (
        "Route Name: L1\nDeparture Stop: A\nArrival Stop: B\n--\nRoute Name: L2\nDeparture Stop: B\nArrival Stop: C")
    assert prompts.route_answer(sections, long="list").split("--")[0].endswith("Via Stops: X\n")


def test_city_questions_are_deterministic_distinct_and_follow_the_route_quota(real_data):
    net = load_station_file(real_data / "stations/china/beijing.json")
    qs = city_questions(net, per_city=100, seed=7)
    assert qs == city_questions(net, per_city=100, seed=7)
    assert qs != city_questions(net, per_city=100, seed=8)
    assert len(qs) == 100 and len({q["question"] for q in qs}) == 100
    routes = [q for q in qs if q["type"] == "planning"]
    levels = Counter(q["difficulty_question"] for q in routes)
    assert levels == split_quota(len(routes)), levels  # a big map fills 20:15:5 exactly
    for q in routes:
        assert q["difficulty_question"] == question_difficulty(q["question_transfer_count"])


# --- property: every generated answer agrees with the network ----------------------------

@settings(max_examples=80, deadline=None)
@given(station_maps(), st.integers(0, 10**6))
def test_generated_answers_agree_with_the_raw_station_lists(mapping, seed):
    net = network_from_mapping(mapping)
    members = {line: set(stations) for line, stations in mapping.items()}
    router = Router(net)
    for q in city_questions(net, per_city=30, seed=seed):
        kind, a, b = q["type"], q["station_1"], q["station_2"]
        if kind == "Counting2":
            assert q["answer"] == sum(a in s for s in members.values())
        elif kind == "Counting3":
            assert q["answer"] == len(mapping)
        elif kind == "TorF1":
            assert q["answer"] == int(any(a in s and b in s for s in members.values()))
        elif kind == "TorF2":
            assert q["answer"] == int(a in members[q["line"]])
        elif kind == "Counting1":
            [line] = [name for name, s in members.items() if a in s and b in s]
            stations = mapping[line][:-1] if mapping[line][0] == mapping[line][-1] else mapping[line]
            d = abs(stations.index(a) - stations.index(b))
            if mapping[line][0] == mapping[line][-1]:
                d = min(d, len(stations) - d)
            assert q["choices"][q["answer"]] == d - 1
        else:
            best = router.routes(a, b, limit=1)[0]
            assert q["question_transfer_count"] == best.transfers
            for plan in q["routes"]:
                assert plan[0]["departure_stop"] == a and plan[-1]["arrival_stop"] == b
                assert sum(s["num_via_stops"] + 1 for s in plan) == best.stops
                for s, nxt in zip(plan, plan[1:]):
                    assert s["arrival_stop"] == nxt["departure_stop"]
                for s in plan:
                    assert {s["departure_stop"], s["arrival_stop"], *s["via_stops"]} <= members[s["route_name"]]
        if kind != "planning":
            assert plus_answer(net, q) == q["answer"]
