"""What reward hacks earn in each variant (the table in docs/rewards.md), and golden
cases on the real ReasonMap station files."""

import pytest
from test_rewards import A_TO_D, A_TO_F, E_TO_J, NET, ROB, answer, plus, route, score, section

from rewardmap.network import load_station_file
from rewardmap.rewards import RewardConfig, compute_reward

Q_ROUTE = route("Alpha Station", "Foxtrot Station", 1)  # W = 1.2 + 0.5
Q_DIRECT = route("Alpha Station", "Delta Station", 0)  # W = 1.2
Q_YES = plus("TorF1", 1)  # W = 1.2
EVERY = ", ".join(NET.stations)
DETOUR = answer(section("Line 1", "Alpha Station", "Delta Station"), section("Line 3", "Delta Station", "Golf Station"),
                section("Line 2", "Golf Station", "Bravo Station"),
                section("Line 2", "Bravo Station", "Foxtrot Station"))

Q_THREE = route("Echo Station", "Juliet Station", 3)  # W = 1.2 + 0.5
Q_COUNT = plus("Counting2", 3)  # W = 1.2
NOWHERE = answer(*(section(line, "Echo Station", "Echo Station") for line in ("Line 2", "Line 1", "Line 3", "Line 5")))
SPLIT = answer(section("Line 2", "Echo Station", "Bravo Station"),
               section("Line 1", "Bravo Station", "Charlie Station"),
               section("Line 1", "Charlie Station", "Delta Station"),
               section("Line 3", "Delta Station", "India Station"),
               section("Line 5", "India Station", "Juliet Station"))

HACKS = [
    # (what, record, response, reference reward, robust reward)
    # right: ref 1.7 * (10 + 0.5 * 4); robust 1.7 * (1 + 10 + 0.5 * 9)
    ("the right route", Q_ROUTE, A_TO_F, 20.4, 26.35),
    ("the right Plus answer", Q_YES, "\\boxed{yes}", 12.0, 13.2),
    # ref 2 + 3 * (3+1) + (-5+3) = 12, capped 10: 1.7 * 15; robust 2 + 3 * (3+1) + 3 = 17 -> 10: 1.7 * 16
    ("the right three-transfer route", Q_THREE, E_TO_J, 25.5, 27.2),
    ("the right count", Q_COUNT, "\\boxed{3}", 12.0, 13.2),
    # stops that clean to no station: nothing but robust's format point, 1.7 * 1
    ("every station in one section", Q_ROUTE, section("Line 1", EVERY, EVERY), 0.0, 1.7),
    # a valid chain is correct whatever its order; ref detail 2 + (3+1) + 3*(-5+3) = 0 -> 1.7 * 10;
    # robust: credit 2 + (3+1) + 3 * 3 = 15, capped 10, then 2 * -5 = 0 -> 1.7 * (1 + 10)
    ("a valid detour", Q_ROUTE, DETOUR, 17.0, 18.7),
    # the optimal plan with Line 1 split at Charlie: ref 2 + 2 * (3+1) + (3+1) - 2 * 2 = 10, the
    # right route's capped 10 (a tie); robust 2 + 3 * (3+1) + 2 * 3 = 20 -> 10, - 5 = 5: 1.7 * 13.5
    ("an extra same-line split", Q_THREE, SPLIT, 25.5, 22.95),
    # ref: the last arrival is not Juliet, 0; robust: no section rides, no detail: 1.7 * 1 (format)
    ("a route that never leaves", Q_THREE, NOWHERE, 0.0, 1.7),
    # F -> A breaks the chain: not correct. ref detail 2 + (3+1) + 3*(-5+3) = 0;
    # robust 2 + (3+1) + 3 * 3 = 15 -> 10, then 2 * -5 = 0: 1.7 * 1 (format)
    ("the right route twice", Q_ROUTE, answer(A_TO_F, A_TO_F), 0.0, 1.7),
    # ref 2 + 2*(-5+4) = 0; robust 2 + 4 + 4 = 10, then -5 = 5: 1.2 * (1 + 2.5)
    ("the right direct section twice", Q_DIRECT, answer(A_TO_D, A_TO_D), 0.0, 4.2),
    # ref reads "a,b,c,d" (no letter); robust: four values are no answer
    ("all four options, answer A", plus("Counting1", 0), "\\boxed{A, B, C, D}", 0.0, 0.0),
    ("all four options, answer C", plus("Counting1", 2), "\\boxed{A, B, C, D}", 0.0, 0.0),
    ("all four options unboxed", plus("Counting1", 0), "A/B/C/D", 0.0, 0.0),
    # a lower-case "a" is the article, not option A
    ("a stray article", plus("Counting1", 0), "It is a station on two lines.", 0.0, 0.0),
    ("several numbers in one box", Q_COUNT, "\\boxed{1, 2, 3, 4, 5}", 0.0, 0.0),
    ("a range", plus("Counting2", 1), "\\boxed{1-10}", 0.0, 0.0),
    ("yes or no", Q_YES, "\\boxed{yes or no}", 0.0, 0.0),
    # ref reads the last box; robust: two boxes that disagree are no answer
    ("boxed no then yes", Q_YES, "\\boxed{no} \\boxed{yes}", 12.0, 0.0),
    ("boxed yes then no", Q_YES, "\\boxed{yes} \\boxed{no}", 0.0, 0.0),
    # ref: int() reads any Unicode decimal digit; robust reads ASCII digits and pays its format
    # point only for what it reads
    ("an Arabic-Indic digit", Q_COUNT, "\\boxed{\u0663}", 12.0, 0.0),
    ("a mathematical bold digit", Q_COUNT, "\\boxed{\U0001d7d1}", 12.0, 0.0),
    ("the answer only inside think", Q_YES, "<think>the answer is \\boxed{yes}</think>", 12.0, 0.0),
    ("the route only inside think", Q_ROUTE, "<think>\n" + A_TO_F + "\n--\n</think>", 20.4, 0.0),
    ("thinking never closed", Q_YES, "<think>\\boxed{yes}", 12.0, 0.0),
    ("empty Plus answer", Q_YES, "", 0.0, 0.0),
    ("empty route answer", Q_ROUTE, "", 0.0, 0.0),
]
RIGHT = 4  # the first four rows are right answers, one per question above


@pytest.mark.parametrize("what, record, response, reference, robust", HACKS, ids=[h[0] for h in HACKS])
def test_reward_hacks(what, record, response, reference, robust):
    assert score(response, record).reward == pytest.approx(reference)
    assert score(response, record, ROB).reward == pytest.approx(robust)


def test_no_hack_earns_more_than_the_right_answer_and_robust_ranks_every_one_below_it():
    for column in (3, 4):
        right = {id(h[1]): h[column] for h in HACKS[:RIGHT]}
        for hack in HACKS[RIGHT:]:
            if id(hack[1]) in right:
                assert hack[column] <= right[id(hack[1])], hack[0]
                if column == 4:
                    assert hack[column] < right[id(hack[1])], hack[0]


# ------------------------------------------------------------------ golden cases, real files


@pytest.fixture(scope="module")
def city(real_data):
    def load(path):
        return load_station_file(real_data / "stations" / path, strict=False)
    return load


def test_beijing_direct_ride_on_either_line_holding_both_ends(city):
    beijing = city("china/beijing.json")
    record = route("西直门站", "东直门站", 0, "hard")
    for line in ("Line 2", "Line 13"):  # both hold both ends: +4 either way
        b = compute_reward(section(line, "西直门站", "东直门站"), record, beijing)
        # detail 2 - 5 + 4 = 1; W 1.5; 1.5 * (10 + 0.5) = 15.75
        assert (b.correct, b.detail, b.reward) == (True, 1.0, 15.75), line
    b = compute_reward(section("Line 4", "西直门站", "东直门站"), record, beijing)
    assert (b.correct, b.detail) == (False, -3.0)  # 东直门 is not on Line 4; 2 - 5 + 0
    r = compute_reward(section("2号线", "西直门", "东直门"), record, beijing, ROB)
    # robust: 2号线 is Line 2, 西直门 cleans as 西直门站 does; detail 2 + 4 = 6; 1.5 * (1 + 10 + 3)
    assert (r.correct, r.detail, r.reward) == (True, 6.0, 21.0)


def test_beijing_one_transfer(city):
    beijing = city("china/beijing.json")
    text = answer(section("Line 6", "苹果园站", "朝阳门站"), section("Line 2", "朝阳门站", "东直门站"))
    record = route("苹果园站", "东直门站", 1, "hard")
    b = compute_reward(text, record, beijing)
    # detail 2 + (3+1) + (-5+3) = 4; W = 1.5 + 0.5; 2 * (10 + 2) = 24
    assert (b.correct, b.detail, b.reward) == (True, 4.0, 24.0)
    # robust: 2 + (3+1) + 3 = 9; 2 * (1 + 10 + 4.5) = 31
    assert compute_reward(text, record, beijing, ROB).reward == 31.0
    long = answer(section("Line 6", "苹果园站", "朝阳门站", "\nNumber of Via Stops: 15"),
                  section("Line 2", "朝阳门站", "东直门站", "\nNumber of Via Stops: 1"))
    assert not compute_reward(long, record, beijing).correct  # glued via lines
    assert compute_reward(long, record, beijing, ROB).correct
    wrong_count = long.replace("Stops: 15", "Stops: 14")
    assert not compute_reward(wrong_count, record, beijing, ROB).correct


def test_rome_line_names(city):
    rome = city("italy/rome.json")
    record = route("Battistini Station", "Colosseo Station", 1, "easy")
    text = answer(section("Line A", "Battistini Station", "Termini Station"),
                  section("Line B", "Termini Station", "Colosseo Station"))
    # detail 2 + (3+1) + (-5+3) = 4; W = 1.0 + 0.5; 1.5 * 12 = 18
    assert compute_reward(text, record, rome).reward == 18.0
    linea = text.replace("Line A", "Linea A").replace("Line B", "Metro B")
    b = compute_reward(linea, record, rome)
    # not lines of the file: not correct; detail 2 + 0 + (-5 + 0) = -3; 1.5 * 0.5 * -3 = -2.25
    assert (b.correct, b.detail, b.reward) == (False, -3.0, -2.25)
    r = compute_reward(linea, record, rome, ROB)
    # robust: 2 + (3+1) + 3 = 9; 1.5 * (1 + 10 + 4.5) = 23.25
    assert (r.correct, r.reward) == (True, 23.25)


def test_changsha_station_whose_name_ends_in_two_zhan(city):
    changsha = city("china/changsha.json")
    record = route("平阳站", "长沙火车南站站", 0, "hard")
    as_written = section("Line 4", "平阳站", "长沙火车南站站")
    # cleaned twice the arrival is 长沙火车南, the file's name once 长沙火车南站: no match
    assert compute_reward(as_written, record, changsha).reward == 0.0
    # one more 站 survives the two passes: detail 2 - 5 + 4 = 1; 1.5 * (10 + 0.5) = 15.75
    assert compute_reward(section("Line 4", "平阳站", "长沙火车南站站站"), record, changsha).reward == 15.75
    # robust cleans once: detail 2 + 4 = 6; 1.5 * (1 + 10 + 3) = 21
    assert compute_reward(as_written, record, changsha, ROB).reward == 21.0


def test_plus_on_real_maps_has_no_network_needs(city):
    b = compute_reward("So the answer is \\boxed{3}.", {"type": "Counting3", "answer": 3, "difficulty_city": "easy"},
                       city("italy/rome.json"), RewardConfig(variant="robust"))
    assert (b.correct, b.format, b.reward) == (True, 1.0, 11.0)


def test_beijing_line_16_keeps_the_released_quirk_of_a_space_before_a_marker(city):
    """The file writes `东管头南站 （换乘站）`: deleting the marker by plain replacement, as the
    released code does, leaves a trailing space that hides the 站 from `clean`, so the file
    name cleans to 东管头南站 while an answer's (cleaned twice) gives 东管头南."""
    beijing = city("china/beijing.json")
    stations = beijing.lines["Line 16"].stations
    at = stations.index("东管头南站")
    to_it = route(stations[at - 2], "东管头南站", 0, "easy")
    text = section("Line 16", stations[at - 2], "东管头南站")
    b = compute_reward(text, to_it, beijing)
    # not correct (the arrival is on no line); detail 2 - 5 + 0 (no line holds both ends) = -3
    assert (b.correct, b.detail, b.reward) == (False, -3.0, -1.5)
    r = compute_reward(text, to_it, beijing, ROB)  # robust: right; 2 + 4 = 6; 1 * (1 + 10 + 3)
    assert (r.correct, r.reward) == (True, 14.0)
    past = section("Line 16", stations[at - 2], stations[at + 1])  # through it, not to it: right as released
    assert compute_reward(past, route(stations[at - 2], stations[at + 1], 0, "easy"), beijing).reward == 10.5
