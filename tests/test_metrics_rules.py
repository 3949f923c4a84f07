"""The metrics' smaller rules, each pinned down: field readings, error messages, result shapes,
orderings and the predictions file's memo (the arithmetic is in test_metrics.py)."""

import json

import pytest

from rewardmap.errors import InputError
from rewardmap.metrics import (
    PLUS_WEIGHTS,
    ROUTE_WEIGHTS,
    MapScore,
    evaluate_predictions,
    map_score,
    mapped_line_name,
    parse_route_answer,
    score_plus_record,
    score_route_record,
    summarize,
)
from rewardmap.metrics import summary as summary_module
from rewardmap.metrics.benchmarks import BENCHMARKS, benchmark_asking, benchmark_named
from rewardmap.answers.route_eval import _parse_memo
from test_metrics import CN_PLAN, CN_ROUTE, EN, EN_PLAN, EN_ROUTE, LIST_Q, answer, cn_record, en_record, write_jsonl


@pytest.fixture(autouse=True)
def fresh_parses():
    """Parse afresh in each test (see test_metrics.py)."""
    _parse_memo.cache_clear()


def message(call) -> str:
    with pytest.raises(InputError) as e:
        call()
    return str(e.value)


# --- parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["reference", "robust"])
def test_via_fields_are_read_only_for_long_answers_and_only_the_one_asked(variant):
    text = answer(("Line 1", "甲站", "乙站"), extra=["Number of Via Stops: 2\nVia Stops: 丙站, 丁站"])
    def fields(**kw):
        s = parse_route_answer(text, variant=variant, **kw)[0]
        return s.via_count, s.via_list
    assert fields(via="count") == fields(via="list") == fields(long=True) == (None, None)
    assert fields(long=True, via="count") == (2, None)
    assert fields(long=True, via="list")[0] is None and "丁站" in fields(long=True, via="list")[1][-1]


@pytest.mark.parametrize("digits, count", [
    ("00", 0),  # all zeros: 0
    ("9" * 4000, int("9" * 4000)),  # up to 4000 digits: the integer itself
    ("9" * 4001, float("inf")),  # beyond: infinitely many (int() would refuse it)
    ("0" * 5000 + "7", 7),  # leading zeros are no digits of the value
])
def test_via_count_of_long_and_zero_numbers(digits, count):
    text = answer(("Line 1", "a", "b"), extra=[f"Number of Via Stops: {digits}"])
    assert parse_route_answer(text, long=True, via="count")[0].via_count == count


def test_a_short_arrival_is_read_after_the_sections_last_label():
    text = "Route Name: Line A\nDeparture Stop: a\nArrival Stop: b\nArrival Stop: c"
    assert parse_route_answer(text)[0].arrival == "c"


def test_answers_past_the_memo_size_parse_the_same():
    # answers over 2048 characters are parsed without the memo, in the variant asked for
    text = answer(*EN_ROUTE, end="")  # the last arrival without a newline: "Wrong" in the reference's long reading
    padded = "<think>" + "x" * 3000 + "</think>" + text
    for variant, last in (("reference", "Wrong"), ("robust", "farstation")):
        sections = parse_route_answer(text, long=True, via="count", variant=variant)
        assert sections[-1].arrival == last
        assert parse_route_answer(padded, long=True, via="count", variant=variant) == sections


def test_a_bad_variant_is_a_programming_error():
    # ValueError, not the InputError a command reports as bad data
    for call, choices in ((lambda: parse_route_answer("", variant="lenient"), "reference, robust"),
                          (lambda: score_route_record(en_record(), "", "", "lenient"), "reference, robust"),
                          (lambda: score_plus_record({"type": "TorF1", "answer": 1}, "yes", "lenient"),
                           "reference, robust, vlmevalkit")):
        with pytest.raises(ValueError) as e:
            call()
        assert not isinstance(e.value, InputError)
        assert str(e.value) == f"variant: expected one of {choices}; got 'lenient'"


# --- ReasonMap-Plus records --------------------------------------------------------------

@pytest.mark.parametrize("record, response, text", [
    ({"type": "planning", "answer": 1}, "yes",
     "field 'type': expected one of Counting1, Counting2, Counting3, TorF1, TorF2, got 'planning'"),
    ({"answer": 1}, "yes", "field 'type': expected one of Counting1, Counting2, Counting3, TorF1, TorF2, got None"),
    ({"type": "TorF1", "answer": "1"}, "yes", "field 'answer': expected an integer label, got '1'"),
    ({"type": "TorF1", "answer": 1}, 3, "field 'response': expected a string, got int"),
])
def test_plus_record_error_messages(record, response, text):
    assert message(lambda: score_plus_record(record, response)) == text


# --- ReasonMap records ---------------------------------------------------------------------

@pytest.mark.parametrize("change, text", [
    ({"routes": []}, "field 'routes': expected a non-empty list or object of plans"),
    ({"routes": [EN_PLAN, []]}, "field 'routes': plan 2: expected a non-empty list of sections"),
    ({"routes": [EN_PLAN, "plan"]}, "field 'routes': plan 2: expected a non-empty list of sections"),
    ({"routes": [[EN_PLAN[0], {"route_name": "B", "departure_stop": "Hub"}]]},
     "field 'routes': plan 1 section 2: needs string route_name, departure_stop and arrival_stop"),
    ({"json": "stations/x.json"}, "field 'json': 'stations/x.json' is a path but no stations root was given"),
    ({"station_1": 3}, "field 'station_1': expected a string, got int"),
])
def test_route_record_error_messages(change, text):
    assert message(lambda: score_route_record(en_record(**change), "", "")) == text


@pytest.mark.parametrize("responses, text", [
    ((3, ""), "field 'response_short': expected a string, got int"),
    (("", 3), "field 'response_long': expected a string, got int"),
])
def test_responses_must_be_text(responses, text):
    assert message(lambda: score_route_record(en_record(), *responses)) == text


@pytest.mark.parametrize("section, text", [
    ({"num_via_stops": "x"}, "section 2: 'num_via_stops' must be a non-negative integer, got 'x'"),
    ({"num_via_stops": True}, "section 2: 'num_via_stops' must be a non-negative integer, got True"),
    ({"num_via_stops": -1}, "section 2: 'num_via_stops' must be a non-negative integer, got -1"),
])
def test_plan_via_count_must_be_a_count(section, text):
    plan = [CN_PLAN[0], dict(CN_PLAN[1], **section)]
    long = answer(*CN_ROUTE[:2], extra=["Number of Via Stops: 0"] * 2)
    record = cn_record(routes=[plan], station_2="己站")
    assert message(lambda: score_route_record(record, "", long)) == f"field 'routes': {text}"


@pytest.mark.parametrize("vias", ["庚", [1], None])
def test_plan_via_list_must_be_a_list_of_names(vias):
    plan = [CN_PLAN[0], dict(CN_PLAN[1], via_stops=vias)]
    long = answer(*CN_ROUTE[:2], extra=["Via Stops: 乙站", "Via Stops: 丙站"])
    record = cn_record(routes=[plan], station_2="己站", question_long=LIST_Q)
    assert message(lambda: score_route_record(record, "", long)) == \
        f"field 'routes': section 2: 'via_stops' must be a list of names, got {vias!r}"


def test_map_score_reports_the_kept_plans_parts():
    sections = parse_route_answer(answer(*CN_ROUTE, extra=["Via Stops: 乙站", "Via Stops: ", "Via Stops: 庚站"]),
                                  long=True, via="list")
    kw = {"country": "china", "city": "toycity", "station_1": "甲站", "station_2": "辛站", "correct": True}
    # the plan that fits is kept (the second): +1, 3 x 2 line points, 6 stop points; via list:
    # 庚站 found once, IoU of {乙站, 庚站} and {庚站} 1/2 -> (5 + 1) / 2 = 3; 16 + 20
    assert map_score(sections, [EN_PLAN, CN_PLAN], long=True, **kw) == \
        MapScore(total=36.0, plan=1, endpoints=1, line_points=6, stop_points=6, via_count=0, via_list=3.0)
    # a plan stop the answer left out counts in the union: {乙站, 庚站, 壬站}, IoU 1/3
    plan = CN_PLAN[:2] + [dict(CN_PLAN[2], via_stops=["庚", "壬站"])]
    assert map_score(sections, [plan], long=True, **kw).via_list == pytest.approx((10 / 3 + 1) / 2)
    counted = parse_route_answer(answer(*CN_ROUTE, extra=["Number of Via Stops: 0"] * 2 + ["Number of Via Stops: 2"]),
                                 long=True, via="count")
    # via counts 4 + 4 + (4 - 1/1 * 4 = 0) = 8; 13 + 8 -> 20, + 20
    assert map_score(counted, [CN_PLAN], long=True, **kw) == MapScore(40, 0, 1, 6, 6, 8, 0)
    short = parse_route_answer(answer(*CN_ROUTE))
    assert map_score(short, [CN_PLAN], **kw) == MapScore(20, 0, 1, 6, 6, 0, 0)


def test_china_long_answers_test_the_plans_own_arrival_for_its_suffix():
    # a plan arrival already written with 站: the long path keeps it, the short path (testing the
    # departure, which has no 站) appends another one and misses
    plan = [{"route_name": "地铁1号线", "departure_stop": "甲", "arrival_stop": "乙站", "num_via_stops": 0,
             "via_stops": []}]
    sections = parse_route_answer(answer(("Line 1", "甲站", "乙站")), long=True, via="count")
    kw = {"country": "china", "city": "toycity", "station_1": "甲站", "station_2": "乙站", "correct": False}
    assert map_score(sections, [plan], long=True, **kw).stop_points == 2
    assert map_score(sections, [plan], **kw).stop_points == 1


def test_romes_b1_rule_earns_the_line_points_only_in_rome():
    # "(B1) Line B": the rules read "B1", which rome maps to "Line B" -- its own name once
    # the bracket is cleaned away; elsewhere "Line B1" differs
    sections = parse_route_answer(answer(("(B1) Line B", "North Station", "Far Station")))
    plan = [{"route_name": "B", "departure_stop": "North", "arrival_stop": "Far", "num_via_stops": 0, "via_stops": []}]
    kw = {"country": "italy", "station_1": "North Station", "station_2": "Far Station", "correct": False}
    assert map_score(sections, [plan], city="rome", **kw).total == 5
    assert map_score(sections, [plan], city="milan", **kw).total == 3
    record = en_record(country="italy", station_2="Far Station", routes=[plan])
    text = answer(("(B1) Line B", "North Station", "Far Station"))
    assert score_route_record(dict(record, city="rome"), text, "")["map_score_short"] == 5
    assert score_route_record(dict(record, city="milan"), text, "")["map_score_short"] == 3


# --- summaries ---------------------------------------------------------------------------

def route_row(city, q, m, value=1):
    return {"city": city, "difficulty_question": q, "difficulty_city": m, "acc_short": value,
            "map_score_short": value, "acc_long": value, "map_score_long": value}


def test_summary_labels_and_tables():
    s = summarize([route_row("rome", "easy", "easy")], "reasonmap")
    assert s["benchmark"] == "reasonmap" and s["map_score_max"] == {"short": 20, "long": 40}
    assert s["weights"] == ROUTE_WEIGHTS
    s["weights"]["easy"]["easy"] = 9  # a copy: the weights themselves are untouched
    assert ROUTE_WEIGHTS["easy"]["easy"] == 1.0
    plus = summarize([{"type": "TorF1", "city": "rome", "difficulty_city": "easy", "correct": True}], "reasonmap-plus")
    assert plus["benchmark"] == "reasonmap-plus" and plus["weights"] == PLUS_WEIGHTS
    assert "map_score_max" not in plus


def test_groups_in_their_usual_order_then_by_name():
    rows = [route_row("rome", "hard", "hard"), route_row("beijing", "middle", "middle"),
            route_row("geneva", "easy", "easy"), route_row("auckland", "hard", "middle")]
    s = summarize(rows, "reasonmap")
    assert list(s["by_question_difficulty"]) == list(s["by_map_difficulty"]) == ["easy", "middle", "hard"]
    assert list(s["by_city"]) == ["auckland", "beijing", "geneva", "rome"]
    plus = [{"type": t, "city": "rome", "difficulty_city": "easy", "correct": True}
            for t in ("TorF2", "Zoning", "Counting2", "Ahead", "TorF1")]  # unknown types last, by name
    assert list(summarize(plus, "reasonmap-plus")["by_type"]) == ["Counting2", "TorF1", "TorF2", "Ahead", "Zoning"]


@pytest.mark.parametrize("rows, benchmark, text", [
    ([], "reasonmap-pro", "benchmark: expected one of reasonmap, reasonmap-plus; got 'reasonmap-pro'"),
    ([dict(route_row("rome", "easy", "easy"), acc_long="1")], "reasonmap",
     "record 1: field 'acc_long': expected a score, got '1'"),
    ([route_row("rome", "easy", "medium")], "reasonmap",
     "record 1: field 'difficulty_city': expected one of easy, middle, hard, got 'medium'"),
])
def test_summary_error_messages(rows, benchmark, text):
    assert message(lambda: summarize(rows, benchmark)) == text


# --- the benchmarks' descriptors ---------------------------------------------------------

def test_the_benchmarks_as_described():
    routes, plus = BENCHMARKS["reasonmap"], BENCHMARKS["reasonmap-plus"]
    assert list(BENCHMARKS) == ["reasonmap", "reasonmap-plus"]
    assert benchmark_named("reasonmap") is routes and benchmark_named("reasonmap-plus", "--benchmark") is plus
    # reports and the paper's tables show the accuracies first
    assert routes.reported == ("acc_short", "acc_long", "map_score_short", "map_score_long")
    assert plus.reported == ("correct",)
    record = {"question": "short?", "question_long": "long?", "type": "planning"}
    assert routes.questions(record) == {"response_short": "short?", "response_long": "long?"}
    assert plus.questions(record) == {"response": "short?"}
    asking = [benchmark_asking(t) for t in ("planning", "Counting1", "TorF2", "Zoning", None, ["planning"])]
    assert asking == [routes, plus, plus, None, None, None]


def test_an_unknown_benchmark_in_the_callers_words():
    assert message(lambda: benchmark_named("ReasonMap", "--benchmark")) == \
        "--benchmark: expected one of reasonmap, reasonmap-plus; got 'ReasonMap'"
    assert message(lambda: benchmark_named(["reasonmap"])) == \
        "benchmark: expected one of reasonmap, reasonmap-plus; got ['reasonmap']"  # from JSON: not hashable


def test_a_record_wrong_in_both_difficulties_names_its_map_difficulty():
    both = {"difficulty_question": "medium", "difficulty_city": "medium"}
    with pytest.raises(InputError, match="^field 'difficulty_city'"):
        BENCHMARKS["reasonmap"].weight(both)
    assert BENCHMARKS["reasonmap-plus"].weight({"difficulty_city": "hard", "difficulty_question": "medium"}) == 2.0


# --- predictions files ---------------------------------------------------------------------

def route_line(**kw):
    # the station object as JSON text: lines whose fields are all text are remembered
    return {**en_record(json=json.dumps(EN)), "difficulty_question": "easy", "difficulty_city": "easy",
            "response_short": answer(*EN_ROUTE), "response_long": "", **kw}


def test_vlmevalkit_scores_plus_only(tmp_path):
    route = write_jsonl(tmp_path / "route.jsonl", [route_line()])
    assert message(lambda: evaluate_predictions(route, "reasonmap-pro")) == \
        "benchmark: expected one of reasonmap, reasonmap-plus; got 'reasonmap-pro'"
    assert message(lambda: evaluate_predictions(route, "reasonmap", variant="vlmevalkit")) == (
        "variant vlmevalkit scores ReasonMap-Plus only (VLMEvalKit's scorer); for reasonmap use reference or robust")
    assert message(lambda: evaluate_predictions(route, "reasonmap", variant="lenient")) == \
        "variant: expected one of reference, robust, vlmevalkit; got 'lenient'"
    plus = write_jsonl(tmp_path / "plus.jsonl", [{"type": "TorF1", "city": "rome", "difficulty_city": "easy",
                                                  "answer": 1, "response": "Yes"}])
    summary, scores = evaluate_predictions(plus, "reasonmap-plus", variant="vlmevalkit")
    assert scores == [{"correct": True}] and summary["variant"] == "vlmevalkit"


def test_the_variant_reaches_route_scoring(tmp_path):
    # the last arrival without a newline: "Wrong" in the reference's long reading, read by robust's
    long = answer(*EN_ROUTE, end="")
    pred = write_jsonl(tmp_path / "pred.jsonl", [route_line(response_long=long)])
    assert evaluate_predictions(pred, "reasonmap")[1][0]["acc_long"] == 0
    assert evaluate_predictions(pred, "reasonmap", variant="robust")[1][0]["acc_long"] == 1


def test_predictions_file_error_messages(tmp_path):
    row = {"type": "TorF1", "difficulty_city": "easy", "answer": 1, "response": "yes"}
    pred = write_jsonl(tmp_path / "pred.jsonl", [dict(row, city=None), dict(row, city=3)])  # None: no city
    assert message(lambda: evaluate_predictions(pred, "reasonmap-plus")) == \
        f"{pred}:2: field 'city': expected the city's name, got 3"
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    assert message(lambda: evaluate_predictions(empty, "reasonmap")) == f"{empty}: no records"
    # routes JSON that only the slow reader takes, and not even it: named by file, line and field
    huge = tmp_path / "huge.jsonl"
    line = json.dumps(route_line()).replace('"num_via_stops": 0', '"num_via_stops": ' + "9" * 5000, 1)
    huge.write_text(json.dumps(route_line()) + "\n" + line + "\n", encoding="utf-8")
    assert message(lambda: evaluate_predictions(huge, "reasonmap")).startswith(
        f"{huge}:2: field 'routes': not usable JSON")


def test_repeated_lines_are_scored_once(tmp_path, monkeypatch):
    calls = []
    real = summary_module.route_record_scores
    monkeypatch.setattr(summary_module, "route_record_scores", lambda *a: calls.append(a) or real(*a))
    a, b = route_line(), route_line(response_short="no idea")
    pred = write_jsonl(tmp_path / "pred.jsonl", [a, b, a, b, a])
    summary, scores = evaluate_predictions(pred, "reasonmap")
    assert len(calls) == 2  # one per distinct line
    assert [s["acc_short"] for s in scores] == [1, 0, 1, 0, 1]
    scores[0]["acc_short"] = 5  # each line's scores are its own
    assert scores[2]["acc_short"] == 1
    # the memo holds MEMO_ENTRIES lines: with room for one, only the first is remembered
    monkeypatch.setattr(summary_module, "MEMO_ENTRIES", 1)
    calls.clear()
    evaluate_predictions(pred, "reasonmap")
    assert len(calls) == 3
    # lines given in memory (routes already decoded, not JSON text) are each scored
    calls.clear()
    lines = [(1, a), (2, a)]
    assert evaluate_predictions(pred, "reasonmap", lines=lines)[1] == [scores[2], scores[2]]
    assert len(calls) == 2


@pytest.mark.parametrize("city", ["auckland", "dubai", "kl", "rome", "testville"])
def test_names_without_an_ascii_letter_or_digit_map_to_themselves(city):
    # the city tables list ASCII names only, so such a name passes every rule unchanged
    assert mapped_line_name("东线", city) == "东线"
