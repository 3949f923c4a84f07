"""Hand-worked examples for every rule of the reward (released rules and the robust repairs).

Each expected number has its arithmetic beside it. The toy city below has a four-station
Line 1 (A-B-C-D), Line 2 (E-B-F-G), Line 3 (D-H-G-I), Line 5 (I-J), a Chinese Line 4 whose
first station's name ends in 站站, and a circle line Ring (J-K-L-M-J).
"""

import math

import pytest

from rewardmap.network import clean, network_from_mapping
from rewardmap.rewards import (
    RewardConfig,
    compute_reward,
    line_key,
    reference_answer,
    robust_answer,
)
from rewardmap.answers.plus import (
    find_math_answer,
    plus_format_ok,
    reference_value,
)
from rewardmap.answers.route import (
    reference_sections,
    released_stop,
    robust_sections,
    route_format_ok,
)
from rewardmap.rewards.reward import ZERO
from rewardmap.answers.text import final_answer

CITY = {
    "Line 1": ["Alpha Station", "Bravo Station (Transfer Station)", "Charlie Station",
               "Delta Station (Transfer Station)"],
    "Line 2": ["Echo Station", "Bravo Station (Transfer Station)", "Foxtrot Station",
               "Golf Station (Transfer Station)"],
    "Line 3": ["Delta Station (Transfer Station)", "Hotel Station", "Golf Station (Transfer Station)",
               "India Station (Transfer Station)"],
    "Line 4": ["火车西站站", "东湖站", "南门站"],
    "Line 5": ["India Station (Transfer Station)", "Juliet Station (Transfer Station)"],
    "Ring": ["Juliet Station (Transfer Station)", "Kilo Station", "Lima Station", "Mike Station",
             "Juliet Station (Transfer Station)"],
}
NET = network_from_mapping(CITY, name="toyburg")
REF, ROB = RewardConfig(), RewardConfig(variant="robust")


@pytest.fixture(autouse=True)
def _fresh_index():
    # NET keeps its RewardIndex once built; each test builds it again, so that a test checks the
    # index-building code too (mutation testing forks every mutant from a process that built it)
    NET.__dict__.pop("_reward_index", None)


def route(start, goal, transfers, difficulty="middle"):
    return {"type": "planning", "station_1": start, "station_2": goal,
            "question_transfer_count": transfers, "difficulty_city": difficulty}


def plus(qtype, label, difficulty="middle"):
    return {"type": qtype, "answer": label, "difficulty_city": difficulty}


def section(line, departure, arrival, extra=""):
    return f"Route Name: {line}\nDeparture Stop: {departure}\nArrival Stop: {arrival}" + extra


def answer(*sections):
    return "\n--\n".join(sections)


A_TO_D = section("Line 1", "Alpha Station", "Delta Station")
A_TO_F = answer(section("Line 1", "Alpha Station", "Bravo Station"),
                section("Line 2", "Bravo Station", "Foxtrot Station"))
A_TO_J = answer(section("Line 1", "Alpha Station", "Delta Station"),
                section("Line 3", "Delta Station", "India Station"),
                section("Line 5", "India Station", "Juliet Station"))
E_TO_J = answer(section("Line 2", "Echo Station", "Bravo Station"),
                section("Line 1", "Bravo Station", "Delta Station"),
                section("Line 3", "Delta Station", "India Station"),
                section("Line 5", "India Station", "Juliet Station"))


def score(response, record, config=REF):
    return compute_reward(response, record, NET, config)


# ------------------------------------------------------------------ config and weights


def test_config_defaults_and_format_reward_per_variant():
    assert (REF.variant, REF.mode, REF.map_weights, REF.transfer_bonus, REF.alpha, REF.correct_reward) == \
        ("reference", "difficulty_aware", (1.0, 1.2, 1.5), 0.5, 0.5, 10.0)
    assert REF.format_reward == 0.0 and ROB.format_reward == 1.0
    assert RewardConfig(variant="robust", format_reward=0.25).format_reward == 0.25


@pytest.mark.parametrize("bad", [
    {"variant": "released"}, {"mode": "aware"}, {"map_weights": (1, 2)}, {"map_weights": (1, 0, 2)},
    {"map_weights": "abc"}, {"alpha": float("nan")}, {"alpha": -0.5}, {"transfer_bonus": float("inf")},
    {"correct_reward": "10"}, {"format_reward": True},
])
def test_clearly_invalid_config_raises(bad):
    with pytest.raises(ValueError):
        RewardConfig(**bad)


@pytest.mark.parametrize("difficulty, transfers, weight", [
    ("easy", 0, 1.0), ("middle", 0, 1.2), ("hard", 0, 1.5),  # map weight only
    ("easy", 1, 1.5), ("middle", 2, 1.7), ("hard", 1, 2.0),  # + 0.5 for a route with transfers
])
def test_difficulty_weight_table(difficulty, transfers, weight):
    # the question is unanswerable: only the weight is looked at
    assert score("", route("Alpha Station", "Delta Station", transfers, difficulty)).weight == pytest.approx(weight)


def test_plus_weight_ignores_transfers_and_baseline_mode_uses_one():
    record = {**plus("TorF1", 1, "hard"), "question_transfer_count": 2}
    assert score("\\boxed{yes}", record).weight == 1.5  # Plus: map weight only
    baseline = RewardConfig(mode="baseline")
    assert score("\\boxed{yes}", record, baseline).reward == 10.0  # W = 1
    # 1 * (10 + 0.5 * 4)
    assert score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1, "hard"), baseline).reward == 12.0
    # baseline needs no difficulty at all
    assert score("\\boxed{yes}", {"type": "TorF1", "answer": 1}, baseline).reward == 10.0


def test_other_map_weights_and_coefficients():
    config = RewardConfig(map_weights=(1, 1.1, 1.2), transfer_bonus=0.2, alpha=0.3, correct_reward=5)
    # W = 1.1 + 0.2 = 1.3; detail 4 (see test_one_transfer_route); 1.3 * (5 + 0.3 * 4) = 8.06
    assert score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1), config).reward == pytest.approx(8.06)


def test_plus_maximum_is_15_and_route_maximum_is_30():
    assert score("\\boxed{yes}", plus("TorF2", 1, "hard")).reward == 15.0  # 1.5 * 10
    b = score(E_TO_J, route("Echo Station", "Juliet Station", 3, "hard"))
    # detail 2 + (3+1) + (3+1) + (3+1) + (-5+3) = 12, capped at 10; W = 1.5 + 0.5; 2 * (10 + 5) = 30
    assert (b.correct, b.detail, b.weight, b.reward) == (True, 10.0, 2.0, 30.0)


# ------------------------------------------------------------------ Plus extraction, step by step


@pytest.mark.parametrize("response, extracted", [
    ("Looking at the map, the answer is yes", "yes"),                        # phrase, text after it
    ("The answer is no", "no"),                                              # the capital-T pass
    ("the final answer is 3\nbecause I counted", "3"),                       # first line only
    ("the answer is 4. I counted the stops", "4"),                           # cut before the first ". "
    ("the final answer is: the answer is 7", "7"),                           # steps chain; ":" stripped last
    ("The correct answer is B", "b"),                                        # "the answer is" absent, capital pass
    ("It must be\nyes", "itmustbeyes"),                                      # no phrase: newlines and spaces go
    ("I think \\boxed{A} but \\boxed{B}", "b"),                              # several oxed{: the last one
    ("\\boxed{3} lines, not {4}", "3"),                                      # greedy to the last }, cut at the first }
    ("answer} {tail", "answer"),                                             # a } before any {
    ("\\boxed{x = 5}", "5"),                                                 # after the last =
    ("\\boxed{n \\approx 4}", "4"),                                          # after the last \approx
    ("\\boxed{12 km}", "12"), ("\\boxed{3 units}", "3"), ("\\boxed{90^\\circ}", "90"),  # units
    ("\\boxed{\\dfrac{3}{4}}", "\\frac{3}{4}"),                              # dfrac -> frac
    ("\\boxed{\\frac12}", "\\frac12"),                                       # braced only when sqrt appears
    ("\\boxed{\\sqrt2 \\frac12}", "\\sqrt{2}\\frac{1}{2}"),                  # sqrt: both braced
    ("\\boxed{0.5}", "\\frac{1}{2}"), ("\\boxed{.5}", "\\frac{1}{2}"),       # 0.5 and a leading .
    ("\\boxed{3/4}", "\\frac{3}{4}"), ("\\boxed{03/4}", "03/4"),             # a/b with plain integers only
    ("\\boxed{\\text{Yes}}", "{yes}"),                                       # the known quirk
    ("\\boxed{$5$}.", "5"),                                                  # $ dropped, trailing . stripped
    ("\\boxed{50\\%}", "50"),                                                # \%
    ("\\boxed{5 \\text{ stops}}", "5{stops}"),  # spaces go before the "\text{ " cut, which so never cuts
])
def test_reference_plus_extraction(response, extracted):
    assert reference_answer(response) == extracted


def test_reference_value_reads_labels_as_released():
    assert [reference_value("TorF1", a) for a in ("yes", "No", "y", "")] == [1, 0, None, None]
    assert [reference_value("Counting1", a) for a in ("a", "D", "e", "ab")] == [0, 3, None, None]
    assert [reference_value("Counting2", a) for a in ("3", "+3", "-1", "1_0", "٣", "3.0", "9" * 5000)] == \
        [3, 3, -1, 10, 3, None, None]  # int() as released: underscores and other scripts' digits too


def test_find_math_answer_braces_and_infinity():
    assert find_math_answer("\\boxed{\\left(1, \\infty\\right)}") == "(1,\\infty)"
    assert find_math_answer("{}{}\\boxed{∞}") == "\\infty"


@pytest.mark.parametrize("qtype, response, label, right", [
    ("TorF1", "\\boxed{yes}", 1, True), ("TorF1", "\\boxed{Yes}", 1, True), ("TorF1", "\\boxed{yes}", 0, False),
    ("TorF2", "\\boxed{no}", 0, True), ("TorF2", "\\boxed{no}", 2, True),    # "no" is right for any label but 1
    ("TorF2", "\\boxed{\\text{Yes}}", 1, False), ("TorF1", "\\boxed{y}", 1, False),
    ("Counting1", "\\boxed{C}", 2, True), ("Counting1", "\\boxed{c}", 2, True),
    ("Counting1", "\\boxed{C) 5}", 2, False),
    ("Counting1", "\\boxed{2}", 2, False),
    ("Counting2", "\\boxed{ 3 }", 3, True), ("Counting3", "\\boxed{+3}", 3, True),
    ("Counting3", "\\boxed{3 lines}", 3, False),
    ("Counting2", "There are 3 lines.", 3, False),  # no phrase, no box: the whole text
    ("Counting2", "So the answer is 3.", 3, True),
])
def test_reference_plus_correctness(qtype, response, label, right):
    assert score(response, plus(qtype, label)).correct is right
    assert score(response, plus(qtype, label)).reward == (12.0 if right else 0.0)  # W 1.2 * 10


def test_robust_plus_reads_text_boxes_phrases_and_single_values():
    assert robust_answer("\\boxed{\\text{Yes}}", "TorF1") == 1  # repaired
    assert robust_answer("so: \\boxed{ True }", "TorF2") == 1
    assert robust_answer("Final answer: N", "TorF2") == 0
    assert robust_answer("\\boxed{(B) 7 stops}", "Counting1") == 1
    assert robust_answer("The answer is 12 lines. Not 13.", "Counting3") == 12
    assert robust_answer("\\boxed{-2}", "Counting2") == -2
    assert robust_answer("no idea", "Counting2") is None
    assert robust_answer("9" * 101, "Counting2") is None  # no count is that long
    assert robust_answer("\\boxed{maybe}", "TorF1") is None
    # the box's value wins over the phrase; boxes that agree are one answer, boxes that differ none
    assert robust_answer("the answer is no. \\boxed{yes}", "TorF1") == 1
    assert robust_answer("\\boxed{D}, so \\boxed{\\text{D}}", "Counting1") == 3
    assert robust_answer("\\boxed{A} \\boxed{D}", "Counting1") is None
    assert robust_answer("\\boxed{3} lines, \\boxed{maybe}", "Counting2") == 3  # a box naming no value is no vote
    # a candidate naming two values names none; one value named twice is one value
    assert robust_answer("\\boxed{2 or 3}", "Counting2") is None
    assert robust_answer("\\boxed{3 (3 lines)}", "Counting2") == 3
    assert robust_answer("\\boxed{B or C}", "Counting1") is None
    assert robust_answer("\\boxed{(c)}", "Counting1") == 2 and robust_answer("\\boxed{a}", "Counting1") == 0
    assert robust_answer("The answer is a hard one: option C", "Counting1") == 2  # "a" is the article
    assert robust_answer("Answer: A", "Counting1") == 0
    # the phrase's candidate names nothing: the whole answer is read
    assert robust_answer("The answer is below.\nThere are 4 lines.", "Counting3") == 4


def test_yes_in_a_text_box_is_wrong_in_reference_and_right_in_robust():
    b_ref, b_rob = score("\\boxed{\\text{Yes}}", plus("TorF1", 1)), score("\\boxed{\\text{Yes}}", plus("TorF1", 1), ROB)
    assert (b_ref.correct, b_ref.parsed, b_ref.reward) == (False, False, 0.0)
    assert (b_rob.correct, b_rob.format, b_rob.reward) == (True, 1.0, pytest.approx(13.2))  # 1.2 * (1 + 10)


def test_plus_format_is_the_exact_requested_form_only():
    assert plus_format_ok("Counting the stops gives 4, so \\boxed{B}", "Counting1")
    assert plus_format_ok("$\\boxed{\\text{no}}$.", "TorF1")
    assert not plus_format_ok("\\boxed{B} and more text after the box", "Counting1")
    assert not plus_format_ok("\\boxed{B) 4}", "Counting1")
    assert not plus_format_ok("\\boxed{yes}\\boxed{no}", "TorF1")
    assert not plus_format_ok("the answer is 4", "Counting2")
    assert not plus_format_ok("<think>\\boxed{4}</think>", "Counting2")
    # the format term is paid whether or not the value is right
    b = score("\\boxed{no}", plus("TorF1", 1), ROB)
    assert (b.correct, b.format, b.reward) == (False, 1.0, pytest.approx(1.2))  # 1.2 * (1 + 0)
    # and only for that form: a right value in prose is correct, without the format point
    b = score("The answer is 12 lines. Not 13.", plus("Counting3", 12), ROB)
    assert (b.correct, b.format, b.reward) == (True, 0.0, pytest.approx(12.0))  # 1.2 * (0 + 10)


# ------------------------------------------------------------------ route parsing


def test_reference_route_fields_wrong_and_glued_arrival():
    assert reference_sections("Route Name: Line 1\nDeparture Stop: Alpha Station\n") == []  # no arrival label
    [s] = reference_sections("Route Name:Line 1\nArrival Stop: Delta Station\nDeparture Stop: Alpha Station")
    # no space after "Route Name:", no newline after the departure: both are "Wrong"
    assert (s.route_name, s.departure, released_stop(s.departure)) == ("Wrong", "Wrong", "wrong")
    assert s.arrival == "Delta Station\nDeparture Stop: Alpha Station"  # all after the last Arrival Stop:
    [s] = reference_sections(A_TO_D + "\nNumber of Via Stops: 2")
    assert released_stop(s.arrival) == "deltanumberofviastops:2"  # the via line glued on
    [s] = reference_sections("Route Name: \nDeparture Stop: Alpha Station\nArrival Stop: Delta Station")
    assert s.route_name == ""  # an empty name is read, not "Wrong"
    # the labels are looked for case-insensitively; `strict` tells the exact case
    [s] = reference_sections("route name: Line 1\nDeparture Stop: Alpha Station\nArrival Stop: Delta Station")
    assert (s.strict, s.route_name) == (False, "Wrong")
    [s] = reference_sections("Route Name: Line 1\nDeparture Stop: Alpha Station\narrival stop: Delta Station")
    assert (s.strict, s.arrival) == (False, s.arrival)  # no exact "Arrival Stop:": the whole section
    assert released_stop(s.arrival) == "routename:line1departurestop:alphaarrivalstop:delta"


def test_reference_sections_split_on_every_double_dash():
    # "---" splits as "--" + "-"; a section without the three labels is skipped
    text = "intro --- " + A_TO_D + " -- nothing here -- " + section("Line 2", "Echo Station", "Bravo Station")
    names = [s.route_name for s in reference_sections(text)]
    assert names == ["Line 1", "Line 2"]


def test_robust_route_fields():
    [s], cut = robust_sections("**Route Name:** line 2\nDEPARTURE STOP:  Echo Station\nArrival Stop: Bravo Station\n"
                               "Number of Via Stops: 0")
    assert (s.route_name, s.departure, s.arrival, s.via_count, s.via_stops, cut) == \
        ("line 2", "echo", "bravo", 0, None, False)
    [s], _ = robust_sections(A_TO_D + "\nVia Stops: Bravo Station, Charlie Station")
    assert (s.arrival, s.via_stops, s.via_count) == ("delta", ("bravo", "charlie"), None)
    [s], _ = robust_sections("<think>Route Name: Line 9</think>" + A_TO_D)  # only after </think>
    assert s.route_name == "Line 1"  # names keep their case: `robust_line` matches them
    sections, cut = robust_sections(answer(*[A_TO_D] * 65))
    assert (len(sections), cut) == (64, True)


def test_robust_stops_compare_case_blind_on_both_sides():
    # `clean` rewrites "Tech", "Univ", "Road" and "Asian Games Village" only as written
    # here; the robust variant lower-cases file names and answers alike before cleaning.
    net = network_from_mapping({"Line 1": ["Tech Park Station", "Univ Road Station", "Asian Games Village Station"]})
    record = {"type": "planning", "station_1": "Tech Park Station", "station_2": "Asian Games Village Station",
              "question_transfer_count": 0, "difficulty_city": "easy"}
    exact = answer(section("Line 1", "Tech Park Station", "Asian Games Village Station"))
    shouted = answer(section("LINE 1", "TECH PARK STATION", "asian games village station"))
    for text in (exact, shouted):
        b = compute_reward(text, record, net, RewardConfig(variant="robust"))
        # W 1.0 * (format 1 if the exact labels + 10 correct + 0.5 * detail (2 + 4 on a line through both, -0))
        assert (b.correct, b.detail) == (True, 6.0)
    # the released code matches the exact spelling only
    assert compute_reward(exact, record, net).correct and not compute_reward(shouted, record, net).correct


def test_final_answer_after_thinking():
    assert final_answer("<think>a</think>b</think>c") == "c"
    assert final_answer("◁think▷a◁/think▷b") == "b"
    assert final_answer("<think>never closed \\boxed{yes}") == ""
    assert final_answer("plain") == "plain"


def test_route_format():
    assert route_format_ok(A_TO_F)
    assert route_format_ok("Let me plan.\n" + A_TO_D + "\nNumber of Via Stops: 2\n")
    assert route_format_ok(A_TO_D + "\nVia Stops: Bravo Station, Charlie Station")
    assert not route_format_ok(A_TO_D + "\nThat is all.")                     # text after the sections
    assert not route_format_ok("Route Name: Line 1\nDeparture Stop: \nArrival Stop: Delta Station")  # empty value
    assert not route_format_ok("route name: Line 1\nDeparture Stop: A\nArrival Stop: B")           # label case
    assert not route_format_ok("Take Route Name: Line 1\nDeparture Stop: A\nArrival Stop: B")       # not a line start
    assert not route_format_ok("<think>" + A_TO_D + "</think>")


# ------------------------------------------------------------------ correctness


def test_zero_transfer_route():
    b = score(A_TO_D, route("Alpha Station", "Delta Station", 0))
    # detail: +2 endpoints; section 1: 1 > 0 transfers -> -5; Line 1 holds both ends -> +4; = 1
    # W = 1.2; reward = 1.2 * (10 + 0.5 * 1) = 12.6
    assert (b.parsed, b.correct, b.detail, b.weight, b.format) == (True, True, 1.0, 1.2, 0.0)
    assert b.reward == pytest.approx(12.6)


def test_one_transfer_route():
    b = score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1))
    # W = 1.2 + 0.5; detail = 2 + 3 + 1 - 5 + 3 = 4; reward = 1.7 * (10*1 + 0.5*4) = 20.4
    assert (b.correct, b.detail, b.weight, b.reward) == (True, 4.0, 1.7, pytest.approx(20.4))


def test_two_transfer_route():
    b = score(A_TO_J, route("Alpha Station", "Juliet Station", 2, "hard"))
    # detail = 2 + (3+1) + (3+1) + (-5+3) = 8; W = 1.5 + 0.5; reward = 2 * (10 + 4) = 28
    assert (b.correct, b.detail, b.reward) == (True, 8.0, 28.0)


def test_correctness_does_not_check_order_or_optimality():
    back_and_forth = answer(section("Line 1", "Alpha Station", "Delta Station"),
                            section("Line 1", "Delta Station", "Bravo Station"))
    b = score(back_and_forth, route("Alpha Station", "Bravo Station", 0))
    # correct; detail = 2 + (-5+4) + (-5+4) = 0
    assert (b.correct, b.detail, b.reward) == (True, 0.0, 12.0)


@pytest.mark.parametrize("response, why", [
    (section("Line 1", "Alpha Station", "Charlie Station"), "last arrival is not station_2"),
    (section("Line 1", "Bravo Station", "Delta Station"), "first departure is not station_1"),
    (A_TO_F.replace("Departure Stop: Bravo", "Departure Stop: Echo"), "no transfer"),
    (A_TO_F.replace("Line 2", "Line 3"), "stop off its line"),
    (A_TO_F.replace("Line 2", "Line 9"), "no such line"),
    (A_TO_F.replace("Line 1", "line 1"), "name case"),
    (A_TO_F.replace("Line 1", "Line1"), "name spacing"),
])
def test_reference_incorrect_routes(response, why):
    assert not score(response, route("Alpha Station", "Foxtrot Station", 1)).correct, why


def test_labels_are_case_sensitive_for_correctness_and_not_for_detail():
    lower = "route name: Line 1\nDeparture Stop: Alpha Station\nArrival Stop: Delta Station"
    b = score(lower, route("Alpha Station", "Delta Station", 0))
    # no strictly parsed section: not correct. Detail sees the section, but its name is
    # read case-sensitively ("Wrong", no line): 2 - 5 = -3; reward 1.2 * 0.5 * -3 = -1.8
    assert (b.parsed, b.correct, b.detail, b.reward) == (True, False, -3.0, pytest.approx(-1.8))
    # the robust variant reads it: detail 2 + 4 = 6 (no -5 for the one section a direct ride needs);
    # no format (labels not as asked); 1.2 * (10 + 3) = 15.6
    r = score(lower, route("Alpha Station", "Delta Station", 0), ROB)
    assert (r.correct, r.detail, r.format, r.reward) == (True, 6.0, 0.0, pytest.approx(15.6))


def test_missing_space_after_label_is_wrong_in_reference_only():
    text = "Route Name:Line 1\nDeparture Stop: Alpha Station\nArrival Stop: Delta Station"
    b = score(text, route("Alpha Station", "Delta Station", 0))
    # name "Wrong": not correct; detail 2 - 5 = -3
    assert (b.correct, b.detail) == (False, -3.0)
    r = score(text, route("Alpha Station", "Delta Station", 0), ROB)
    # robust: name "line 1" -> Line 1; detail 2 + 4 = 6; format ok; 1.2 * (1 + 10 + 3) = 16.8
    assert (r.correct, r.detail, r.format, r.reward) == (True, 6.0, 1.0, pytest.approx(16.8))


def test_via_line_glued_to_arrival_in_reference_not_in_robust():
    text = A_TO_D + "\nNumber of Via Stops: 2"
    b = score(text, route("Alpha Station", "Delta Station", 0))
    assert (b.parsed, b.correct, b.detail, b.reward) == (True, False, 0.0, 0.0)  # arrival "deltanumberofviastops:2"
    r = score(text, route("Alpha Station", "Delta Station", 0), ROB)
    # arrival "delta", 2 via stops (B, C) agree; detail 2 + 4 = 6; 1.2 * (1 + 10 + 3) = 16.8
    assert (r.correct, r.detail, r.reward) == (True, 6.0, pytest.approx(16.8))


def test_batong_and_daxing_renamings():
    # 八通 -> Line 1, then 大兴 -> Line 4 (checked against the file)
    b = score(section("八通线", "Alpha Station", "Delta Station"), route("Alpha Station", "Delta Station", 0))
    assert (b.correct, b.detail) == (True, 1.0)  # 2 - 5 + 4
    b = score(section("大兴线", "东湖站", "南门站"), route("东湖站", "南门站", 0))
    assert (b.correct, b.detail) == (True, 1.0)
    # a name with both: 八通 first makes it "Line 1", which holds no 大兴 -> Line 1
    assert score(A_TO_D.replace("Line 1", "八通大兴"), route("Alpha Station", "Delta Station", 0)).correct


def test_clean_pass_counts():
    # the file's 火车西站站 is cleaned once: 火车西站; station_1 likewise. A parsed stop is
    # cleaned twice: 火车西站站 -> 火车西站 -> 火车西, which matches nothing.
    assert (clean("火车西站站"), clean(clean("火车西站站"))) == ("火车西站", "火车西")
    record = route("火车西站站", "南门站", 0)
    assert not score(section("Line 4", "火车西站站", "南门站"), record).correct
    assert score(section("Line 4", "火车西站站", "南门站"), record).detail == 0.0
    # ... and 火车西站站站 (twice: 火车西站) is right
    b = score(section("Line 4", "火车西站站站", "南门站"), record)
    assert (b.correct, b.detail) == (True, 1.0)  # 2 - 5 + 4
    # robust cleans every name once: the name as written is right
    assert score(section("Line 4", "火车西站站", "南门站"), record, ROB).correct


# ------------------------------------------------------------------ detail


def test_early_minus_five_and_its_repair():
    b = score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1))
    r = score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1), ROB)
    # reference 2 + (3+1) + (-5+3) = 4; robust: -5 only past transfers + 1 sections: 2 + (3+1) + 3 = 9
    assert (b.detail, r.detail) == (4.0, 9.0)
    assert r.reward == pytest.approx(1.7 * (1 + 10 + 4.5))  # 26.35


def test_plus_four_only_for_a_line_holding_both_endpoints():
    # no transfers: Line 2 is the line holding Bravo and Foxtrot
    b = score(section("Line 2", "Bravo Station", "Foxtrot Station"), route("Bravo Station", "Foxtrot Station", 0))
    assert b.detail == 1.0  # 2 - 5 + 4
    # a valid line that does not hold both endpoints earns nothing without transfers
    detour = answer(section("Line 1", "Bravo Station", "Delta Station"),
                    section("Line 3", "Delta Station", "Golf Station"),
                    section("Line 2", "Golf Station", "Foxtrot Station"))
    b = score(detour, route("Bravo Station", "Foxtrot Station", 0))
    # 2 + (-5+0) + (-5+0) + (-5+4) = -9 (no floor); correct (a valid chain); 1.2 * (10 - 4.5) = 6.6
    assert (b.correct, b.detail, b.reward) == (True, -9.0, pytest.approx(6.6))
    # with transfers every valid line earns +3
    b = score(detour, route("Bravo Station", "Foxtrot Station", 2))
    # 2 + (3+1) + (3+1) + (-5+3) = 8
    assert b.detail == 8.0


def test_plus_one_needs_both_stops_on_the_line_and_a_matching_next_departure():
    record = route("Alpha Station", "Foxtrot Station", 1)
    off_line = A_TO_F.replace("Bravo", "Echo")
    # Echo is not on Line 1: 2 + 3 + (-5+3) = 3, no +1; not correct
    assert (score(off_line, record).detail, score(off_line, record).correct) == (3.0, False)
    broken = A_TO_F.replace("Departure Stop: Bravo", "Departure Stop: Echo")
    assert score(broken, record).detail == 3.0  # arrival Bravo is not the next departure Echo
    # i <= transfers: with 0 transfers the +1 is never paid
    two = answer(section("Line 1", "Alpha Station", "Bravo Station"),
                 section("Line 1", "Bravo Station", "Delta Station"))
    assert score(two, route("Alpha Station", "Delta Station", 0)).detail == 0.0  # 2 + (-5+4) + (-5+4)


def test_detail_is_zero_unless_both_endpoints_match_in_reference_and_either_in_robust():
    record = route("Alpha Station", "Foxtrot Station", 1)
    half = A_TO_F.replace("Foxtrot", "Golf")
    assert score(half, record).detail == 0.0
    # robust: the departure matches, enough for +2; 2 + (3+1) + 3 = 9; W 1.7 * (1 + 0 + 4.5) = 9.35
    r = score(half, record, ROB)
    assert (r.correct, r.detail, r.reward) == (False, 9.0, pytest.approx(9.35))
    # the arrival alone matching is enough too: B -> F on Line 2 for A -> F: 2 + 3 = 5
    assert score(section("Line 2", "Bravo Station", "Foxtrot Station"), record, ROB).detail == 5.0
    neither = section("Line 1", "Charlie Station", "Delta Station")
    assert score(neither, route("Alpha Station", "Golf Station", 1), ROB).detail == 0.0


def test_detail_cap_without_floor():
    assert score(E_TO_J, route("Echo Station", "Juliet Station", 3)).detail == 10.0  # 12 capped
    many = answer(*[section("Line 9", "Alpha Station", "Delta Station")] * 6)
    b = score(many, route("Alpha Station", "Delta Station", 0, "easy"))
    # 2 + 6 * -5 = -28; not correct; reward 1.0 * 0.5 * -28 = -14
    assert (b.detail, b.reward) == (-28.0, -14.0)


def test_robust_line_names():
    b_to_f = route("Bravo Station", "Foxtrot Station", 0)
    for name in ("Line 2", "line 2", "2号线", "Line2", "LINE 02", "Metro Line 2"):
        assert score(section(name, "Bravo Station", "Foxtrot Station"), b_to_f, ROB).correct, name
    assert line_key("Linea A") == line_key("Line A") == "a"
    assert not score(section("Line 22", "Bravo Station", "Foxtrot Station"), b_to_f, ROB).correct


def test_robust_checks_stated_via_stops_against_the_ride():
    record = route("Alpha Station", "Delta Station", 0)
    ok = [A_TO_D + "\nVia Stops: Bravo Station, Charlie Station", A_TO_D + "\nNumber of Via Stops: 2"]
    bad = [A_TO_D + "\nVia Stops: Charlie Station, Bravo Station", A_TO_D + "\nNumber of Via Stops: 3"]
    assert all(score(text, record, ROB).correct for text in ok)
    assert not any(score(text, record, ROB).correct for text in bad)
    # a section must ride somewhere (the reference takes it)
    nowhere = (section("Line 1", "Alpha Station", "Alpha Station"), route("Alpha Station", "Alpha Station", 0))
    assert score(*nowhere).correct and not score(*nowhere, ROB).correct
    # a circle line may be ridden either way: J -> L passes K one way, M the other
    ring = route("Juliet Station", "Lima Station", 0)
    for via in ("Kilo Station", "Mike Station"):
        assert score(section("Ring", "Juliet Station", "Lima Station", f"\nVia Stops: {via}"), ring, ROB).correct
    assert not score(section("Ring", "Juliet Station", "Lima Station", "\nVia Stops: India Station"), ring, ROB).correct


# ------------------------------------------------------------------ inputs that are not answers


@pytest.mark.parametrize("record", [
    None, {}, {"type": "Counting4", "answer": 1, "difficulty_city": "easy"},
    plus("TorF1", "1"), plus("TorF1", 1, "extreme"), plus("TorF1", True), plus("Counting2", 2.5),
    route("Alpha Station", "Delta Station", -1), route("Alpha Station", "Delta Station", "1"),
    route("Alpha Station", None, 0),
    {**route("Alpha Station", "Delta Station", 0), "difficulty_city": None},
])
def test_malformed_records_give_the_zero_breakdown(record):
    assert compute_reward(A_TO_D, record, NET) == ZERO
    assert compute_reward("\\boxed{1}", record, NET, ROB) == ZERO


def test_route_without_network_and_non_string_responses():
    assert compute_reward(A_TO_D, route("Alpha Station", "Delta Station", 0), None) == ZERO
    for response in (None, 42, b"\\boxed{yes}", ["\\boxed{yes}"]):
        b = compute_reward(response, plus("TorF1", 1), None, ROB)
        assert (b.parsed, b.correct, b.reward, b.weight) == (False, False, 0.0, 1.2)


def test_breakdown_as_dict_and_finite():
    d = score(A_TO_F, route("Alpha Station", "Foxtrot Station", 1)).as_dict()
    assert list(d) == ["parsed", "correct", "detail", "weight", "format", "reward"]
    assert all(math.isfinite(float(v)) for v in d.values())


